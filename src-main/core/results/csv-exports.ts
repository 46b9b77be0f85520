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
    return { file: params.file, rows: await writePredictionsCsv(params.file, model.name, model.classes, rows()) };
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
    return { file: params.file, rows: await writeSegmentsCsv(params.file, rows) };
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
