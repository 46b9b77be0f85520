import { blobToFloat32, fromJson, nowIso, toJson, typedToBlob, writeTx, type Db, type SqlRow, stmt } from './sql.ts';

export type Direction = 'forward' | 'reversed';

export interface PredictionRecord {
  id: number;
  jobId: number;
  modelId: number;
  videoId: number;
  windowIndex: number;
  startFrame: number;
  endFrame: number;
  direction: Direction;
  /** One per class of the model, in the model's class order. */
  probabilities: Float32Array;
}

export type NewPrediction = Omit<PredictionRecord, 'id'>;

export interface PredictionQuery {
  videoId?: number;
  modelId?: number;
  jobId?: number;
  direction?: Direction;
}

function toPrediction(r: SqlRow): PredictionRecord {
  return {
    id: Number(r.id),
    jobId: Number(r.job_id),
    modelId: Number(r.model_id),
    videoId: Number(r.video_id),
    windowIndex: Number(r.window_index),
    startFrame: Number(r.start_frame),
    endFrame: Number(r.end_frame),
    direction: r.direction as Direction,
    probabilities: blobToFloat32(r.probabilities) ?? new Float32Array(),
  };
}

export class PredictionsRepo {
  constructor(private readonly db: Db) {}

  /** Stores a batch of windows in one transaction (a re-run of the same window replaces it). */
  insertMany(rows: readonly NewPrediction[]): void {
    const insert = stmt(this.db,
      'INSERT OR REPLACE INTO predictions (job_id, model_id, video_id, window_index, start_frame, end_frame, direction, probabilities) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    writeTx(this.db, () => {
      for (const p of rows) {
        insert.run(p.jobId, p.modelId, p.videoId, p.windowIndex, p.startFrame, p.endFrame, p.direction, typedToBlob(p.probabilities));
      }
    });
  }

  /** How many rows a job holds for windows first…last of a video (both directions counted). */
  countWindows(jobId: number, videoId: number, first: number, last: number): number {
    return stmt(this.db, 'SELECT COUNT(*) FROM predictions WHERE job_id = ? AND video_id = ? AND window_index BETWEEN ? AND ?')
      .pluck().get(jobId, videoId, first, last) as number;
  }

  list(query: PredictionQuery = {}): PredictionRecord[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (query.videoId !== undefined) (where.push('video_id = ?'), values.push(query.videoId));
    if (query.modelId !== undefined) (where.push('model_id = ?'), values.push(query.modelId));
    if (query.jobId !== undefined) (where.push('job_id = ?'), values.push(query.jobId));
    if (query.direction !== undefined) (where.push('direction = ?'), values.push(query.direction));
    const sql = `SELECT * FROM predictions${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY video_id, direction, window_index`;
    return (stmt(this.db, sql).all(...values) as SqlRow[]).map(toPrediction);
  }

  /** The newest job that predicted this model over this video in this direction, or null. */
  latestJobId(modelId: number, videoId: number, direction: Direction): number | null {
    return (stmt(this.db, 'SELECT job_id FROM predictions WHERE model_id = ? AND video_id = ? AND direction = ? ORDER BY job_id DESC LIMIT 1')
      .pluck()
      .get(modelId, videoId, direction) as number | undefined) ?? null;
  }

  /** The videos a model has predictions for (of one job, when given), by id. */
  videoIds(modelId: number, jobId?: number): number[] {
    return stmt(this.db, 'SELECT DISTINCT video_id FROM predictions WHERE model_id = ? AND (? IS NULL OR job_id = ?) ORDER BY video_id')
      .pluck()
      .all(modelId, jobId ?? null, jobId ?? null) as number[];
  }

  /** The frames of a window in the newest forward predictions of a model for a video, or null. */
  forwardWindowSpan(modelId: number, videoId: number, windowIndex: number): { startFrame: number; endFrame: number } | null {
    const row = stmt(this.db,
      "SELECT start_frame AS startFrame, end_frame AS endFrame FROM predictions WHERE model_id = ? AND video_id = ? AND direction = 'forward' " +
        'AND window_index = ? ORDER BY job_id DESC LIMIT 1',
    ).get(modelId, videoId, windowIndex) as { startFrame: number; endFrame: number } | undefined;
    return row ?? null;
  }

  deleteForJob(jobId: number): void {
    writeTx(this.db, () => stmt(this.db, 'DELETE FROM predictions WHERE job_id = ?').run(jobId));
  }
}

