/** The CSV exports of a project's labels and of a model's predictions, segments and probe (docs/formats.md). */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { VideoRecord } from '../store/videos.ts';
import { frameToSeconds } from '../store/timebase.ts';
import { exportLabels } from '../export/labels-export.ts';
import { writePredictionsCsv, type PredictionCsvRow } from '../export/predictions-csv.ts';
import { writeSegmentsCsv, type SegmentCsvRow } from '../export/segments-csv.ts';
import { writeProbeCsv, type ProbeCsvRow } from '../export/probe-csv.ts';
import { predictedVideos, segmentsOf, type SegmentSettings } from './windows.ts';
import { probeResults } from './probe.ts';

export interface CsvExportResult {
  file: string;
  rows: number;
  /** Set when the rows come from a predict job that did not finish: the file holds only what it wrote. */
  incomplete?: string;
}

/** A warning when some of the predictions come from predict jobs that stopped before the end, else undefined. */
function unfinishedJobs(project: Project, jobIds: Iterable<number | null>): string | undefined {
  const unfinished = [...new Set(jobIds)]
    .flatMap((id) => (id === null ? [] : [project.jobs.get(id)]))
    .filter((job) => job !== null && job.status !== 'done');
  if (unfinished.length === 0) return undefined;
  const which = unfinished.map((job) => `job ${job!.id} (${job!.status})`).join(', ');
  return `incomplete: predict ${which} did not finish, so the file holds only the windows predicted before it stopped; run predict again for the rest`;
}

/** The newest model of the project, for exports that name none. */
export function latestModelId(project: Project): number {
  const models = project.models.list();
  if (!models.length) throw new UserError('not_found', 'The project has no model yet; train or import one first.');
  return models[models.length - 1].id;
}

export async function exportCsv(
  project: Project,
  params: { kind: 'labels' | 'predictions' | 'segments' | 'probe'; file: string; modelId?: number; jobId?: number } & SegmentSettings,
): Promise<CsvExportResult> {
  if (params.kind === 'labels') return exportLabels(project, params.file);
  const jobModel = params.jobId !== undefined ? project.jobs.require(params.jobId).modelId : null;
  const modelId = params.modelId ?? jobModel ?? latestModelId(project);
  const model = project.models.require(modelId);
  if (params.kind === 'predictions') {
    const videos = [...predictedVideos(project, modelId, 'forward', params.jobId), ...predictedVideos(project, modelId, 'reversed', params.jobId)];
    if (!videos.length) throw new UserError('not_found', `Model ${modelId} ("${model.name}") has no predictions; run predict first.`);
    function* rows(): Iterable<PredictionCsvRow> {
      for (const { video, rows: windows } of videos.sort((a, b) => a.video.id - b.video.id)) {
        for (const w of windows) {
          yield {
            video: video.name, videoPath: video.path, direction: w.direction, window: w.windowIndex, startFrame: w.startFrame,
            endFrame: w.endFrame, startS: frameToSeconds(video, w.startFrame), endS: frameToSeconds(video, w.endFrame), probabilities: w.probabilities,
          };
        }
      }
    }
    const incomplete = unfinishedJobs(project, videos.map((v) => v.jobId));
    return { file: params.file, rows: await writePredictionsCsv(params.file, model.name, model.classes, rows()), ...(incomplete ? { incomplete } : {}) };
  }
  if (params.kind === 'segments') {
    const videos = predictedVideos(project, modelId, 'forward', params.jobId);
    if (!videos.length) throw new UserError('not_found', `Model ${modelId} ("${model.name}") has no forward predictions; run predict first.`);
    const rows: SegmentCsvRow[] = videos.flatMap(({ video, rows: windows }) =>
      segmentsOf(video, model.classes, windows, params).map((s) => ({
        video: video.name, startFrame: s.startFrame, endFrame: s.endFrame, startS: frameToSeconds(video, s.startFrame),
        endS: frameToSeconds(video, s.endFrame), label: s.label, meanScore: s.meanScore,
      })),
    );
    const incomplete = unfinishedJobs(project, videos.map((v) => v.jobId));
    return { file: params.file, rows: await writeSegmentsCsv(params.file, rows), ...(incomplete ? { incomplete } : {}) };
  }
  const results = probeResults(project, params.jobId !== undefined ? { jobId: params.jobId } : { modelId });
  const videoCache = new Map<number, VideoRecord>();
  const videoOf = (id: number) => videoCache.get(id) ?? videoCache.set(id, project.videos.require(id)).get(id)!;
  const rows: ProbeCsvRow[] = results.map((r) => ({
    ...r, clip: r.clipId, label: r.label ?? '', expectedReversed: r.expectedReversed ?? r.label ?? '',
    startS: frameToSeconds(videoOf(r.videoId), r.startFrame), endS: frameToSeconds(videoOf(r.videoId), r.endFrame),
  }));
  return { file: params.file, rows: await writeProbeCsv(params.file, rows) };
}
