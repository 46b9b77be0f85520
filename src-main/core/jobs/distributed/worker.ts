/**
 * `stm-studio worker`: joins the queue and runs predict and probe shards on this machine's best backend.
 * Each shard is validated, its video path mapped (--path-map), its model fetched once into the cache, and
 * its probabilities returned to the coordinator through BullMQ. A worker that dies leaves its shard locked
 * until the lock runs out; another worker then takes it over (BullMQ's stalled-job recovery). Stopping
 * (Ctrl-C) hands the shard in hand back to the queue at once.
 */
import { accessSync, constants } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { toErrorPayload, UserError } from '../../errors.ts';
import { requireFfmpegTools } from '../../media/locate.ts';
import type { BackendName } from '../../compute/backends.ts';
import { openWeightsClassifier, type FileClassifier } from '../inference.ts';
import type { InferenceEngine } from '../params.ts';
import { connectQueue, checkQueueReachable, redactQueueUrl, SHARD_QUEUE } from './connection.ts';
import { fetchModel } from './model-store.ts';
import { mapVideoPath, PATH_MAP_HINT, type PathMapping } from './path-map.ts';
import { runShard } from './run-shard.ts';
import { describeShard, SHARD_KINDS, type ShardKind, type ShardResult, type ShardTask } from './shards.ts';

export interface QueueWorkerOptions {
  url: string;
  /** Shards run at once on this machine. */
  concurrency: number;
  /** ONNX Runtime threads per shard (default: the machine's cores shared by the shards at once). */
  threads?: number;
  backend?: BackendName | 'auto';
  engine?: InferenceEngine;
  pathMap: readonly PathMapping[];
  cacheDir: string;
  /** How long a shard stays locked to a silent worker before another takes it (seconds). */
  lockSeconds: number;
  /** The contract's schema check: a valid shard, or an error saying what is wrong. */
  validate(kind: ShardKind, data: unknown): ShardTask;
  log(line: string): void;
  /** Aborting stops the worker: shards in hand go back to the queue. */
  signal: AbortSignal;
}