export interface TrainingMetricRecord {
  id: number;
  jobId: number;
  modelId: number | null;
  epoch: number;
  step: number;
  split: 'train' | 'val';
  loss: number | null;
  top1: number | null;
  perClass: Record<string, unknown> | null;
  /** confusion[true][predicted] counts, in the model's class order. */
  confusion: number[][] | null;
  createdAt: string;
}

export type NewTrainingMetric = Omit<TrainingMetricRecord, 'id' | 'createdAt'>;

export class MetricsRepo {
  constructor(private readonly db: Db) {}

  insert(m: NewTrainingMetric): void {
    writeTx(this.db, () =>
      stmt(this.db,
          'INSERT INTO training_metrics (job_id, model_id, epoch, step, split, loss, top1, per_class, confusion, created_at) ' +
            'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(m.jobId, m.modelId, m.epoch, m.step, m.split, m.loss, m.top1, toJson(m.perClass), toJson(m.confusion), nowIso()),
    );
  }

  list(query: { jobId?: number; modelId?: number } = {}): TrainingMetricRecord[] {
    const rows = stmt(this.db, 'SELECT * FROM training_metrics WHERE (? IS NULL OR job_id = ?) AND (? IS NULL OR model_id = ?) ORDER BY step, id')
      .all(query.jobId ?? null, query.jobId ?? null, query.modelId ?? null, query.modelId ?? null) as SqlRow[];
    return rows.map((r) => ({
      id: Number(r.id),
      jobId: Number(r.job_id),
      modelId: r.model_id === null ? null : Number(r.model_id),
      epoch: Number(r.epoch),
      step: Number(r.step),
      split: r.split as 'train' | 'val',
      loss: (r.loss as number | null) ?? null,
      top1: (r.top1 as number | null) ?? null,
      perClass: fromJson<Record<string, unknown>>(r.per_class),
      confusion: fromJson<number[][]>(r.confusion),
      createdAt: String(r.created_at),
    }));
  }
}

/** A point of the training curve inside an epoch (see jobs/train-steps.ts). */
export interface TrainStepPoint {
  epoch: number;
  /** Batches done in this epoch. */
  step: number;
  /** Batches per epoch, so `epoch - 1 + step / steps` places the point on an epoch axis. */
  steps: number;
  /** Mean training loss (and top-1) over the batches since the previous point. */
  loss: number;
  top1: number;
}

export class TrainingStepsRepo {
  constructor(private readonly db: Db) {}

  record(jobId: number, p: TrainStepPoint): void {
    writeTx(this.db, () =>
      stmt(this.db, 'INSERT OR REPLACE INTO training_steps (job_id, epoch, step, steps, loss, top1) VALUES (?, ?, ?, ?, ?, ?)')
        .run(jobId, p.epoch, p.step, p.steps, p.loss, p.top1),
    );
  }

  /** Drops the points of `epoch` and later. */
  clearFrom(jobId: number, epoch: number): void {
    writeTx(this.db, () => stmt(this.db, 'DELETE FROM training_steps WHERE job_id = ? AND epoch >= ?').run(jobId, epoch));
  }

  list(jobId: number): TrainStepPoint[] {
    return stmt(this.db, 'SELECT epoch, step, steps, loss, top1 FROM training_steps WHERE job_id = ? ORDER BY epoch, step').all(jobId) as TrainStepPoint[];
  }
}

export interface ProbeResultRecord {
  id: number;
  jobId: number;
  modelId: number;
  clipId: number | null;
  videoId: number;
  classId: number | null;
  startFrame: number;
  endFrame: number;
  forwardTop1: string;
  forwardScore: number;
  reversedTop1: string;
  reversedScore: number;
  /** The `reverse_of` class name, or the label itself where the class has none. */
  expectedReversed: string | null;
  /** The forward top-1's reverse partner when probed; null where it had none. */
  forwardPartner: string | null;
  /** The forward top-1 has a partner and the reversed top-1 is that partner. */
  flipped: boolean;
  /** The forward top-1 has no partner and the reversed top-1 is the same class. */
  invariant: boolean;
  /** The reversed top-1 equals `expectedReversed`. */
  reversedAsExpected: boolean;
  jsDivergence: number;
  forwardProbabilities: Float32Array | null;
  reversedProbabilities: Float32Array | null;
}

export type NewProbeResult = Omit<ProbeResultRecord, 'id'>;

export class ProbesRepo {
  constructor(private readonly db: Db) {}

