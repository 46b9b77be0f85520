/** Shapes shared by the job queue (host side), the job worker and the contract. */
import type { JobKind, JobRecord, JobStatus } from '../store/jobs.ts';
import type { TrainStepPoint } from './train-steps.ts';

export type { JobKind, JobRecord, JobStatus };

/** Where a running job is, as the UI and the CLI show it. */
export type JobProgress = {
  /** What the job is doing now: 'loading', 'training', 'validating', 'predicting', 'probing', ... */
  phase: string;
  done: number;
  total: number;
  /** What `done` counts: 'clips', 'windows', 'batches'. */
  unit: string;
  /** Units per second over the current phase, once measurable. */
  rate: number | null;
  /** Seconds left in the current phase at that rate. */
  etaSeconds: number | null;
  epoch?: number;
  epochs?: number;
  note?: string;
  /** Process that runs the job, so a second process can tell a live job from one whose process died. */
  pid?: number;
  /** The figures of a finished job (kept with the job so they survive a restart). */
  figures?: JobOutcome['figures'];
  /** Training: the latest point of the in-epoch loss/top-1 curve. */
  trainStep?: TrainStepPoint;
  /** Training: how many clips validate the run, and how the split was made (or why it is empty). */
  validation?: TrainValidation;
  /** A job on the worker queue: its shards by state, and the workers connected now. */
  shards?: ShardCounts;
  workers?: string[];
};

export interface TrainValidation {
  clips: number;
  note: string;
}

export interface ShardCounts {
  total: number;
  done: number;
  running: number;
  waiting: number;
  failed: number;
}

/** What a job hands back when it ends well: figures for the log, the CLI's --json and the UI. */
export interface JobOutcome {
  figures: Record<string, number | string | null>;
  modelId?: number;
}

/** What a job body sees while it runs (inside a worker thread, or in-process in tests). */
export interface JobHooks {
  report(update: { phase: string; done: number; total: number; unit: string; epoch?: number; epochs?: number; note?: string; trainStep?: TrainStepPoint; validation?: TrainValidation; shards?: ShardCounts; workers?: string[] }): void;
  log(line: string): void;
  /** Throws UserError('cancelled') once cancel was asked for; call between steps. */
  throwIfCancelled(): void;
}

export type WorkerMessage =
  | { type: 'progress'; update: Parameters<JobHooks['report']>[0] }
  | { type: 'log'; line: string }
  | { type: 'done'; outcome: JobOutcome }
  | { type: 'failed'; code: string; message: string };

export interface WorkerInput {
  projectDir: string;
  jobId: number;
  /** Int32Array over this buffer: [0] becomes 1 when the job should stop. */
  cancelFlag: SharedArrayBuffer;
  /** The worker's native work in flight (model/onnx/native-work.ts): the host ends the thread only outside it. */
  nativeWork: SharedArrayBuffer;
}

export const FINAL_STATUSES: readonly JobStatus[] = ['done', 'failed', 'cancelled', 'interrupted'];
