/**
 * Native work in flight in this thread (ONNX Runtime sessions being created, run or released). Ending a
 * worker thread while such work is in flight aborts the whole process: onnxruntime-node's completion callback
 * throws into the thread's torn-down environment. So a thread that may be ended counts its native work in a
 * shared counter its owner passes in, and the owner ends it only when the count is zero.
 */
import type { Worker } from 'node:worker_threads';

let inFlight = new Int32Array(new SharedArrayBuffer(4));
/** Set in the counter once the owner is ending the thread: no new work starts. */
const STOPPING = 1 << 30;

/** Counts this thread's native work in `buffer` (a worker thread's owner created it and reads it). */
export function countNativeWorkIn(buffer: SharedArrayBuffer): void {
  inFlight = new Int32Array(buffer);
}

/**
 * Runs one piece of native work, counted while it is in flight (until its promise settles). Once the owner
 * is ending the thread, no new work starts: the call throws instead.
 */
export async function nativeWork<T>(start: () => Promise<T>): Promise<T> {
  for (;;) {
    const count = Atomics.load(inFlight, 0);
    if (count & STOPPING) throw new Error('this thread is being stopped');
    if (Atomics.compareExchange(inFlight, 0, count, count + 1) === count) break;
  }
  try {
    return await start();
  } finally {
    Atomics.sub(inFlight, 0, 1);
  }
}

/**
 * Ends `worker` once none of its counted native work is in flight: new work is refused from now on, the work
 * in hand is waited out (checked every `pollMs`), then the thread is terminated. Resolves with the exit code.
 */
export function terminateOutsideNativeWork(worker: Worker, counter: SharedArrayBuffer, pollMs = 20): Promise<number> {
  const count = new Int32Array(counter);
  Atomics.or(count, 0, STOPPING);
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if ((Atomics.load(count, 0) & ~STOPPING) === 0) worker.terminate().then(resolve, reject);
      else setTimeout(attempt, pollMs);
    };
    attempt();
  });
}
