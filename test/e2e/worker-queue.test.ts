/**
 * The UI's "Run on: Worker queue" choice with real parts: the web host and Debian Chromium, a real
 * redis-server and a `stm-studio worker` process. The URL is kept in the app's settings, the Jobs panel shows
 * the shards waiting for a worker, and the predictions come back as heat tracks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { SHARD_QUEUE } from '../../src-main/core/jobs/distributed/connection.ts';
import { createStmNetwork } from '../../src-main/core/model/network.ts';
import { archOf, saveCheckpointAtomically } from '../../src-main/core/jobs/model-files.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const bin = join(import.meta.dirname, '../../bin/stm-studio.mjs');
let studio: Studio;
let media: string;
let redis: TestRedis;
let worker: ChildProcess | null = null;
const previousHome = process.env.STM_STUDIO_HOME;

async function makeProject(dir: string): Promise<void> {
  const video = await makeTestVideo(join(dir, 'cam-a.mp4'), { frames: 40, fps: 10 });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir: join(dir, 'project'), create: true });
  const [added] = await client.call('videos.add', { paths: [video] });
  if (!added!.ok) throw new Error(added!.error.message);
  const classes = ['open lid', 'close lid'];
  for (const name of classes) await client.call('classes.add', { name });
  const project = context.session.project;
  const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: 2, inputSize: 32 }, { seed: 2 });
  const model = project.models.insert({ name: 'lids', arch: archOf(network.config), classes });
  await saveCheckpointAtomically(join(project.dir, 'models', `${model.id}.safetensors`), network, classes);
  network.dispose();
  project.models.update(model.id, { weightsPath: join('models', `${model.id}.safetensors`) });
  context.session.close();
}

function startWorker(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'worker', '--queue', redis.url, '--path-map', `${media}=${media}`, '--cache', join(media, '.models')], { stdio: ['ignore', 'pipe', 'pipe'] });
    worker = child;
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (/worker \S+ on redis/.test(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`worker exited (${code}): ${out}`)));
  });
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-queue-'));
  process.env.STM_STUDIO_HOME = join(media, 'app-data');
  [redis] = await Promise.all([startRedis(), makeProject(media)]);
  studio = await startStudio({ projectDir: join(media, 'project') });
}, 120_000);
afterAll(async () => {
  worker?.removeAllListeners('exit');
  worker?.kill('SIGKILL');
  await studio?.close();
  await redis?.stop();
  if (previousHome === undefined) delete process.env.STM_STUDIO_HOME;
  else process.env.STM_STUDIO_HOME = previousHome;
  rmSync(media, { recursive: true, force: true });
});

describe('Run on: worker queue', () => {
  it('keeps the queue URL in the settings, shows shards waiting for a worker, cancels them, and brings the predictions back', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video cam-a.mp4' }).click();

    await page.getByRole('combobox', { name: 'Run on' }).selectOption('queue');
    // No URL yet: Predict waits for one.
    expect(await page.getByRole('button', { name: 'Predict video' }).isDisabled()).toBe(true);
    await page.getByRole('textbox', { name: 'Worker queue URL' }).fill(redis.url);
    await page.getByRole('button', { name: 'Save' }).click();
    // Shown without its password; stored for the next start.
    await expect.poll(() => page.getByTitle(/Change the worker queue URL/).innerText()).toBe(`redis://:***@127.0.0.1:${redis.port}`);
    expect(JSON.parse(readFileSync(join(media, 'app-data', 'queue.json'), 'utf8'))).toEqual({ url: redis.url });
    expect(await unnamedControls(page)).toEqual([]);
    await screenshot(page, 'worker-queue-run-on-1280');

    // No worker yet: the job waits with its shard, and says so.
    await page.getByRole('button', { name: 'Predict video' }).click();
    const jobs = page.getByRole('complementary', { name: 'Jobs' });
    await expect.poll(() => jobs.getByLabel(/Shards of job/).first().innerText(), { timeout: 30_000 }).toMatch(/shards 0\/1 done · 0 running · 1 waiting/);
    expect(await jobs.innerText()).toMatch(/Predict · worker queue/);
    expect(await jobs.innerText()).toMatch(/0 worker\(s\) seen/);
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'worker-queue-waiting-1024');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Cancelling takes the shard no worker has started off the queue.
    await jobs.getByRole('button', { name: /Cancel job/ }).first().click();
    await expect.poll(() => jobs.locator('li.job').first().getAttribute('class'), { timeout: 30_000 }).toMatch(/cancelled/);
    const connection = new Redis({ port: redis.port, password: redis.password, maxRetriesPerRequest: null });
    const queue = new Queue(SHARD_QUEUE, { connection });
    try {
      await expect.poll(() => queue.getWaitingCount(), { timeout: 15_000 }).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
    }

    await page.getByRole('button', { name: 'Predict video' }).click();
    await startWorker();
    await expect.poll(() => jobs.locator('li.job').first().getAttribute('class'), { timeout: 60_000 }).toMatch(/done/);
    // The windows came back as heat tracks on the timeline.
    await expect.poll(() => page.getByRole('checkbox', { name: 'Show predictions' }).count(), { timeout: 15_000 }).toBe(1);
    expect(errors).toEqual([]);
  }, 180_000);
});
