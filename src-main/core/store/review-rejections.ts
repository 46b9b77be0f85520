/**
 * Review rejections kept in the project: a window the reviewer rejected stays out of the review queue for
 * every client until it is restored. A rejection names the frames of the window, not its index.
 */
import { writeTx, type Db, stmt } from './sql.ts';

export interface RejectedSpan {
  videoId: number;
  startFrame: number;
  endFrame: number;
}

export class ReviewRejectionsRepo {
  constructor(private readonly db: Db) {}

  count(modelId: number): number {
    return stmt(this.db, 'SELECT count(*) FROM review_rejections WHERE model_id = ?').pluck().get(modelId) as number;
  }

  add(modelId: number, span: RejectedSpan): void {
    writeTx(this.db, () =>
      stmt(this.db, 'INSERT OR IGNORE INTO review_rejections (model_id, video_id, start_frame, end_frame) VALUES (?, ?, ?, ?)')
        .run(modelId, span.videoId, span.startFrame, span.endFrame),
    );
  }

  remove(modelId: number, span: RejectedSpan): void {
    writeTx(this.db, () =>
      stmt(this.db, 'DELETE FROM review_rejections WHERE model_id = ? AND video_id = ? AND start_frame = ? AND end_frame = ?')
        .run(modelId, span.videoId, span.startFrame, span.endFrame),
    );
  }

  list(modelId: number): RejectedSpan[] {
    return stmt(this.db, 'SELECT video_id AS videoId, start_frame AS startFrame, end_frame AS endFrame FROM review_rejections WHERE model_id = ?')
      .all(modelId) as RejectedSpan[];
  }
}
