/**
 * Runs one job in a worker thread, so training and inference never block the host's event loop. The
 * worker opens the project itself (its own SQLite connection) and writes its results; the host only relays
 * progress and owns the job's status.
 */
import { Worker } from 'node:worker_threads';
import { UserError, type ErrorCode } from '../errors.ts';
import type { JobHooks, JobOutcome, WorkerInput, WorkerMessage } from './types.ts';
import { terminateOutsideNativeWork } from '../model/onnx/native-work.ts';

export interface RunningJob {
  outcome: Promise<JobOutcome>;
  /**
   * Asks the job to stop at its next step; a job that does not stop within `graceMs` is terminated, once no
   * ONNX Runtime call of it is in flight.
   */
  cancel(graceMs?: number): void;
}

export type JobExecutor = (
  projectDir: string,
  jobId: number,
  listener: { report: JobHooks['report']; log: JobHooks['log'] },
) => RunningJob;

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export const workerThreadExecutor: JobExecutor = (projectDir, jobId, listener) => {
  const cancelFlag = new SharedArrayBuffer(4);
  const nativeWork = new SharedArrayBuffer(4);
  const input: WorkerInput = { projectDir, jobId, cancelFlag, nativeWork };
  const worker = new Worker(ENTRY, { workerData: input, stdout: false, stderr: false });
  let killTimer: NodeJS.Timeout | undefined;
  const outcome = new Promise<JobOutcome>((resolve, reject) => {
    let settled = false;
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.type === 'progress') listener.report(msg.update);
      else if (msg.type === 'log') listener.log(msg.line);
      else if (msg.type === 'done') {
        settled = true;
        resolve(msg.outcome);
      } else if (msg.type === 'failed') {
        settled = true;
        reject(new UserError(msg.code as ErrorCode, msg.message));
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(err);
      settled = true;
    });
    worker.on('exit', (code) => {
      clearTimeout(killTimer);
      if (settled) return;
      settled = true;
      if (Atomics.load(new Int32Array(cancelFlag), 0) === 1) reject(new UserError('cancelled', `Job ${jobId} was cancelled.`));
      else reject(new Error(`the job's worker stopped unexpectedly (exit code ${code})`));
    });
  });
  return {
    outcome,
    cancel(graceMs = 15_000) {
      Atomics.store(new Int32Array(cancelFlag), 0, 1);
      // Never inside an ONNX Runtime call: ending the thread then would abort the whole process.
      killTimer ??= setTimeout(() => void terminateOutsideNativeWork(worker, nativeWork).catch(() => undefined), graceMs);
    },
  };
};
