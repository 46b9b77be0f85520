/**
 * Model work off the event loop, in worker threads that load the TypeScript sources (worker-entry.mjs).
 *
 * - `runInWorker(moduleUrl, exportName, args, {backend, onProgress, signal})` runs one exported function
 *   `fn(args, ctx)` in a fresh worker (a training job): `ctx.progress(value)` reaches `onProgress`,
 *   `ctx.signal` aborts when `signal` does, `ctx.backend` says where it runs. Resolves with fn's result.
 * - `createWorkerPool({moduleUrl, exportName, args, backend, workers})` starts workers that each call the
 *   exported factory `factory(args, ctx)` once and get back a handler `(input, ctx) => output`; `run(input)`
 *   sends one input to an idle worker. Data-parallel inference: split clips into batches and await
 *   `Promise.all(batches.map(pool.run))`. wasm has no threads under Node, so wasm/cpu pools default to one
 *   worker per core; GPU and tfjs-node backends (already parallel) default to one worker.
 *
 * Arguments, inputs and outputs cross threads by structured clone; typed arrays in results are moved.
 * UserErrors thrown in a worker arrive as UserErrors; a cancelled task rejects with code 'cancelled'.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { UserError } from '../errors.ts';
import type { BackendName, BackendSelection } from './backends.ts';
import { JOB_TASK_ID, type FromWorker, type SerializedError, type ToWorker, type WorkerInit } from './worker-protocol.ts';

export type { WorkerTaskContext } from './worker-protocol.ts';

/** A pool worker's thread ended: `how` says how ("exited with code 1"), for callers that name the worker their own way. */
export class WorkerExited extends Error {
  constructor(
    exportName: string,
    readonly how: string,
  ) {
    super(`a ${exportName} worker ${how}`);
  }
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** How long a cancelled worker may take to stop on its own before it is terminated. */
const CANCEL_GRACE_MS = 5_000;

export interface RunInWorkerOptions<P> {
  backend?: BackendName | 'auto';
  onProgress?: (value: P) => void;
  /** Called once the worker has chosen its backend. */
  onBackend?: (selection: BackendSelection) => void;
  signal?: AbortSignal;
}

function startWorker(init: WorkerInit): Worker {
  return new Worker(ENTRY, { workerData: init, stdout: false, stderr: false });
}

function revive(error: SerializedError): Error {
  const err = error.code ? new UserError(error.code, error.message, error.details) : new Error(error.message);
  if (!error.code) err.name = error.name;
  if (error.stack) err.stack = error.stack;
  return err;
}

function cancelled(what: string): UserError {
  return new UserError('cancelled', `${what} was cancelled.`);
}

export function runInWorker<R = unknown, P = unknown>(
  moduleUrl: string | URL,
  exportName: string,
  args: unknown,
  options: RunInWorkerOptions<P> = {},
): Promise<R> {
  const { backend = 'auto', onProgress, onBackend, signal } = options;
  const label = `${exportName} (${String(moduleUrl).split('/').pop()})`;
  if (signal?.aborted) return Promise.reject(cancelled(label));
  const worker = startWorker({ mode: 'job', moduleUrl: String(moduleUrl), exportName, args, backend });
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      outcome();
    };
    const onAbort = () => {
      worker.postMessage({ type: 'cancel', id: JOB_TASK_ID } satisfies ToWorker);
      killTimer = setTimeout(() => finish(() => reject(cancelled(label))), CANCEL_GRACE_MS);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'ready') onBackend?.(msg.selection);
      else if (msg.type === 'progress') onProgress?.(msg.value as P);
      else if (msg.type === 'result') finish(() => (signal?.aborted ? reject(cancelled(label)) : resolve(msg.value as R)));
      else finish(() => reject(signal?.aborted ? cancelled(label) : revive(msg.error)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`worker for ${label} exited with code ${code} before finishing`))));
  });
}

export interface WorkerPoolOptions {
  moduleUrl: string | URL;
  /** An exported factory `(args, ctx) => handler`; the handler `(input, ctx) => output` serves run(). */
  exportName: string;
  args: unknown;
  backend?: BackendName | 'auto';
  /** Default: one per core on wasm/cpu, one on GPU and tfjs-node backends. */
  workers?: number;
}

export interface WorkerPool<In, Out> {
  /** The backend every worker runs on and why (the first worker chose; the others were told the same). */
  readonly backend: BackendSelection;
  readonly size: number;
  /** `worker` pins the task to one worker (0-based): replicas that keep state each get their own share. */
  run(input: In, options?: { signal?: AbortSignal; worker?: number }): Promise<Out>;
  dispose(): Promise<void>;
}

interface Task {
  id: number;
  input: unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  signal?: AbortSignal;
  /** The only worker that may run this task. */
  worker?: number;
}

interface PoolWorker {
  worker: Worker;
  busy: Task | null;
  /** Why the worker stopped (null while it runs): kept for the tasks that ask for it later. */
  lost: Error | null;
}

