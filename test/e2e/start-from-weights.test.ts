import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { BASE_URL_ENV, CATALOGUE_FILE_ENV } from '../../src-main/core/weights/catalogue.ts';
import { importWeightsFile } from '../../src-main/core/weights/import.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';
import { fixture, servedFiles, sha256Of, testCatalogue, writeCatalogueFile } from '../helpers/weights-catalogue.ts';
import { startWeightsServer, type WeightsServer } from '../helpers/weights-server.ts';

const saved = { home: process.env.STM_STUDIO_HOME, catalogue: process.env[CATALOGUE_FILE_ENV], base: process.env[BASE_URL_ENV] };
let studio: Studio;
let media: string;
let server: WeightsServer;

/** Two videos with "open lid" ↔ "close lid" clips: a project with a reverse pair. */
async function makeLabelledProject(dir: string): Promise<void> {
  const a = await makeTestVideo(join(media, 'cam-a.mp4'), { frames: 100, fps: 25, size: [160, 120] });
  const b = await makeTestVideo(join(media, 'cam-b.mp4'), { frames: 100, fps: 25, size: [176, 144] });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const added = await client.call('videos.add', { paths: [a, b] });
  const open = await client.call('classes.add', { name: 'open lid' });
  const close = await client.call('classes.add', { name: 'close lid', reverseOf: open.id });
  for (const [i, r] of added.entries()) {
    if (!r.ok) throw new Error(r.error.message);
    for (let k = 0; k < 4; k++) await client.call('clips.create', { videoId: r.video.id, classId: (k + i) % 2 ? close.id : open.id, startFrame: k * 20, endFrame: k * 20 + 20 });
  }
  context.session.close();
}

async function waitForJobs(page: Page, done: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const jobs = [...document.querySelectorAll('[aria-label="Job list"] > li')];
      const failed = jobs.find((j) => j.classList.contains('failed'));
      if (failed) throw new Error(`job failed: ${failed.textContent}`);
      return jobs.filter((j) => j.classList.contains('done')).length >= n;
    },
    done,
    { timeout: 150_000, polling: 500 },
  );
}

/** The smallest clips that still train: one epoch, 4 frames at 32², half the clips for validation. */
async function smallRun(form: Locator, name: string): Promise<void> {
  await form.getByRole('textbox', { name: 'Run name' }).fill(name);
  if ((await form.locator('details').getAttribute('open')) === null) await form.getByText('Advanced').click();
  await form.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
  await form.getByRole('spinbutton', { name: 'Frames per clip' }).fill('4');
  await form.getByRole('spinbutton', { name: 'Input size' }).fill('32');
  await form.getByRole('spinbutton', { name: 'Validation share' }).fill('0.5');
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-weights-'));
  const catalogue = testCatalogue();
  server = await startWeightsServer(servedFiles(catalogue));
  process.env.STM_STUDIO_HOME = join(media, 'home');
  process.env[CATALOGUE_FILE_ENV] = writeCatalogueFile(media, catalogue);
  process.env[BASE_URL_ENV] = server.url;
  // Kinetics TSM is already in the per-user cache; Something-Something is not.
  await importWeightsFile(fixture('weights-tsm-k400-tiny.pth'), catalogue);
  const projectDir = join(media, 'project');
  await makeLabelledProject(projectDir);
  studio = await startStudio({ projectDir });
});

