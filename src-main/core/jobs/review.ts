/**
 * Review rejections kept in the project: a window the reviewer rejected stays out of the review queue for
 * every client (other windows, the CLI, after a reload) until it is restored. A rejection names the frames
 * of the window, so a later predict run over the same windows keeps it.
 */
import { UserError } from '../errors.ts';
import { writeTx } from '../store/sql.ts';
import type { Project } from '../store/project.ts';
import { reviewQueue, type ReviewItem } from './results.ts';

export interface ReviewWindow {
  modelId: number;
  videoId: number;
  windowIndex: number;
}

interface Span {
  startFrame: number;
  endFrame: number;
}

/** The frames of a window in the latest forward predictions of the model for the video. */
function spanOf(project: Project, w: ReviewWindow): Span {
  project.models.require(w.modelId);
  project.videos.require(w.videoId);
  const row = project.db
    .prepare(
      "SELECT start_frame AS startFrame, end_frame AS endFrame FROM predictions WHERE model_id = ? AND video_id = ? AND direction = 'forward' " +
        'AND window_index = ? ORDER BY job_id DESC LIMIT 1',
    )
    .get(w.modelId, w.videoId, w.windowIndex) as Span | undefined;
  if (!row) throw new UserError('not_found', `Model ${w.modelId} has no prediction for window ${w.windowIndex} of video ${w.videoId}.`);
  return row;
}

export function rejectionCount(project: Project, modelId: number): number {
  return project.db.prepare('SELECT count(*) FROM review_rejections WHERE model_id = ?').pluck().get(modelId) as number;
}

export function rejectWindow(project: Project, w: ReviewWindow): { rejected: number } {
  const span = spanOf(project, w);
  writeTx(project.db, () =>
    project.db
      .prepare('INSERT OR IGNORE INTO review_rejections (model_id, video_id, start_frame, end_frame) VALUES (?, ?, ?, ?)')
      .run(w.modelId, w.videoId, span.startFrame, span.endFrame),
  );
  return { rejected: rejectionCount(project, w.modelId) };
}

/** Puts a rejected window back in the queue. */
export function restoreWindow(project: Project, w: ReviewWindow): { rejected: number } {
  const span = spanOf(project, w);
  writeTx(project.db, () =>
    project.db
      .prepare('DELETE FROM review_rejections WHERE model_id = ? AND video_id = ? AND start_frame = ? AND end_frame = ?')
      .run(w.modelId, w.videoId, span.startFrame, span.endFrame),
  );
  return { rejected: rejectionCount(project, w.modelId) };
}

/** The review queue (most uncertain first) without the windows rejected for this model. */
export function openReviewQueue(project: Project, modelId: number, limit: number): ReviewItem[] {
  const rows = project.db
    .prepare('SELECT video_id AS videoId, start_frame AS startFrame, end_frame AS endFrame FROM review_rejections WHERE model_id = ?')
    .all(modelId) as Array<Span & { videoId: number }>;
  const rejected = new Set(rows.map((r) => `${r.videoId}:${r.startFrame}:${r.endFrame}`));
  return reviewQueue(project, modelId, limit + rejected.size)
    .filter((item) => !rejected.has(`${item.videoId}:${item.startFrame}:${item.endFrame}`))
    .slice(0, limit);
}