  insertMany(rows: readonly NewProbeResult[]): void {
    const insert = stmt(this.db,
      'INSERT INTO probe_results (job_id, model_id, clip_id, video_id, class_id, start_frame, end_frame, forward_top1, forward_score, ' +
        'reversed_top1, reversed_score, expected_reversed, forward_partner, flipped, invariant, reversed_as_expected, js_divergence, ' +
        'forward_probabilities, reversed_probabilities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    writeTx(this.db, () => {
      for (const p of rows) {
        insert.run(p.jobId, p.modelId, p.clipId, p.videoId, p.classId, p.startFrame, p.endFrame, p.forwardTop1, p.forwardScore,
          p.reversedTop1, p.reversedScore, p.expectedReversed, p.forwardPartner, p.flipped ? 1 : 0, p.invariant ? 1 : 0,
          p.reversedAsExpected ? 1 : 0, p.jsDivergence,
          typedToBlob(p.forwardProbabilities), typedToBlob(p.reversedProbabilities));
      }
    });
  }

  /** Inserts probe rows, each replacing an earlier row of the same job, video, clip and span (idempotent). */
  replaceSpans(rows: readonly NewProbeResult[]): void {
    const remove = stmt(this.db, 'DELETE FROM probe_results WHERE job_id = ? AND video_id = ? AND clip_id IS ? AND start_frame = ? AND end_frame = ?');
    writeTx(this.db, () => {
      for (const r of rows) remove.run(r.jobId, r.videoId, r.clipId, r.startFrame, r.endFrame);
      this.insertMany(rows);
    });
  }

  /** Replaces all rows of a job with `rows`, in that order. */
  rewriteJob(jobId: number, rows: readonly NewProbeResult[]): void {
    writeTx(this.db, () => {
      stmt(this.db, 'DELETE FROM probe_results WHERE job_id = ?').run(jobId);
      this.insertMany(rows);
    });
  }

  /** How many distinct window starts between `first` and `last` a job holds for a video (windows, not clips). */
  countWindowStarts(jobId: number, videoId: number, first: number, last: number): number {
    return stmt(this.db, 'SELECT COUNT(DISTINCT start_frame) FROM probe_results WHERE job_id = ? AND video_id = ? AND clip_id IS NULL AND start_frame BETWEEN ? AND ?')
      .pluck().get(jobId, videoId, first, last) as number;
  }

  /** How many of the given clips a job holds a row for. */
  countClips(jobId: number, clipIds: readonly number[]): number {
    if (clipIds.length === 0) return 0;
    return this.db.prepare(`SELECT COUNT(DISTINCT clip_id) FROM probe_results WHERE job_id = ? AND clip_id IN (${clipIds.map(() => '?').join(',')})`)
      .pluck().get(jobId, ...clipIds) as number;
  }

  list(query: { jobId?: number; modelId?: number } = {}): ProbeResultRecord[] {
    const rows = stmt(this.db, 'SELECT * FROM probe_results WHERE (? IS NULL OR job_id = ?) AND (? IS NULL OR model_id = ?) ORDER BY id')
      .all(query.jobId ?? null, query.jobId ?? null, query.modelId ?? null, query.modelId ?? null) as SqlRow[];
    return rows.map((r) => ({
      id: Number(r.id),
      jobId: Number(r.job_id),
      modelId: Number(r.model_id),
      clipId: r.clip_id === null ? null : Number(r.clip_id),
      videoId: Number(r.video_id),
      classId: r.class_id === null ? null : Number(r.class_id),
      startFrame: Number(r.start_frame),
      endFrame: Number(r.end_frame),
      forwardTop1: String(r.forward_top1),
      forwardScore: Number(r.forward_score),
      reversedTop1: String(r.reversed_top1),
      reversedScore: Number(r.reversed_score),
      expectedReversed: (r.expected_reversed as string | null) ?? null,
      forwardPartner: (r.forward_partner as string | null) ?? null,
      flipped: Boolean(r.flipped),
      invariant: Boolean(r.invariant),
      reversedAsExpected: Boolean(r.reversed_as_expected),
      jsDivergence: Number(r.js_divergence),
      forwardProbabilities: blobToFloat32(r.forward_probabilities),
      reversedProbabilities: blobToFloat32(r.reversed_probabilities),
    }));
  }
}
