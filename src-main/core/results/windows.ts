/** A model's window probabilities over a video, as the timeline shows them, and the segments made of them. */
import type { Project } from '../store/project.ts';
import type { PredictionRecord } from '../store/results.ts';
import type { VideoRecord } from '../store/videos.ts';
import { windowsToSegments, type Segment } from '../jobs/segments.ts';

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

export interface SegmentSettings {
  thresholds?: Record<string, number>;
  defaultThreshold?: number;
  minDurationS?: number;
}

/** The windows of the given predict job, else of the newest one of this model that covered this video. */
export function predictionsFor(
  project: Project,
  modelId: number,
  videoId: number,
  direction: 'forward' | 'reversed',
  onlyJob?: number,
): { jobId: number | null; rows: PredictionRecord[] } {
  const jobId = onlyJob ?? project.predictions.latestJobId(modelId, videoId, direction);
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

export function segmentsOf(video: VideoRecord, classes: string[], rows: PredictionRecord[], settings: SegmentSettings): Segment[] {
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
export function predictedVideos(
  project: Project,
  modelId: number,
  direction: 'forward' | 'reversed',
  onlyJob?: number,
): Array<{ video: VideoRecord; rows: PredictionRecord[]; jobId: number | null }> {
  return project.predictions
    .videoIds(modelId, onlyJob)
    .map((id) => ({ video: project.videos.require(id), ...predictionsFor(project, modelId, id, direction, onlyJob) }))
    .filter((v) => v.rows.length > 0);
}
