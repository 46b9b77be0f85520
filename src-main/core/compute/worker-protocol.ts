/** Messages between the worker pool (parent) and worker-main.ts. */
import type { BackendName, BackendSelection } from './backends.ts';
import type { ErrorCode } from '../errors.ts';

export interface WorkerInit {
  mode: 'job' | 'service';
  moduleUrl: string;
  exportName: string;
  args: unknown;
  backend: BackendName | 'auto';
}

export type ToWorker = { type: 'run'; id: number; input: unknown } | { type: 'cancel'; id: number };

export interface SerializedError {
  name: string;
  message: string;
  code?: ErrorCode;
  details?: unknown;
  stack?: string;
}

export type FromWorker =
  | { type: 'ready'; selection: BackendSelection }
  | { type: 'progress'; id: number; value: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number | null; error: SerializedError };

/** The id of the one task of a 'job' worker. */
export const JOB_TASK_ID = 0;

/** What a worker function receives next to its arguments. */
export interface WorkerTaskContext<P = unknown> {
  /** Sends a progress value to the parent's onProgress (structured-cloneable). */
  progress(value: P): void;
  /** Aborted when the parent cancels; long loops should check it between steps. */
  signal: AbortSignal;
  /** The backend this worker runs on and why. */
  backend: BackendSelection;
}

/** ArrayBuffers of typed arrays at the top two levels of a value, moved rather than copied. */
export function transferablesOf(value: unknown, depth = 2): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, level: number) => {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
    else if (level > 0 && v && typeof v === 'object') for (const child of Object.values(v)) visit(child, level - 1);
  };
  visit(value, depth);
  return [...out];
}