export async function createWorkerPool<In, Out>(options: WorkerPoolOptions): Promise<WorkerPool<In, Out>> {
  const { moduleUrl, exportName, args } = options;
  const init = (backend: BackendName | 'auto'): WorkerInit => ({ mode: 'service', moduleUrl: String(moduleUrl), exportName, args, backend });

  const startReady = (backend: BackendName | 'auto') =>
    new Promise<{ worker: Worker; selection: BackendSelection }>((resolve, reject) => {
      const worker = startWorker(init(backend));
      const onMessage = (msg: FromWorker) => {
        if (msg.type === 'ready') {
          worker.off('message', onMessage);
          resolve({ worker, selection: msg.selection });
        } else if (msg.type === 'error') {
          void worker.terminate();
          reject(revive(msg.error));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`a ${exportName} worker exited with code ${code} while starting`)));
    });

  const first = await startReady(options.backend ?? 'auto');
  const selection = first.selection;
  const perCore = selection.name === 'wasm' || selection.name === 'cpu';
  const size = Math.max(1, options.workers ?? (perCore ? availableParallelism() : 1));
  let rest: Array<{ worker: Worker }>;
  try {
    rest = await Promise.all(Array.from({ length: size - 1 }, () => startReady(selection.name)));
  } catch (err) {
    await first.worker.terminate();
    throw err;
  }

  const workers: PoolWorker[] = [first, ...rest].map(({ worker }) => ({ worker, busy: null, lost: null }));
  const queue: Task[] = [];
  let nextId = 1;
  let disposed = false;

  const dispatch = () => {
    for (const [index, slot] of workers.entries()) {
      if (slot.busy || slot.lost) continue;
      const at = queue.findIndex((t) => t.worker === undefined || t.worker === index);
      if (at < 0) continue;
      const [task] = queue.splice(at, 1);
      slot.busy = task;
      slot.worker.postMessage({ type: 'run', id: task.id, input: task.input } satisfies ToWorker);
    }
  };

  for (const slot of workers) {
    slot.worker.on('message', (msg: FromWorker) => {
      const task = slot.busy;
      if (!task || msg.type === 'ready' || msg.type === 'progress' || msg.id !== task.id) return;
      slot.busy = null;
      if (task.signal?.aborted) task.reject(cancelled(`${exportName} task`));
      else if (msg.type === 'result') task.resolve(msg.value);
      else task.reject(revive(msg.error));
      dispatch();
    });
    // A worker that dies (out of memory, a crash in native code) fails its task; the others carry on.
    const lose = (err: Error) => {
      if (slot.lost) return;
      slot.lost = err;
      slot.busy?.reject(err);
      slot.busy = null;
      const index = workers.indexOf(slot);
      for (const task of queue.filter((t) => t.worker === index)) {
        queue.splice(queue.indexOf(task), 1);
        task.reject(err);
      }
      if (!disposed && workers.every((w) => w.lost)) for (const task of queue.splice(0)) task.reject(new Error(`every ${exportName} worker stopped: ${err.message}`));
    };
    slot.worker.on('error', lose);
    slot.worker.on('exit', (code) => lose(new WorkerExited(exportName, `exited with code ${code}`)));
  }

  return {
    backend: selection,
    size,
    run(input: In, runOptions: { signal?: AbortSignal; worker?: number } = {}) {
      if (disposed) return Promise.reject(new Error('the worker pool was disposed'));
      if (workers.every((w) => w.lost)) return Promise.reject(new Error(`every ${exportName} worker has stopped: ${workers[0].lost!.message}`));
      const { signal, worker } = runOptions;
      if (signal?.aborted) return Promise.reject(cancelled(`${exportName} task`));
      if (worker !== undefined && !workers[worker]) return Promise.reject(new Error(`${exportName} worker ${worker} is not running`));
      // A pinned worker that died while idle fails the next task with the reason it died, as it would a task it held.
      const lost = worker === undefined ? null : workers[worker].lost;
      if (lost) return Promise.reject(lost);
      return new Promise<Out>((resolve, reject) => {
        const task: Task = { id: nextId++, input, resolve: resolve as (v: unknown) => void, reject, signal, worker };
        signal?.addEventListener(
          'abort',
          () => {
            const queued = queue.indexOf(task);
            if (queued >= 0) {
              queue.splice(queued, 1);
              reject(cancelled(`${exportName} task`));
              return;
            }
            workers.find((w) => w.busy === task)?.worker.postMessage({ type: 'cancel', id: task.id } satisfies ToWorker);
          },
          { once: true },
        );
        queue.push(task);
        dispatch();
      });
    },
    async dispose() {
      disposed = true;
      for (const task of queue.splice(0)) task.reject(new Error('the worker pool was disposed'));
      for (const slot of workers) slot.busy?.reject(new Error('the worker pool was disposed'));
      await Promise.all(workers.map((slot) => slot.worker.terminate()));
    },
  };
}
