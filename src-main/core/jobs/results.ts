/**
 * Read side of the jobs' results: training curves, window probabilities for the timeline, the review queue,
 * accepting a prediction as a label, probe rows and summaries, and the CSV exports of DESIGN §4.
 */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ClipRecord } from '../store/clips.ts';
import type { PredictionRecord, ProbeResultRecord } from '../store/results.ts';
import type { VideoRecord } from '../store/videos.ts';
import { frameToSeconds } from '../store/timebase.ts';
import { exportLabels } from '../export/labels-export.ts';
import { writePredictionsCsv, type PredictionCsvRow } from '../export/predictions-csv.ts';
import { writeSegmentsCsv, type SegmentCsvRow } from '../export/segments-csv.ts';
import { writeProbeCsv, type ProbeCsvRow } from '../export/probe-csv.ts';
import { argmax } from './metrics.ts';
import { summarizeProbe, type ProbeSummary } from './probe-summary.ts';
import { windowsToSegments, type Segment } from './segments.ts';
import type { Evaluation } from './metrics.ts';

/** One epoch of a training run: training loss/top-1 and, with a validation split, the validation figures. */
export interface EpochMetrics {
  epoch: number;
  train: { loss: number | null; top1: number | null } | null;
  val: ({ loss: number | null; top1: number | null } & Partial<Pick<Evaluation, 'perClass' | 'confusion'>>) | null;
}

export interface MetricsResult {
  jobId: number | null;
  modelId: number | null;
  /** Class order of the confusion matrices. */
  classes: string[];
  epochs: EpochMetrics[];
}

export interface WindowPrediction {
  index: number;
  startFrame: number;
  endFrame: number;
  probabilities: number[];
}

export interface WindowsResult {
  classes: string[];
  /** The predict job the windows come from (the latest one for this model and video). */
  jobId: number | null;
  windows: WindowPrediction[];
}

export interface ReviewItem {
  videoId: number;
  video: string;
  windowIndex: number;
  startFrame: number;
  endFrame: number;
  top1: string;
  top1Score: number;
  second: string;
  secondScore: number;
  /** 1 − (top-1 score − second score): 1 is a coin flip, 0 a sure call. */
  uncertainty: number;
}

/** A stored probe row as the UI and CSV show it: the class and video by name instead of by id. */
export type ProbeResultView = Pick<
  ProbeResultRecord,
  | 'clipId' | 'videoId' | 'startFrame' | 'endFrame' | 'forwardTop1' | 'forwardScore' | 'reversedTop1' | 'reversedScore'
  | 'expectedReversed' | 'flipped' | 'jsDivergence'
> & {
  video: string;
  /** The clip's class name; null for a window that is not a labelled clip. */
  label: string | null;
};

export interface CsvExportResult {
  file: string;
  rows: number;
  /** Set when the rows come from a predict job that did not finish: the file holds only what it wrote. */
  incomplete?: string;
}

export interface SegmentSettings {
  thresholds?: Record<string, number>;
  defaultThreshold?: number;
  minDurationS?: number;
}

function latestJob(project: Project, kind: 'train' | 'predict' | 'probe', modelId: number): number | null {
  const row = project.db
    .prepare("SELECT id FROM jobs WHERE kind = ? AND model_id = ? AND status = 'done' ORDER BY id DESC LIMIT 1")
    .pluck()
    .get(kind, modelId) as number | undefined;
  return row ?? null;
}

/** The newest model of the project, for exports that name none. */
export function latestModelId(project: Project): number {
  const models = project.models.list();
  if (!models.length) throw new UserError('not_found', 'The project has no model yet; train or import one first.');
  return models[models.length - 1].id;
}

