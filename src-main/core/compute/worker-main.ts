/**
 * Runs inside a worker thread: selects the compute backend, imports the requested module and either runs
 * one function ('job') or builds a handler from a factory and serves 'run' messages ('service').
 */
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from './backends.ts';
import { UserError } from '../errors.ts';
import { JOB_TASK_ID, transferablesOf, type FromWorker, type SerializedError, type ToWorker, type WorkerInit, type WorkerTaskContext } from './worker-protocol.ts';

type TaskFunction = (args: unknown, ctx: WorkerTaskContext) => unknown;
type ServiceHandler = (input: unknown, ctx: WorkerTaskContext) => unknown;

const port = parentPort!;
const init = workerData as WorkerInit;
const controllers = new Map<number, AbortController>();

function post(message: FromWorker): void {
  port.postMessage(message, message.type === 'result' ? transferablesOf(message.value) : []);
}

function serialize(err: unknown): SerializedError {
  if (err instanceof UserError) return { name: err.name, message: err.message, code: err.code, details: err.details, stack: err.stack };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

async function resolveExport(): Promise<TaskFunction> {
  const mod = (await import(init.moduleUrl)) as Record<string, unknown>;
  const fn = mod[init.exportName];
  if (typeof fn !== 'function') throw new Error(`${init.moduleUrl} has no exported function ${init.exportName}`);
  return fn as TaskFunction;
}

async function runTask(id: number, body: (ctx: WorkerTaskContext) => unknown, backend: WorkerTaskContext['backend']): Promise<void> {
  const controller = new AbortController();
  controllers.set(id, controller);
  const ctx: WorkerTaskContext = { progress: (value) => post({ type: 'progress', id, value }), signal: controller.signal, backend };
  try {
    post({ type: 'result', id, value: await body(ctx) });
  } catch (err) {
    post({ type: 'error', id, error: serialize(err) });
  } finally {
    controllers.delete(id);
  }
}

async function main(): Promise<void> {
  const backend = await selectBackend(init.backend);
  const fn = await resolveExport();
  if (init.mode === 'job') {
    post({ type: 'ready', selection: backend });
    port.on('message', (msg: ToWorker) => {
      if (msg.type === 'cancel') controllers.get(msg.id)?.abort();
    });
    await runTask(JOB_TASK_ID, (ctx) => fn(init.args, ctx), backend);
    port.close();
    return;
  }
  const setup = new AbortController();
  const handler = (await fn(init.args, { progress: () => {}, signal: setup.signal, backend })) as ServiceHandler;
  if (typeof handler !== 'function') throw new Error(`${init.exportName} in ${init.moduleUrl} must return a function (input, ctx) => output`);
  post({ type: 'ready', selection: backend });
  // One task at a time: the pool only sends a task to an idle worker.
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'cancel') controllers.get(msg.id)?.abort();
    else void runTask(msg.id, (ctx) => handler(msg.input, ctx), backend);
  });
}

main().catch((err: unknown) => {
  post({ type: 'error', id: null, error: serialize(err) });
  port.close();
});
