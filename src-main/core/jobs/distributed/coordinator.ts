/**
 * The coordinating side of a predict or probe on the worker queue. It runs as the body of the project's job
 * (so progress, cancel and resume work as for a local run): publishes the model once, adds one BullMQ job
 * per shard, and merges each shard's results into the project as it completes. Everything it needs to go
 * on lives in Redis and in the project, so a coordinator started again (job resumed) re-attaches: shards
 * already in the project are skipped, shards still on the queue are followed, lost ones are queued again.
 */
import { performance } from 'node:perf_hooks';
import { Queue, type Job } from 'bullmq';
import { UserError } from '../../errors.ts';
import type { Project } from '../../store/project.ts';
import { readCheckpointInfo } from '../../model/checkpoint.ts';
import { weightsFileOf } from '../model-files.ts';
import type { ProbeContext } from '../probe.ts';
import { probeSummary } from '../../results/probe.ts';
import { DEFAULT_PREDICT_PARAMS, DEFAULT_PROBE_PARAMS, type PredictParams, type ProbeParams } from '../params.ts';
import type { JobHooks, JobOutcome, JobRecord, ShardCounts } from '../types.ts';
import { checkQueueReachable, connectQueue, redactQueueUrl, SHARD_QUEUE } from './connection.ts';
import { publishModel } from './model-store.ts';
import { mergePredictShard, mergeProbeShard, orderProbeRows, shardRowsStored } from './merge.ts';
import { planPredict, planProbe, type PlannedShard, type ShardPlan } from './plan.ts';

const DEFAULT_ATTEMPTS = 3;
const POLL_MS = 250;
const WORKERS_POLL_MS = 2000;
/** How often every pending shard is looked up (to queue again one that Redis lost): 2 ms per shard, 2–30 s. */
const reconcileMs = (shards: number) => Math.min(30_000, Math.max(2000, shards * 2));
const ADD_BATCH = 500;
/** Finished and running shards read per look (all coordinators' shards share the queue). */
const LIST_LIMIT = 4999;
/** Finished shards stay on the queue at most this long if no coordinator collects them. */
const KEEP_SECONDS = 7 * 24 * 3600;

type ShardState = 'pending' | 'merged' | 'failed';

interface Tracked {
  shard: PlannedShard;
  state: ShardState;
  /** What the queue says while pending: waiting, active, delayed, … or unknown (not on the queue). */
  queued: string;
  progress: number;
}

