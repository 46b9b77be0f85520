/**
 * Predict and probe on a worker queue, with real parts: Debian's redis-server on a loopback port (with a
 * password), worker processes of the real CLI, videos encoded by ffmpeg. The queue's results must be the
 * rows a run on one machine writes, through a killed worker, a Redis restart and a restarted coordinator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Project } from '../../../src-main/core/store/project.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { archOf, saveCheckpointAtomically } from '../../../src-main/core/jobs/model-files.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { SHARD_QUEUE } from '../../../src-main/core/jobs/distributed/connection.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';
import { labelledProject, makeColourVideo, type LabelledProject } from './project-fixture.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI to the end; `onStderr` sees the output as it comes (to kill it mid-job). */
function cli(args: string[], onOutput?: (text: string, child: ChildProcess) => void): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => ((stdout += d), onOutput?.(stdout + stderr, child)));
    child.stderr.on('data', (d) => ((stderr += d), onOutput?.(stdout + stderr, child)));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `stm-studio worker` process; `output` grows as it prints. */
class WorkerProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  constructor(url: string, pathMap: string, extra: string[] = []) {
    this.child = spawn(process.execPath, [bin, 'worker', '--queue', url, '--path-map', pathMap, '--lock', '2', '--cache', join(pathMap.split('=')[1]!, '.model-cache'), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }
  async ready(): Promise<void> {
    const until = Date.now() + 60_000;
    while (!/worker \S+ on redis:\/\//.test(this.output)) {
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`worker did not start:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  get shardsDone(): number {
    return (this.output.match(/: done, \d+ window/g) ?? []).length;
  }
}

/** A tiny untrained model of the project's classes (predict and probe need no training). */
function addModel(project: Project, classes: string[]): number {
  const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: classes.length, inputSize: 32 }, { seed: 5 });
  const model = project.models.insert({ name: 'tiny', arch: archOf(network.config), classes });
  const relative = join('models', `${model.id}.safetensors`);
  saveCheckpointAtomically(join(project.dir, relative), network, classes);
  network.dispose();
  project.models.update(model.id, { weightsPath: relative });
  return model.id;
}

type Row = Record<string, string>;
const readCsv = (file: string): Row[] => parse(readFileSync(file, 'utf8'), { columns: true }) as Row[];
const keyOf = (r: Row) => `${r.video}|${r.direction ?? ''}|${r.window ?? r.clip ?? ''}|${r.start_frame}`;

/** Same rows (by video, direction and window) with every number within 1e-5. */
function expectSameRows(actual: Row[], expected: Row[]): void {
  expect(actual.map(keyOf)).toEqual(expected.map(keyOf));
  expect(new Set(actual.map(keyOf)).size).toBe(actual.length);
  actual.forEach((row, i) => {
    for (const [column, value] of Object.entries(expected[i]!)) {
      const a = Number(row[column]);
      if (value !== '' && Number.isFinite(Number(value)) && Number.isFinite(a)) expect(Math.abs(a - Number(value)), `${column} of ${keyOf(row)}`).toBeLessThan(1e-5);
      else expect(row[column], column).toBe(value);
    }
  });
}

const windows = ['--window', '8f', '--stride', '2f', '--batch', '4'];

describe('predict and probe on a worker queue', () => {
  let f: LabelledProject;
  let redis: TestRedis;
  let out: string;
  const workers: WorkerProcess[] = [];
  let localPredict: Row[];

  beforeAll(async () => {
    [f, redis] = await Promise.all([labelledProject({ reverse: true }), startRedis()]);
    addModel(f.project, ['red', 'blue']);
    f.project.close();
    out = mkdtempSync(join(tmpdir(), 'stm-queue-out-'));
    workers.push(new WorkerProcess(redis.url, `${f.dir}=${f.dir}`), new WorkerProcess(redis.url, `${f.dir}=${f.dir}`));
    const local = await cli(['predict', f.dir, '--model', 'tiny', ...windows, '--direction', 'both', '--out', join(out, 'local.csv')]);
    expect(local.code, local.stderr).toBe(0);
    localPredict = readCsv(join(out, 'local.csv'));
    await Promise.all(workers.map((w) => w.ready()));
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    await redis?.stop();
    f?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('runs a prediction on two workers with the rows and probabilities of a local run', async () => {
    // 4 videos × 9 windows in shards of 3 windows: 12 shards for 2 workers.
    const run = await cli(['predict', f.dir, '--model', 'tiny', ...windows, '--direction', 'both', '--queue', redis.url, '--shard-size', '3', '--json', '--out', join(out, 'queue.csv')]);
    expect(run.code, run.stderr).toBe(0);
    const figures = JSON.parse(run.stdout) as Record<string, number>;
    expect(figures).toMatchObject({ videos: 4, windows: 36, predictions: 72, shards: 12, rows: 72 });
    expectSameRows(readCsv(join(out, 'queue.csv')), localPredict);
    expect(workers.every((w) => w.shardsDone > 0), workers.map((w) => w.output).join('\n---\n')).toBe(true);
    expect(workers[0]!.output).toMatch(/shard [0-9a-f]{16}-\d+: predict "red-1\.mp4" windows|shard [0-9a-f]{16}-\d+: predict "/);
    // The password never shows: not in the workers' lines, not in the job as the contract shows it.
    expect(workers.map((w) => w.output).join('')).not.toContain(redis.password);
    const project = openProject(f.dir);
    try {
      expect(project.jobs.list({ kind: 'predict' }).at(-1)!.log).not.toContain(redis.password);
    } finally {
      project.close();
    }
  }, 120_000);

  it('loses and doubles nothing when a worker is killed mid-shard (another worker takes the shard over)', async () => {
    const victim = workers[0]!;
    const before = victim.output.length;
    let killed = false;
    const run = await cli(['predict', f.dir, '--model', 'tiny', ...windows, '--direction', 'both', '--queue', redis.url, '--shard-size', '9', '--out', join(out, 'killed.csv')], () => {
      if (!killed && /shard \S+: predict .*attempt 1\//.test(victim.output.slice(before))) {
        killed = true;
        victim.child.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    expect(run.code, run.stderr).toBe(0);
    expectSameRows(readCsv(join(out, 'killed.csv')), localPredict);
    workers[0] = new WorkerProcess(redis.url, `${f.dir}=${f.dir}`);
    await workers[0].ready();
  }, 120_000);

  it('probes through a Redis restart with the rows of a local probe', async () => {
    const local = await cli(['probe', f.dir, '--model', 'tiny', '--clips', 'windows', ...windows, '--out', join(out, 'probe-local.csv')]);
    expect(local.code, local.stderr).toBe(0);
    let restarting: Promise<void> | null = null;
    const from = workers.map((w) => w.output.length);
    const run = await cli(['probe', f.dir, '--model', 'tiny', '--clips', 'windows', ...windows, '--queue', redis.url, '--shard-size', '2', '--out', join(out, 'probe-queue.csv')], () => {
      if (!restarting && workers.some((w, i) => /: done, \d+ window/.test(w.output.slice(from[i])))) restarting = redis.restart(1500);
    });
    expect(restarting).not.toBeNull();
    await restarting;
    expect(run.code, run.stderr).toBe(0);
    expectSameRows(readCsv(join(out, 'probe-queue.csv')), readCsv(join(out, 'probe-local.csv')));
    const after = workers.map((w, i) => w.output.slice(from[i])).join('');
    expect(after).toMatch(/unreachable \(connection lost\); reconnecting[\s\S]*reachable again/);
    expect(after).not.toContain(redis.password);
  }, 120_000);

  it('re-attaches a restarted coordinator to its shards and finishes the job', async () => {
    let killedAt = '';
    const first = await cli(['predict', f.dir, '--model', 'tiny', ...windows, '--direction', 'both', '--queue', redis.url, '--shard-size', '2', '--out', join(out, 'attach.csv')], (text, child) => {
      if (!killedAt && /shards [1-9]\d*\/\d+ done/.test(text)) {
        killedAt = text;
        child.kill('SIGKILL');
      }
    });
    expect(first.code).not.toBe(0);
    const project = openProject(f.dir);
    const jobId = project.jobs.list({ kind: 'predict' }).at(-1)!.id;
    project.close();
    const again = await cli(['predict', f.dir, '--resume', String(jobId), '--out', join(out, 'attach.csv')]);
    expect(again.code, again.stderr).toBe(0);
    expectSameRows(readCsv(join(out, 'attach.csv')), localPredict);
  }, 120_000);

  it('fails the shard of a video no worker can read, naming the path and --path-map, while the others finish', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'stm-elsewhere-'));
    try {
      const path = await makeColourVideo(join(elsewhere, 'far.mp4'), 'green', 9);
      const project = openProject(f.dir);
      const added = await addVideos(project, await requireFfmpegTools(), [path]);
      project.close();
      expect(added[0]!.ok).toBe(true);
      const run = await cli(['predict', f.dir, '--model', 'tiny', ...windows, '--queue', redis.url, '--attempts', '2', '--out', join(out, 'partial.csv')]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/1 of 5 shard\(s\) failed after 2 attempt\(s\); the other 4 are in the project/);
      expect(run.stderr).toContain(path);
      expect(run.stderr).toMatch(/--path-map FROM=TO/);
      const after = openProject(f.dir);
      try {
        const job = after.jobs.list({ kind: 'predict' }).at(-1)!;
        expect(job.status).toBe('failed');
        expect(after.predictions.list({ jobId: job.id })).toHaveLength(36);
      } finally {
        after.close();
      }
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses queue jobs that are not STM Studio shards, and keeps running', async () => {
    const connection = new Redis({ port: redis.port, password: redis.password, maxRetriesPerRequest: null });
    const queue = new Queue(SHARD_QUEUE, { connection });
    try {
      const alien = await queue.add('shell', { command: 'rm -rf /' }, { attempts: 1 });
      const evil = await queue.add('predict', { version: 1, command: 'touch /tmp/owned' }, { attempts: 1 });
      const until = Date.now() + 30_000;
      while ((await alien.getState()) !== 'failed' || (await evil.getState()) !== 'failed') {
        if (Date.now() > until) throw new Error('the workers did not refuse the jobs');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await queue.getJob(alien.id!))!.failedReason).toMatch(/"shell" is not an STM Studio job kind/);
      expect((await queue.getJob(evil.id!))!.failedReason).toMatch(/not a valid predict shard/);
      expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
    } finally {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
      connection.disconnect();
    }
  }, 60_000);

  it('a worker stopped with Ctrl-C hands its shard back and exits cleanly', async () => {
    const worker = workers[1]!;
    worker.child.kill('SIGINT');
    expect(await worker.exited).toBe(0);
    expect(worker.output).toMatch(/stopping: handing shards in hand back to the queue[\s\S]*stopped/);
  }, 60_000);
});
