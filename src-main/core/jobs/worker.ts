/** The job worker thread: opens the project, runs the job's body and reports back to the host. */
import { parentPort, workerData } from 'node:worker_threads';
import { openProject } from '../store/project.ts';
import { UserError, toErrorPayload } from '../errors.ts';
import { runJobBody } from './bodies.ts';
import type { JobHooks, WorkerInput, WorkerMessage } from './types.ts';
import { countNativeWorkIn } from '../model/onnx/native-work.ts';

const input = workerData as WorkerInput;
countNativeWorkIn(input.nativeWork);
const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const post = (msg: WorkerMessage) => port.postMessage(msg);
const cancelFlag = new Int32Array(input.cancelFlag);

const hooks: JobHooks = {
  report: (update) => post({ type: 'progress', update }),
  log: (line) => post({ type: 'log', line }),
  throwIfCancelled() {
    if (Atomics.load(cancelFlag, 0) === 1) throw new UserError('cancelled', `Job ${input.jobId} was cancelled.`);
  },
};

const project = openProject(input.projectDir);
try {
  const job = project.jobs.require(input.jobId);
  const outcome = await runJobBody(project, job, hooks);
  post({ type: 'done', outcome });
} catch (err) {
  const payload = toErrorPayload(err);
  const message = payload.code === 'internal' && err instanceof Error && process.env.STM_STUDIO_DEBUG ? (err.stack ?? payload.message) : payload.message;
  post({ type: 'failed', code: payload.code, message });
} finally {
  project.close();
}