export async function runQueuedJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const isProbe = job.kind === 'probe';
  const params = isProbe
    ? ({ ...DEFAULT_PROBE_PARAMS, ...(job.params as Partial<ProbeParams> & { modelId: number }) } as ProbeParams)
    : ({ ...DEFAULT_PREDICT_PARAMS, ...(job.params as Partial<PredictParams> & { modelId: number }) } as PredictParams);
  const url = params.queue!;
  const attempts = params.attempts ?? DEFAULT_ATTEMPTS;
  const record = project.models.require(params.modelId);
  const weights = weightsFileOf(project, record);
  const info = readCheckpointInfo(weights);

  const redis = connectQueue(url, { blocking: false, onStatus: hooks.log });
  const queue = new Queue(SHARD_QUEUE, { connection: redis });
  queue.on('error', () => {}); // reported once by connectQueue's status lines
  try {
    await checkQueueReachable(redis, url);
    const model = await publishModel(redis, weights, record.name);
    hooks.log(`queue ${redactQueueUrl(url)}: model ${model.sha256.slice(0, 12)} (${(model.bytes / 1e6).toFixed(1)} MB) published`);
    const plan: ShardPlan = isProbe
      ? planProbe(project, job, params as ProbeParams, model, record, info, hooks)
      : planPredict(project, job, params as PredictParams, model, hooks);
    const probeCtx: ProbeContext = { project, job, model: record, info, classes: project.classes.list(), rows: [], records: [] };
    const tracked: Tracked[] = plan.shards.map((shard) => ({
      shard, state: shardRowsStored(project, job.id, shard) ? 'merged' : 'pending', queued: 'unknown', progress: 0,
    }));
    const already = tracked.filter((t) => t.state === 'merged').length;
    hooks.log(`${plan.shards.length} shard(s) over ${plan.videos} video(s)${already ? `; ${already} already in the project` : ''}`);

    const merge = (t: Tracked, result: unknown) => {
      if (isProbe) mergeProbeShard(probeCtx, t.shard, result);
      else mergePredictShard(project, job.id, record.id, info.classNames.length, t.shard, result);
      t.state = 'merged';
    };
    const failures: string[] = [];
    const workers = new Set<string>();
    let lastWorkersPoll = -Infinity;
    let liveWorkers: string[] = [];
    const started = performance.now();

    const report = () => {
      const counts: ShardCounts = { total: tracked.length, done: 0, running: 0, waiting: 0, failed: 0 };
      let done = 0;
      for (const t of tracked) {
        if (t.state === 'merged') (counts.done++, (done += t.shard.size));
        else if (t.state === 'failed') counts.failed++;
        else if (t.queued === 'active') (counts.running++, (done += Math.min(t.progress, t.shard.size)));
        else counts.waiting++;
      }
      const total = tracked.reduce((n, t) => n + t.shard.size, 0);
      hooks.report({
        phase: isProbe ? 'probing' : 'predicting', done, total, unit: isProbe && (params as ProbeParams).clips !== 'windows' ? 'clips' : 'windows',
        note: `shards ${counts.done}/${counts.total} done, ${counts.running} running, ${counts.waiting} waiting${counts.failed ? `, ${counts.failed} failed` : ''} · ${liveWorkers.length} worker(s)`,
        shards: counts, workers: liveWorkers,
      });
    };

    const byId = new Map(tracked.map((t) => [t.shard.id, t]));
    const ours = (id: string | undefined) => {
      const t = id ? byId.get(id) : undefined;
      return t?.state === 'pending' ? t : undefined;
    };
    let lastReconcile = -Infinity;
    const collect = async (t: Tracked, finished: Job) => {
      let malformed: string | null = null;
      if (t.queued === 'completed') {
        try {
          merge(t, finished.returnvalue);
        } catch (err) {
          malformed = (err as Error).message;
        }
        const by = (finished.returnvalue as { worker?: unknown } | null)?.worker;
        if (typeof by === 'string') workers.add(by);
      }
      if (t.queued !== 'completed' || malformed) {
        const reason = malformed ?? (finished.failedReason || 'no reason given');
        failures.push(`${describe(t.shard)}: ${reason}`);
        hooks.log(`shard ${t.shard.id} failed after ${finished.attemptsMade} attempt(s): ${describe(t.shard)}: ${reason}`);
        t.state = 'failed';
      }
      await finished.remove().catch(() => {});
    };
    try {
      while (tracked.some((t) => t.state === 'pending')) {
        hooks.throwIfCancelled();
        try {
          // Now and then (and first): which shards does the queue not hold? Those not in the project are
          // queued (again: a Redis without persistence may have forgotten them).
          if (performance.now() - lastReconcile > reconcileMs(tracked.length)) {
            const missing: Tracked[] = [];
            for (const t of tracked) {
              if (t.state !== 'pending') continue;
              t.queued = await queue.getJobState(t.shard.id);
              if (t.queued === 'completed' || t.queued === 'failed') {
                const finished = await queue.getJob(t.shard.id);
                if (finished) await collect(t, finished);
                continue;
              }
              if (t.queued !== 'unknown') continue;
              if (shardRowsStored(project, job.id, t.shard)) t.state = 'merged';
              else missing.push(t);
            }
            // A Redis that lost the shards lost the model too (publishing is a no-op when it is there).
            if (missing.length && lastReconcile > -Infinity) await publishModel(redis, weights, record.name);
            for (let i = 0; i < missing.length; i += ADD_BATCH) {
              await queue.addBulk(missing.slice(i, i + ADD_BATCH).map((t) => ({
                name: t.shard.kind, data: t.shard.task,
                opts: { jobId: t.shard.id, attempts, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: KEEP_SECONDS }, removeOnFail: { age: KEEP_SECONDS } },
              })));
            }
            for (const t of missing) t.queued = 'waiting';
            lastReconcile = performance.now();
          }
          // Each tick costs what is finished or running, not what waits: thousands of shards stay cheap.
          for (const state of ['completed', 'failed'] as const) {
            for (const finished of await queue.getJobs([state], 0, LIST_LIMIT)) {
              const t = ours(finished.id);
              if (!t) continue;
              t.queued = state;
              await collect(t, finished as Job);
            }
          }
          const active = new Map((await queue.getJobs(['active'], 0, LIST_LIMIT)).map((a) => [a.id, a]));
          for (const t of tracked) {
            if (t.state !== 'pending') continue;
            const running = active.get(t.shard.id);
            if (running) (t.queued = 'active'), (t.progress = typeof running.progress === 'number' ? running.progress : 0);
            else if (t.queued === 'active') t.queued = 'waiting';
          }
          if (performance.now() - lastWorkersPoll > WORKERS_POLL_MS) {
            lastWorkersPoll = performance.now();
            liveWorkers = (await queue.getWorkers()).map((w) => workerName(w)).sort();
            for (const w of liveWorkers) workers.add(w);
          }
        } catch (err) {
          if (err instanceof UserError) throw err;
          // Redis went away: connectQueue says so once; keep trying until it is back or the job is cancelled.
          lastReconcile = -Infinity;
          await sleep(1000);
          continue;
        }
        report();
        await sleep(POLL_MS);
      }
    } catch (err) {
      if (err instanceof UserError && err.code === 'cancelled') await withdraw(queue, tracked);
      throw err;
    }
    report();
    const seconds = (performance.now() - started) / 1000;
    if (isProbe) orderProbeRows(project, job.id, plan.shards);
    if (failures.length) {
      const merged = tracked.filter((t) => t.state === 'merged').length;
      throw new UserError(
        'unavailable',
        `${failures.length} of ${tracked.length} shard(s) failed after ${attempts} attempt(s); the other ${merged} are in the project (resume the job to try the failed ones again). ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; …' : ''}`,
      );
    }
    const windows = tracked.reduce((n, t) => n + t.shard.size, 0);
    hooks.log(`queue: ${tracked.length} shard(s), ${windows} window(s) in ${seconds.toFixed(1)} s by ${workers.size} worker(s)${workers.size ? ` (${[...workers].sort().join(', ')})` : ''}`);
    const figures = { shards: tracked.length, workers: workers.size, queue_seconds: Number(seconds.toFixed(3)) };
    if (!isProbe) {
      const directions = (params as PredictParams).direction === 'both' ? 2 : 1;
      return { modelId: record.id, figures: { model_id: record.id, videos: plan.videos, skipped_videos: plan.skippedVideos, windows, predictions: windows * directions, ...figures } };
    }
    const summary = probeSummary(project, { jobId: job.id });
    const unit = (params as ProbeParams).clips === 'windows' ? 'windows' : 'clips';
    return {
      modelId: record.id,
      figures: {
        model_id: record.id, [unit]: summary.clips, forward_top1: unit === 'windows' ? null : summary.forwardAccuracy,
        flip_rate: summary.flipRate, invariance_rate: summary.invarianceRate, mean_js_divergence: summary.meanDivergence, ...figures,
      },
    };
  } finally {
    await queue.close().catch(() => {});
    redis.disconnect();
  }
}

/** A cancelled job takes its shards that no worker has started off the queue. */
async function withdraw(queue: Queue, tracked: readonly Tracked[]): Promise<void> {
  for (const t of tracked) {
    if (t.state !== 'pending') continue;
    const job = await queue.getJob(t.shard.id).catch(() => undefined);
    if (job && (await job.getState().catch(() => 'unknown')) !== 'active') await job.remove().catch(() => {});
  }
}

function describe(shard: PlannedShard): string {
  const spans = shard.task.spans;
  const what = spans.kind === 'windows' ? `windows ${spans.first}–${spans.first + spans.count - 1}` : `${spans.clips.length} clip(s)`;
  return `video "${shard.video.name}" ${what}`;
}

/** BullMQ names a worker's connection "<prefix>:<queue>:w:<name>"; the name is host:pid. */
function workerName(client: Record<string, string>): string {
  const name = client.name ?? '';
  const at = name.indexOf(':w:');
  return at >= 0 ? name.slice(at + 3) : name || (client.addr ?? 'worker');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