export function trainingMetrics(project: Project, query: { jobId?: number; modelId?: number }): MetricsResult {
  let jobId = query.jobId ?? null;
  if (jobId === null && query.modelId !== undefined) {
    jobId = (project.db.prepare("SELECT id FROM jobs WHERE kind = 'train' AND model_id = ? ORDER BY id DESC LIMIT 1").pluck().get(query.modelId) as number | undefined) ?? null;
  }
  if (jobId === null) throw new UserError('bad_request', 'metrics.get needs a jobId or a modelId that a training job produced.');
  const job = project.jobs.require(jobId);
  const rows = project.metrics.list({ jobId });
  const byEpoch = new Map<number, EpochMetrics>();
  for (const r of rows) {
    const entry = byEpoch.get(r.epoch) ?? { epoch: r.epoch, train: null, val: null };
    if (r.split === 'train') entry.train = { loss: r.loss, top1: r.top1 };
    else entry.val = { loss: r.loss, top1: r.top1, ...(r.perClass ? { perClass: r.perClass as never } : {}), ...(r.confusion ? { confusion: r.confusion } : {}) };
    byEpoch.set(r.epoch, entry);
  }
  const model = job.modelId !== null ? project.models.get(job.modelId) : null;
  return { jobId, modelId: job.modelId, classes: model?.classes ?? [], epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch) };
}

function predictionsFor(
  project: Project,
  modelId: number,
  videoId: number,
  direction: 'forward' | 'reversed',
  onlyJob?: number,
): { jobId: number | null; rows: PredictionRecord[] } {
  // The given job, or the latest predict job of this model that covered this video.
  const jobId = onlyJob ?? (project.db
    .prepare('SELECT job_id FROM predictions WHERE model_id = ? AND video_id = ? AND direction = ? ORDER BY job_id DESC LIMIT 1')
    .pluck()
    .get(modelId, videoId, direction) as number | undefined) ?? null;
  if (jobId === null) return { jobId, rows: [] };
  return { jobId, rows: project.predictions.list({ jobId, videoId, direction }) };
}

export function windowPredictions(project: Project, videoId: number, modelId: number, direction: 'forward' | 'reversed'): WindowsResult {
  const model = project.models.require(modelId);
  project.videos.require(videoId);
  const { jobId, rows } = predictionsFor(project, modelId, videoId, direction);
  return {
    classes: model.classes,
    jobId,
    windows: rows.map((r) => ({ index: r.windowIndex, startFrame: r.startFrame, endFrame: r.endFrame, probabilities: Array.from(r.probabilities) })),
  };
}

function segmentsOf(video: VideoRecord, classes: string[], rows: PredictionRecord[], settings: SegmentSettings): Segment[] {
  const pts = video.framePts;
  const fps = pts && pts.length > 1 ? (pts.length - 1) / (pts[pts.length - 1] - pts[0]) : (video.fps ?? 1);
  return windowsToSegments(rows, classes, {
    thresholds: settings.thresholds,
    defaultThreshold: settings.defaultThreshold,
    minFrames: Math.max(1, Math.round((settings.minDurationS ?? 0) * fps)),
  });
}

export function videoSegments(project: Project, videoId: number, modelId: number, settings: SegmentSettings): Segment[] {
  const model = project.models.require(modelId);
  const video = project.videos.require(videoId);
  return segmentsOf(video, model.classes, predictionsFor(project, modelId, videoId, 'forward').rows, settings);
}