export async function runQueueWorker(opts: QueueWorkerOptions): Promise<void> {
  const tools = await requireFfmpegTools();
  const name = `${hostname()}:${process.pid}`;
  const connection = connectQueue(opts.url, { blocking: true, onStatus: opts.log });
  await checkQueueReachable(connection, opts.url).catch(async (err) => {
    connection.disconnect();
    throw err;
  });
  const threads = opts.threads ?? Math.max(1, Math.floor(availableParallelism() / opts.concurrency));
  const classifiers = new ClassifierCache(opts, threads);
  const models = new Map<string, Promise<string>>();
  const modelPath = (task: ShardTask): Promise<string> => {
    const known = models.get(task.model.sha256);
    if (known) return known;
    const fetching = fetchModel(connection, task.model, opts.cacheDir).then(({ path, fetched }) => {
      opts.log(fetched ? `model ${task.model.sha256.slice(0, 12)} ("${task.model.name}") fetched into ${opts.cacheDir}` : `model ${task.model.sha256.slice(0, 12)} ("${task.model.name}") from the cache`);
      return path;
    });
    fetching.catch(() => models.delete(task.model.sha256));
    models.set(task.model.sha256, fetching);
    return fetching;
  };
  let stopping = false;

  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<ShardResult> => {
    if (!(SHARD_KINDS as readonly string[]).includes(job.name)) {
      throw new UnrecoverableError(`"${job.name}" is not an STM Studio job kind; this worker runs only ${SHARD_KINDS.join(' and ')} shards.`);
    }
    let task: ShardTask;
    try {
      task = opts.validate(job.name as ShardKind, job.data);
    } catch (err) {
      throw new UnrecoverableError(`shard ${job.id} is not a valid ${job.name} shard: ${toErrorPayload(err).message}`);
    }
    const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
    opts.log(`shard ${job.id}: ${describeShard(job.name as ShardKind, task)}, ${attempt}`);
    const started = performance.now();
    const abort = signal ?? new AbortController().signal;
    try {
      const localPath = readableVideo(task.video.path, opts.pathMap);
      return await classifiers.use(await modelPath(task), task, async (classifier) => {
        const windows = await runShard(task, {
          tools, classifier, localPath, signal: abort,
          progress: (done) => void job.updateProgress(done).catch(() => {}),
        });
        const seconds = (performance.now() - started) / 1000;
        opts.log(`shard ${job.id}: done, ${windows.length} window(s) in ${seconds.toFixed(1)} s on ${classifier.engine}`);
        return { windows, worker: name, engine: classifier.engine, seconds };
      });
    } catch (err) {
      if (stopping && abort.aborted && token) {
        await job.moveToWait(token);
        opts.log(`shard ${job.id}: handed back to the queue`);
        throw new WaitingError();
      }
      const message = toErrorPayload(err).message;
      opts.log(`shard ${job.id}: failed (${attempt}): ${message}`);
      throw new Error(message);
    }
  };

  const worker = new Worker(SHARD_QUEUE, processor, {
    connection,
    concurrency: opts.concurrency,
    name,
    lockDuration: opts.lockSeconds * 1000,
    stalledInterval: opts.lockSeconds * 1000,
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', () => {}); // connection trouble is reported once by connectQueue's status lines
  opts.log(`worker ${name} on ${redactQueueUrl(opts.url)}: ${opts.concurrency} shard(s) at a time, ${threads} thread(s) each, models cached in ${opts.cacheDir}`);
  const running = worker.run();
  await new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  stopping = true;
  opts.log('stopping: handing shards in hand back to the queue');
  const closing = worker.close();
  worker.cancelAllJobs('the worker is stopping');
  await closing;
  await running.catch(() => {});
  await classifiers.dispose();
  connection.disconnect();
  opts.log('stopped');
}

/** The video's path here; one that is not readable fails with the path it tried and the --path-map hint. */
function readableVideo(given: string, pathMap: readonly PathMapping[]): string {
  const local = mapVideoPath(given, pathMap);
  try {
    accessSync(local, constants.R_OK);
  } catch (err) {
    const tried = local === given ? given : `${given} (here ${local})`;
    throw new UserError('invalid_input', `Cannot read ${tried} on this worker (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}); if the videos live elsewhere here, ${PATH_MAP_HINT}.`);
  }
  return local;
}

/** Open classifiers by model and batch size, shared by the shards that run at once; idle ones beyond two are closed. */
class ClassifierCache {
  private readonly open = new Map<string, { classifier: Promise<FileClassifier>; users: number }>();
  constructor(private readonly opts: QueueWorkerOptions, private readonly threads: number) {}

  async use<T>(path: string, task: ShardTask, fn: (classifier: FileClassifier) => Promise<T>): Promise<T> {
    const key = `${task.model.sha256}:${task.batch}:${task.engine ?? 'auto'}`;
    let entry = this.open.get(key);
    if (!entry) {
      const classifier = openWeightsClassifier(path, {
        engine: task.engine ?? this.opts.engine, backend: this.opts.backend ?? task.backend ?? 'auto', batch: task.batch, threads: this.threads,
      }, { log: this.opts.log });
      entry = { classifier, users: 0 };
      this.open.set(key, entry);
      classifier.catch(() => this.open.delete(key));
    }
    entry.users += 1;
    try {
      return await fn(await entry.classifier);
    } finally {
      entry.users -= 1;
      this.closeIdle();
    }
  }

  private closeIdle(): void {
    for (const [key, entry] of this.open) {
      if (this.open.size <= 2) break;
      if (entry.users > 0) continue;
      this.open.delete(key);
      void entry.classifier.then((c) => c.dispose()).catch(() => {});
    }
  }

  async dispose(): Promise<void> {
    for (const entry of this.open.values()) await entry.classifier.then((c) => c.dispose()).catch(() => {});
    this.open.clear();
  }
}
