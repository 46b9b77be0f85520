/**
 * The review queue: the windows a model is least sure of, outside labelled clips, most uncertain first, minus
 * the windows the reviewer rejected (kept in the project by their frames, so a later predict run over the same
 * windows keeps them); and accepting a window as a label.
 */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ClipRecord } from '../store/clips.ts';
import type { RejectedSpan } from '../store/review-rejections.ts';
import { argmax } from '../figures/metrics.ts';
import { predictedVideos, predictionsFor } from './windows.ts';

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

export interface ReviewWindow {
  modelId: number;
  videoId: number;
  windowIndex: number;
}

/** The frames of a window in the latest forward predictions of the model for the video. */
function spanOf(project: Project, w: ReviewWindow): RejectedSpan {
  project.models.require(w.modelId);
  project.videos.require(w.videoId);
  const row = project.predictions.forwardWindowSpan(w.modelId, w.videoId, w.windowIndex);
  if (!row) throw new UserError('not_found', `Model ${w.modelId} has no prediction for window ${w.windowIndex} of video ${w.videoId}.`);
  return { videoId: w.videoId, ...row };
}

export function rejectWindow(project: Project, w: ReviewWindow): { rejected: number } {
  const span = spanOf(project, w);
  project.reviewRejections.add(w.modelId, span);
  return { rejected: project.reviewRejections.count(w.modelId) };
}

/** Puts a rejected window back in the queue. */
export function restoreWindow(project: Project, w: ReviewWindow): { rejected: number } {
  const span = spanOf(project, w);
  project.reviewRejections.remove(w.modelId, span);
  return { rejected: project.reviewRejections.count(w.modelId) };
}

/** The review queue (most uncertain first) without the windows rejected for this model. */
export function openReviewQueue(project: Project, modelId: number, limit: number): ReviewItem[] {
  const rejected = new Set(project.reviewRejections.list(modelId).map((r) => `${r.videoId}:${r.startFrame}:${r.endFrame}`));
  return reviewQueue(project, modelId, limit + rejected.size)
    .filter((item) => !rejected.has(`${item.videoId}:${item.startFrame}:${item.endFrame}`))
    .slice(0, limit);
}