/** Videos with forward predictions of a model, each with its latest predict job's rows. */
function predictedVideos(
  project: Project,
  modelId: number,
  direction: 'forward' | 'reversed',
  onlyJob?: number,
): Array<{ video: VideoRecord; rows: PredictionRecord[]; jobId: number | null }> {
  const ids = project.db
    .prepare('SELECT DISTINCT video_id FROM predictions WHERE model_id = ? AND (? IS NULL OR job_id = ?) ORDER BY video_id')
    .pluck()
    .all(modelId, onlyJob ?? null, onlyJob ?? null) as number[];
  return ids
    .map((id) => ({ video: project.videos.require(id), ...predictionsFor(project, modelId, id, direction, onlyJob) }))
    .filter((v) => v.rows.length > 0);
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

export function reviewQueue(project: Project, modelId: number, limit: number): ReviewItem[] {
  const model = project.models.require(modelId);
  const items: ReviewItem[] = [];
  for (const { video, rows } of predictedVideos(project, modelId, 'forward')) {
    const clips = project.clips.list({ videoId: video.id });
    for (const r of rows) {
      if (clips.some((c) => c.startFrame < r.endFrame && r.startFrame < c.endFrame)) continue;
      const p = Array.from(r.probabilities);
      const first = argmax(p);
      const rest = p.map((v, i) => (i === first ? -1 : v));
      const second = argmax(rest);
      items.push({
        videoId: video.id, video: video.name, windowIndex: r.windowIndex, startFrame: r.startFrame, endFrame: r.endFrame,
        top1: model.classes[first], top1Score: p[first], second: model.classes[second] ?? model.classes[first], secondScore: p.length > 1 ? p[second] : 0,
        uncertainty: 1 - (p[first] - (p.length > 1 ? p[second] : 0)),
      });
    }
  }
  return items.sort((a, b) => b.uncertainty - a.uncertainty).slice(0, limit);
}

export function acceptPrediction(project: Project, params: { modelId: number; videoId: number; windowIndex: number; classId?: number }): ClipRecord {
  const model = project.models.require(params.modelId);
  const { rows } = predictionsFor(project, params.modelId, params.videoId, 'forward');
  const window = rows.find((r) => r.windowIndex === params.windowIndex);
  if (!window) throw new UserError('not_found', `Model ${params.modelId} has no prediction for window ${params.windowIndex} of video ${params.videoId}.`);
  let classId = params.classId;
  if (classId === undefined) {
    const name = model.classes[argmax(window.probabilities)];
    const cls = project.classes.findByName(name);
    if (!cls) throw new UserError('not_found', `The predicted class "${name}" is not a class of this project; pick a class to label the window with.`);
    classId = cls.id;
  }
  return project.clips.create({ videoId: params.videoId, classId, startFrame: window.startFrame, endFrame: window.endFrame, source: 'prediction' });
}

function probeJobOf(project: Project, query: { jobId?: number; modelId?: number }): number {
  const jobId = query.jobId ?? (query.modelId !== undefined ? latestJob(project, 'probe', query.modelId) : null);
  if (jobId === null) throw new UserError('not_found', query.modelId !== undefined ? `Model ${query.modelId} has not been probed yet.` : 'Name a probe job or a model.');
  return jobId;
}

export function probeResults(project: Project, query: { jobId?: number; modelId?: number }): ProbeResultView[] {
  const jobId = probeJobOf(project, query);
  const names = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const videos = new Map<number, string>();
  const videoName = (id: number) => videos.get(id) ?? videos.set(id, project.videos.get(id)?.name ?? `video ${id}`).get(id)!;
  return project.probes.list({ jobId }).map((r) => ({
    clipId: r.clipId, videoId: r.videoId, video: videoName(r.videoId), label: r.classId !== null ? (names.get(r.classId) ?? null) : null,
    startFrame: r.startFrame, endFrame: r.endFrame, forwardTop1: r.forwardTop1, forwardScore: r.forwardScore,
    reversedTop1: r.reversedTop1, reversedScore: r.reversedScore, expectedReversed: r.expectedReversed, flipped: r.flipped,
    jsDivergence: r.jsDivergence,
  }));
}

export function probeSummary(project: Project, query: { jobId?: number; modelId?: number }): ProbeSummary & { jobId: number } {
  const jobId = probeJobOf(project, query);
  const rows = probeResults(project, { jobId });
  const summary = summarizeProbe(rows.map((r) => ({
    ...r, label: r.label ?? '?', expectedReversed: r.expectedReversed ?? r.label ?? '?',
    paired: r.expectedReversed !== null && r.expectedReversed !== r.label,
  })));
  return { ...summary, jobId };
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