afterAll(async () => {
  await studio?.close();
  await server?.close();
  rmSync(media, { recursive: true, force: true });
  for (const [key, value] of [['STM_STUDIO_HOME', saved.home], [CATALOGUE_FILE_ENV, saved.catalogue], [BASE_URL_ENV, saved.base]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('New fine-tune starts from pretrained weights', () => {
  it('preselects the cached weights with the reason, trains from them, downloads others on demand, and the card records them', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    const form = page.getByRole('dialog', { name: 'New fine-tune' });
    const startFrom = form.getByRole('combobox', { name: 'Start from' });

    // The project has a reverse pair, so Something-Something fits best; only Kinetics is cached, so that is picked.
    await expect.poll(() => startFrom.inputValue()).toBe('pretrained:tsm-r50-kinetics400');
    await expect.poll(() => form.getByTestId('start-why').innerText()).toMatch(/^TSM ResNet-50, 8 frames, Kinetics-400 \(mmaction2\): the better fit \(tsm-r50-sthv2\) is not downloaded; your classes have 1 reverse pair\(s\)/);
    const options = await startFrom.locator('option').allInnerTexts();
    expect(options).toContain('TSM ResNet-50, 8 frames, Kinetics-400 (mmaction2) — downloaded');
    expect(options).toContain('TSM ResNet-50, 8 frames, Something-Something v2 (mmaction2) — download ≈2.1 MB');
    expect(options).toContain('ResNet-50, ImageNet-1k (torchvision IMAGENET1K_V1) — download 2.1 MB');
    expect(await form.getByTestId('start-entry').innerText()).toMatch(/^Top-1 73\.18% on Kinetics-400 val · trained on Kinetics-400 .* · layout 1,1,1,1, width 16$/);
    // Fine-tune defaults on CPU: the weights' layout, early stages frozen, a small learning rate.
    await form.getByText('Advanced').click();
    expect(await form.getByRole('textbox', { name: 'Stage depths' }).inputValue()).toBe('1,1,1,1');
    expect(await form.getByRole('spinbutton', { name: 'Frozen stages' }).inputValue()).toBe('2');
    expect(await form.getByRole('spinbutton', { name: 'Learning rate' }).inputValue()).toBe('0.001');
    await form.getByText('Advanced').click();
    await screenshot(page, 'train-start-from-1280x800');
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'train-start-from-1024x640');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Scratch is one click away.
    await form.getByRole('button', { name: 'Start from scratch instead' }).click();
    expect(await startFrom.inputValue()).toBe('scratch');
    await startFrom.selectOption('pretrained:tsm-r50-kinetics400');
    await smallRun(form, 'from kinetics');
    await form.getByRole('button', { name: 'Start training' }).click();
    await waitForJobs(page, 1);
    const card = page.getByTestId('started-from').first();
    await expect.poll(() => card.innerText()).toBe(`started from tsm-r50-kinetics400 · sha256 ${sha256Of(fixture('weights-tsm-k400-tiny.pth')).slice(0, 16)}…`);

    // Something-Something: downloaded when the run starts, with progress, then trained from.
    server.throttleMs = 60;
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    await startFrom.selectOption('pretrained:tsm-r50-sthv2');
    await smallRun(form, 'from sthv2');
    await form.getByRole('button', { name: 'Download and train' }).click();
    const progress = form.getByRole('status', { name: 'Download progress' });
    await progress.waitFor();
    await expect.poll(() => progress.innerText()).toMatch(/MB of 2\.1 MB · \d+\.\d MB\/s/);
    await screenshot(page, 'train-downloading-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await waitForJobs(page, 2);
    server.throttleMs = 0;
    await expect.poll(() => page.getByTestId('started-from').first().innerText()).toMatch(/^started from tsm-r50-sthv2 · sha256 [0-9a-f]{16}…$/);

    // Offline: a file picked by path goes into the cache, recognised by its hash, and becomes the start.
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    await startFrom.selectOption('weights');
    await form.getByRole('textbox', { name: 'Weights file path' }).fill(fixture('weights-resnet-tiny.pth'));
    await form.getByRole('button', { name: 'Add to the weights cache' }).click();
    await expect.poll(() => startFrom.inputValue()).toBe('pretrained:resnet50-imagenet1k-v1');
    expect(await startFrom.locator('option:checked').innerText()).toBe('ResNet-50, ImageNet-1k (torchvision IMAGENET1K_V1) — downloaded');
    await form.getByRole('button', { name: 'Cancel' }).click();
    expect(errors).toEqual([]);
  });
});
