import type { Command } from 'commander';
import { intOption, UsageError } from '../context.ts';
import { shardTask } from '../../../api/contract/queue.ts';
import { isBackendName, type BackendName } from '../../../core/compute/backend-names.ts';
import { UserError } from '../../../core/errors.ts';
import { defaultModelCache } from '../../../core/jobs/distributed/model-store.ts';
import { parsePathMapping, type PathMapping } from '../../../core/jobs/distributed/path-map.ts';
import type { ShardTask } from '../../../core/jobs/distributed/shards.ts';
import type { CommandGroups } from './groups.ts';

interface WorkerOptions {
  queue: string;
  concurrency: number;
  threads?: number;
  backend?: string;
  engine: 'auto' | 'tfjs' | 'onnx';
  pathMap: PathMapping[];
  cache: string;
  lock: number;
}

function collectMapping(text: string, previous: PathMapping[]): PathMapping[] {
  try {
    return [...previous, parsePathMapping(text)];
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A shard from the queue, checked against the contract's schema (a readable list of what is wrong otherwise). */
function validateShard(_kind: string, data: unknown): ShardTask {
  const parsed = shardTask.safeParse(data);
  if (!parsed.success) {
    throw new UserError('bad_request', parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'shard'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** Registers `worker`. */
export function registerWorker(program: Command, _groups: CommandGroups): void {
  program
    .command('worker')
    .description('join a Redis worker queue and run the prediction and probe shards that apps and the CLI send to it')
    .requiredOption('--queue <url>', 'the queue: redis://[user:pass@]host:port, or rediss:// for TLS')
    .option('--concurrency <n>', 'shards run at once on this machine', intOption('--concurrency', 1), 1)
    .option('--threads <n>', 'ONNX Runtime threads per shard (default: the cores shared by the shards run at once)', intOption('--threads', 1))
    .option('--backend <name>', 'compute backend (auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu)')
    .option('--engine <engine>', 'auto (ONNX Runtime on CPU, tfjs on a GPU) | onnx | tfjs', 'auto')
    .option('--path-map <FROM=TO>', 'videos under FROM on the coordinating machine are under TO here (repeat for more folders; FROM=FROM when the paths are the same)', collectMapping, [])
    .option('--cache <dir>', 'where fetched models are kept', defaultModelCache())
    .option('--lock <seconds>', 'how long a worker that stops answering keeps its shard before another worker takes it', intOption('--lock', 2), 30)
    .action(async (opts: WorkerOptions) => {
      if (!opts.pathMap.length) {
        throw new UsageError('worker: give --path-map FROM=TO for each folder of videos this worker may read (FROM=FROM when the coordinating machine sees the same paths); videos outside them are never opened');
      }
      if (opts.backend && opts.backend !== 'auto' && !isBackendName(opts.backend)) throw new UsageError(`--backend: unknown backend "${opts.backend}"`);
      if (!['auto', 'tfjs', 'onnx'].includes(opts.engine)) throw new UsageError(`--engine must be auto, onnx or tfjs, got "${opts.engine}"`);
      const stop = new AbortController();
      const onSignal = () => {
        if (stop.signal.aborted) process.exit(130);
        process.stderr.write('\nStopping… (Ctrl-C again to quit at once)\n');
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        // The worker loads inference (tfjs, ONNX Runtime) and BullMQ: only when this command runs.
        const { runQueueWorker } = await import('../../../core/jobs/distributed/worker.ts');
        await runQueueWorker({
          url: opts.queue,
          concurrency: opts.concurrency,
          ...(opts.threads ? { threads: opts.threads } : {}),
          ...(opts.backend ? { backend: opts.backend as BackendName | 'auto' } : {}),
          engine: opts.engine,
          pathMap: opts.pathMap,
          cacheDir: opts.cache,
          lockSeconds: opts.lock,
          validate: validateShard,
          log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
          signal: stop.signal,
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
