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
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { archOf, saveCheckpointAtomically } from '../../../src-main/core/jobs/model-files.ts';
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
  constructor(url: string, folder: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [bin, 'worker', '--queue', url, '--path-map', `${folder}=${folder}`, '--lock', '2', '--cache', join(folder, '.model-cache')], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
    });
    this.child.stdout!.on('data', (d) => (this.output += d));
    this.child.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  }
  async ready(): Promise<void> {
    await until(() => /worker \S+ on rediss?:\/\//.test(this.output), () => `worker did not start:\n${this.output}`, () => this.child.exitCode !== null);
  }
  get shardsDone(): number {
    return (this.output.match(/: done, \d+ window/g) ?? []).length;
  }
}

async function until(ok: () => boolean, why: () => string, gaveUp = () => false, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (gaveUp() || Date.now() > end) throw new Error(why());
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A tiny untrained model of the project's classes (predict and probe need no training). */
async function addModel(project: Project, classes: string[]): Promise<number> {
  const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: classes.length, inputSize: 32 }, { seed: 5 });
  const model = project.models.insert({ name: 'tiny', arch: archOf(network.config), classes });
  const relative = join('models', `${model.id}.safetensors`);
  await saveCheckpointAtomically(join(project.dir, relative), network, classes);
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

describe('predict and probe on a worker queue', () => {
  let f: LabelledProject;
  let redis: TestRedis;
  let out: string;
  let api: LocalApi;
  const workers: WorkerProcess[] = [];
  let localPredict: Row[];
  const predictParams = { modelId: 1, window: { value: 8, unit: 'frames' }, stride: { value: 2, unit: 'frames' }, batch: 4, direction: 'both' } as const;

  /** Runs a job through the contract in this process and writes its CSV. */
  async function runInProcess(kind: 'predict' | 'probe', params: Record<string, unknown>, file: string) {
    const job = kind === 'predict'
      ? await api.client.call('predict.start', { ...predictParams, ...params })
      : await api.client.call('probe.start', { modelId: 1, clips: 'windows', window: predictParams.window, stride: predictParams.stride, batch: 4, ...params });
    const done = await api.client.call('jobs.wait', { id: job.id });
    if (done.status === 'done') await api.client.call('export.csv', { kind: kind === 'predict' ? 'predictions' : 'probe', file: join(out, file), jobId: job.id });
    return done;
  }

  beforeAll(async () => {
    [f, redis] = await Promise.all([labelledProject({ reverse: true }), startRedis()]);
    await addModel(f.project, ['red', 'blue']);
    f.project.close();
    out = mkdtempSync(join(tmpdir(), 'stm-queue-out-'));
    // One worker over plain redis://, one over rediss:// (TLS), trusting the test's certificate as a lab would its own.
    workers.push(new WorkerProcess(redis.url, f.dir), new WorkerProcess(redis.tlsUrl, f.dir, { NODE_EXTRA_CA_CERTS: redis.caFile }));
    api = createLocalApi('cli');
    api.context.session.open(f.dir);
    const local = await runInProcess('predict', {}, 'local.csv');
    expect(local.status, local.error ?? '').toBe('done');
    localPredict = readCsv(join(out, 'local.csv'));
    await Promise.all(workers.map((w) => w.ready()));
  }, 180_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    api?.context.session.close();
    await redis?.stop();
    f?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('runs a prediction on two workers (one over TLS) with the rows and probabilities of a local run', async () => {
    // 4 videos × 9 windows in shards of 3 windows: 12 shards for 2 workers.
    const run = await cli(['predict', f.dir, '--model', 'tiny', '--window', '8f', '--stride', '2f', '--batch', '4', '--direction', 'both', '--queue', redis.url, '--shard-size', '3', '--json', '--out', join(out, 'queue.csv')]);
    expect(run.code, run.stderr).toBe(0);
    const figures = JSON.parse(run.stdout) as Record<string, number>;
    expect(figures).toMatchObject({ videos: 4, windows: 36, predictions: 72, shards: 12, rows: 72 });
    expectSameRows(readCsv(join(out, 'queue.csv')), localPredict);
    expect(workers.every((w) => w.shardsDone > 0), workers.map((w) => w.output).join('\n---\n')).toBe(true);
    expect(workers[0]!.output).toMatch(/shard [0-9a-f]{16}-\d+: predict "\S+\.mp4" windows \d+–\d+ \(forward\+reversed, model [0-9a-f]{12}\), attempt 1\/3/);
    expect(workers[1]!.output).toMatch(/on rediss:\/\/:\*\*\*@localhost/);
    // The password never shows: not in the workers' lines, not in the job's log or its view.
    expect(workers.map((w) => w.output).join('')).not.toContain(redis.password);
    const job = (await api.client.call('jobs.list', { kind: 'predict' })).at(-1)!;
    expect(JSON.stringify(job)).not.toContain(redis.password);
    expect((await api.client.call('jobs.log', { id: job.id })).log).not.toContain(redis.password);
  }, 120_000);

  it('loses and doubles nothing when a worker is killed mid-shard (another worker takes the shard over)', async () => {
    const victim = workers[0]!;
    const from = victim.output.length;
    const running = runInProcess('predict', { queue: redis.url, shardSize: 9, batch: 1 }, 'killed.csv');
    await until(() => /shard \S+: predict .*attempt 1\//.test(victim.output.slice(from)), () => `no shard started:\n${victim.output.slice(from)}`);
    victim.child.kill('SIGKILL');
    const done = await running;
    expect(done.status, done.error ?? '').toBe('done');
    expectSameRows(readCsv(join(out, 'killed.csv')), localPredict);
    // A replacement joins while the next tests run (the last one needs two workers again).
    workers[0] = new WorkerProcess(redis.url, f.dir);
  }, 120_000);

  it('probes through a Redis restart that lost its data (model and shards queued again) with the rows of a local probe', async () => {
    const local = await runInProcess('probe', {}, 'probe-local.csv');
    expect(local.status, local.error ?? '').toBe('done');
    const from = workers.map((w) => w.output.length);
    const running = runInProcess('probe', { queue: redis.url, shardSize: 2 }, 'probe-queue.csv');
    await until(() => workers.some((w, i) => /: done, \d+ window/.test(w.output.slice(from[i]))), () => 'no probe shard finished');
    await redis.restart(800, { forget: true });
    const done = await running;
    expect(done.status, done.error ?? '').toBe('done');
    expectSameRows(readCsv(join(out, 'probe-queue.csv')), readCsv(join(out, 'probe-local.csv')));
    const after = workers.map((w, i) => w.output.slice(from[i])).join('');
    expect(after).toMatch(/unreachable \(connection lost\); reconnecting[\s\S]*reachable again/);
    expect(after).not.toContain(redis.password);
  }, 120_000);

  it('re-attaches to its shards when the coordinating process dies and the app opens the project again', async () => {
    let killed = false;
    const first = await cli(['predict', f.dir, '--model', 'tiny', '--window', '8f', '--stride', '2f', '--batch', '4', '--direction', 'both', '--queue', redis.url, '--shard-size', '2', '--out', join(out, 'attach.csv')], (text, child) => {
      if (!killed && /shards [1-9]\d*\/\d+ done/.test(text)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    expect(killed).toBe(true);
    expect(first.code).not.toBe(0);
    // The app (not the CLI) resumes a queue job left behind by a process that died, as soon as it opens the project.
    const app = createLocalApi('electron');
    try {
      app.context.session.open(f.dir);
      await new Promise((r) => setImmediate(r)); // recovery and re-attachment follow the opening at once
      const job = (await app.client.call('jobs.list', { kind: 'predict' })).at(-1)!;
      expect(['queued', 'running']).toContain(job.status);
      const done = await app.client.call('jobs.wait', { id: job.id });
      expect(done.status, done.error ?? '').toBe('done');
      await app.client.call('export.csv', { kind: 'predictions', file: join(out, 'attach.csv'), jobId: job.id });
      expect((await app.client.call('jobs.log', { id: job.id })).log).toMatch(/already in the project/);
    } finally {
      app.context.session.close();
    }
    expectSameRows(readCsv(join(out, 'attach.csv')), localPredict);
  }, 120_000);

  it('fails the shard of a video no worker can read, naming the path and --path-map, while the others finish', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'stm-elsewhere-'));
    try {
      const path = await makeColourVideo(join(elsewhere, 'far.mp4'), 'green', 9);
      const added = await api.client.call('videos.add', { paths: [path] });
      expect(added).toHaveLength(1);
      const done = await runInProcess('predict', { queue: redis.url, attempts: 2, direction: 'forward' }, 'partial.csv');
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(/1 of 5 shard\(s\) failed after 2 attempt\(s\); the other 4 are in the project/);
      expect(done.error).toContain(path);
      expect(done.error).toMatch(/--path-map FROM=TO/);
      const rows = await api.client.call('export.csv', { kind: 'predictions', file: join(out, 'partial.csv'), jobId: done.id });
      expect(rows.rows).toBe(36);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 120_000);

  it('coordinates a queue job without holding up local jobs, and a cancel takes its waiting shards off the queue', async () => {
    // Database 3 of the same Redis: no worker listens there, so the shards wait.
    const idle = `${redis.url}/3`;
    const queued = await api.client.call('predict.start', { ...predictParams, queue: idle, shardSize: 9 });
    const waitingShards = async () => (await api.client.call('jobs.get', { id: queued.id })).progress?.shards?.waiting ?? 0;
    const end = Date.now() + 30_000;
    while ((await waitingShards()) !== 4) {
      if (Date.now() > end) throw new Error('the queue job did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const local = await runInProcess('predict', { direction: 'forward' }, 'alongside.csv');
    expect(local.status, local.error ?? '').toBe('done');
    expect((await api.client.call('jobs.get', { id: queued.id })).status).toBe('running');
    await api.client.call('jobs.cancel', { id: queued.id });
    expect((await api.client.call('jobs.wait', { id: queued.id })).status).toBe('cancelled');
    const connection = new Redis({ port: redis.port, password: redis.password, db: 3, maxRetriesPerRequest: null });
    const queue = new Queue(SHARD_QUEUE, { connection });
    try {
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  }, 60_000);

  it('says which queue it cannot reach (wrong password) without showing the password', async () => {
    const wrong = `redis://:not-the-password@127.0.0.1:${redis.port}`;
    const done = await runInProcess('predict', { queue: wrong }, 'never.csv');
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(new RegExp(`Cannot reach the worker queue at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}: WRONGPASS`));
    expect(done.error).not.toContain('not-the-password');
    expect(done.params.queue).toBe(`redis://:***@127.0.0.1:${redis.port}`);
  }, 60_000);

  it('refuses queue jobs that are not STM Studio shards, and keeps running', async () => {
    const connection = new Redis({ port: redis.port, password: redis.password, maxRetriesPerRequest: null });
    const queue = new Queue(SHARD_QUEUE, { connection });
    try {
      const alien = await queue.add('shell', { command: 'rm -rf /' }, { attempts: 1 });
      const evil = await queue.add('predict', { version: 1, command: 'touch /tmp/owned' }, { attempts: 1 });
      const stateOf = async () => [await alien.getState(), await evil.getState()];
      const end = Date.now() + 30_000;
      while ((await stateOf()).some((s) => s !== 'failed')) {
        if (Date.now() > end) throw new Error('the workers did not refuse the jobs');
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

  it('a worker stopped with Ctrl-C mid-shard hands the shard back at once and exits cleanly', async () => {
    await Promise.all(workers.map((w) => w.ready()));
    const from = workers.map((w) => w.output.length);
    const running = runInProcess('predict', { queue: redis.url, shardSize: 9, batch: 1 }, 'released.csv');
    let stopped = -1;
    await until(() => {
      stopped = workers.findIndex((w, i) => /shard \S+: predict .*attempt/.test(w.output.slice(from[i])));
      return stopped >= 0;
    }, () => 'no shard started');
    workers[stopped]!.child.kill('SIGINT');
    expect(await workers[stopped]!.exited).toBe(0);
    expect(workers[stopped]!.output.slice(from[stopped])).toMatch(/stopping: handing shards in hand back to the queue[\s\S]*handed back to the queue[\s\S]*stopped/);
    const done = await running;
    expect(done.status, done.error ?? '').toBe('done');
    expect(readCsv(join(out, 'released.csv'))).toHaveLength(72);
  }, 120_000);
});
