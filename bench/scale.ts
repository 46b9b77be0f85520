/**
 * `npm run bench -- scale`: predict throughput on the worker queue (a real redis-server on loopback, 1, 2
 * and 3 `stm-studio worker` processes on this machine) against the same prediction run locally, and the
 * cost of one shard (queue round trip, decoder start, model lookup) measured from shards of 1 window
 * against shards of 64. Workers on one machine share its cores (each gets cores/N ONNX threads, as if it
 * were a machine of that size), so this shows the queue's overhead, not the speed-up of several machines;
 * each figure names the CPU and the load when it was measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProject, type Project } from '../src-main/core/store/project.ts';
import { requireFfmpegTools } from '../src-main/core/media/locate.ts';
import { addVideos } from '../src-main/core/media/library.ts';
import { runPredictJob } from '../src-main/core/jobs/predict.ts';
import { runQueuedJob } from '../src-main/core/jobs/distributed/coordinator.ts';
import type { JobHooks } from '../src-main/core/jobs/types.ts';
import { makeTestVideo } from '../test/helpers/videos.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { report, reportRatio, round } from './lib/report.ts';
import { addBenchModel } from './lib/bench-model.ts';

const SUITE = 'scale';
const CONFIG = { variant: 'stm' as const, layers: [1, 1, 1, 1] as [number, number, number, number], baseWidth: 32, frames: 8, classes: 4, inputSize: 96 };
const PARAMS = { window: { value: 16, unit: 'frames' }, stride: { value: 8, unit: 'frames' }, direction: 'forward', batch: 8, backend: 'wasm' } as const;
const bin = join(import.meta.dirname, '..', 'bin', 'stm-studio.mjs');
const quietHooks: JobHooks = { report() {}, log() {}, throwIfCancelled() {} };

/** Where and under what load a figure was measured. */
function machine(): Record<string, unknown> {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), load1: round(loadavg()[0]!, 2) };
}

async function setUp(dir: string): Promise<{ project: Project; modelId: number }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths = await Promise.all([0, 1, 2, 3].map((i) => makeTestVideo(join(dir, `v${i}.mp4`), { frames: 400 + i * 8, fps: 25, size: [160, 120] })));
  const project = openProject(dir, { create: true });
  for (const r of await addVideos(project, await requireFfmpegTools(), paths)) if (!r.ok) throw new Error(r.error.message);
  const modelId = await addBenchModel(project, CONFIG);
  return { project, modelId };
}

/** A worker with its share of this machine's cores (as if each were a machine of cores/N). */
function startWorker(url: string, dir: string, threads: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['worker', '--queue', url, '--path-map', `${dir}=${dir}`, '--cache', join(dir, '.models'), '--threads', String(threads)];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (/worker \S+ on redis/.test(out)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)));
  });
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    w.removeAllListeners('exit');
    w.once('exit', () => resolve());
    w.kill('SIGINT');
  })));
}

async function timed(run: () => Promise<{ figures: Record<string, unknown> }>): Promise<{ seconds: number; windows: number }> {
  const t0 = performance.now();
  const outcome = await run();
  return { seconds: (performance.now() - t0) / 1000, windows: Number(outcome.figures.windows) };
}

export async function run(): Promise<void> {
  const dir = join(tmpdir(), 'stm-bench-scale');
  const { project, modelId } = await setUp(dir);
  const redis = await startRedis();
  try {
    const localRun = async () => {
      const local = await timed(() => {
        const job = project.jobs.insert('predict', { modelId, ...PARAMS, engine: 'onnx' });
        return runPredictJob(project, project.jobs.require(job.id), quietHooks);
      });
      return local.windows / local.seconds;
    };
    // The reference is the better of two local runs (before and between the queue runs): on a shared
    // machine the least disturbed run is the fair one.
    let localRate = await localRun();
    report({ suite: SUITE, figure: 'predict windows/s, local run (ONNX Runtime, all cores)', value: round(localRate, 2), unit: 'windows/s', ...machine() });

    const onQueue = async (shardSize: number) => timed(() => {
      const job = project.jobs.insert('predict', { modelId, ...PARAMS, engine: 'onnx', queue: redis.url, shardSize });
      return runQueuedJob(project, project.jobs.require(job.id), quietHooks);
    });

    let perShardMs = 0;
    for (const count of [1, 2, 3]) {
      const workers: ChildProcess[] = [];
      const threads = Math.max(1, Math.floor(availableParallelism() / count));
      for (let i = 0; i < count; i++) workers.push(await startWorker(redis.url, dir, threads));
      try {
        if (count === 2) {
          localRate = Math.max(localRate, await localRun());
          report({ suite: SUITE, figure: 'predict windows/s, local run again (the better run is the reference)', value: round(localRate, 2), unit: 'windows/s', ...machine() });
        }
        await onQueue(64); // warm-up: every worker fetches the model and opens it
        const queued = await onQueue(16);
        const rate = queued.windows / queued.seconds;
        report({ suite: SUITE, figure: `predict windows/s on the queue, ${count} worker(s) on this machine`, value: round(rate, 2), unit: 'windows/s', shardWindows: 16, threadsPerWorker: threads, ...machine() });
        reportRatio(SUITE, `queue with ${count} worker(s) / local run (same machine)`, rate / localRate, { min: 0.5 });
        if (count === 1) {
          const small = await onQueue(1);
          const large = await onQueue(64);
          const shards = (n: number) => Math.ceil(small.windows / n);
          perShardMs = ((small.seconds - large.seconds) / (small.windows - shards(64))) * 1000;
          report({ suite: SUITE, figure: 'overhead per shard (1-window shards against 64-window shards, 1 worker)', value: round(perShardMs, 1), unit: 'ms', ...machine() });
        }
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    project.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
