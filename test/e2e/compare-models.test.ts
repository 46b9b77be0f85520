import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import type { Project } from '../../src-main/core/store/project.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

const CLASSES = ['open lid', 'close lid'];
const FRAMES = 100;
let studio: Studio;
let media: string;

/** Stores a finished predict job of `modelId` on one video: 16-frame windows every 8 frames, both directions. */
function storePredictions(project: Project, modelId: number, videoId: number, openLidUntil: number): void {
  const job = project.jobs.insert('predict', { modelId, videoIds: [videoId], direction: 'both' });
  project.jobs.update(job.id, { status: 'done', modelId });
  const rows = [];
  for (const direction of ['forward', 'reversed'] as const) {
    for (let windowIndex = 0, start = 0; start + 16 <= FRAMES; windowIndex++, start += 8) {
      const open = start < openLidUntil ? 0.9 : 0.1;
      rows.push({ jobId: job.id, modelId, videoId, windowIndex, startFrame: start, endFrame: start + 16, direction, probabilities: new Float32Array([open, 1 - open]) });
    }
  }
  project.predictions.insertMany(rows);
}

/**
 * Two videos and two models ("lids STM", then "lids TSN"). Both models predicted cam-a; only TSN predicted
 * cam-b, so a comparison there has nothing to show.
 */
async function makeProject(dir: string): Promise<void> {
  const a = await makeTestVideo(join(dir, 'cam-a.mp4'), { frames: FRAMES, fps: 25 });
  const b = await makeTestVideo(join(dir, 'cam-b.mp4'), { frames: FRAMES, fps: 25, size: [176, 144] });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir: join(dir, 'project'), create: true });
  const added = await client.call('videos.add', { paths: [a, b] });
  const [videoA, videoB] = added.map((r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.video.id;
  });
  for (const name of CLASSES) await client.call('classes.add', { name });
  const project = context.session.project;
  const stm = project.models.insert({ name: 'lids STM', arch: {}, classes: CLASSES });
  const tsn = project.models.insert({ name: 'lids TSN', arch: {}, classes: CLASSES });
  storePredictions(project, stm.id, videoA!, 40);
  storePredictions(project, tsn.id, videoA!, 64);
  storePredictions(project, tsn.id, videoB!, 64);
  context.session.close();
}

/** The row labels beside the heat tracks, top to bottom, as their tooltips read. */
function heatRows(page: Page): Promise<string[]> {
  return page.locator('.head.heat').evaluateAll((heads) => heads.map((h) => h.getAttribute('title') ?? ''));
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-compare-'));
  await makeProject(media);
  studio = await startStudio({ projectDir: join(media, 'project') });
});
afterAll(async () => {
  await studio?.close();
  rmSync(media, { recursive: true, force: true });
});

describe('comparing two models on the Label timeline', () => {
  it('shows the comparison model’s rows under each class of the primary and hides them with "No comparison"', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video cam-a.mp4' }).click();

    // The newest model is the primary; the comparison select lists only the other one.
    const primary = page.getByRole('combobox', { name: 'Model for predictions' });
    const compare = page.getByRole('combobox', { name: 'Compare with model' });
    await expect.poll(() => primary.locator('option:checked').innerText()).toBe('lids TSN');
    expect(await compare.locator('option').allInnerTexts()).toEqual(['No comparison', 'vs lids STM']);
    await expect.poll(() => heatRows(page)).toEqual(['open lid (forward)', 'open lid (reversed)', 'close lid (forward)', 'close lid (reversed)']);

    await compare.selectOption({ label: 'vs lids STM' });
    await page.getByTitle('open lid (forward) by lids STM, compared', { exact: true }).waitFor();
    expect(await heatRows(page)).toEqual([
      'open lid (forward)',
      'open lid (reversed)',
      'open lid (forward) by lids STM, compared',
      'open lid (reversed) by lids STM, compared',
      'close lid (forward)',
      'close lid (reversed)',
      'close lid (forward) by lids STM, compared',
      'close lid (reversed) by lids STM, compared',
    ]);
    // The row labels name the compared model (its option in the select reads the same).
    await expect(page.getByText('vs lids STM', { exact: true }).count()).resolves.toBe(4 + 1);
    await screenshot(page, 'label-compare-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 640 });
    await compare.waitFor();
    await undoButtonVisible(page);
    await screenshot(page, 'label-compare-1024x640');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Another video reloads the comparison: STM never predicted cam-b, so only the primary's rows remain.
    await page.getByRole('button', { name: 'Open video cam-b.mp4' }).click();
    await expect.poll(() => heatRows(page)).toEqual(['open lid (forward)', 'open lid (reversed)', 'close lid (forward)', 'close lid (reversed)']);
    await page.getByRole('button', { name: 'Open video cam-a.mp4' }).click();
    await page.getByTitle('close lid (reversed) by lids STM, compared', { exact: true }).waitFor();

    await compare.selectOption({ label: 'No comparison' });
    await expect.poll(() => page.getByTitle(/, compared$/).count()).toBe(0);
    await expect(page.getByText('vs lids STM', { exact: true }).count()).resolves.toBe(1);
    expect(await heatRows(page)).toEqual(['open lid (forward)', 'open lid (reversed)', 'close lid (forward)', 'close lid (reversed)']);

    // Making the compared model the primary ends the comparison rather than comparing a model with itself.
    await compare.selectOption({ label: 'vs lids STM' });
    await page.getByTitle('open lid (forward) by lids STM, compared', { exact: true }).waitFor();
    await primary.selectOption({ label: 'lids STM' });
    await expect.poll(() => compare.locator('option').allInnerTexts()).toEqual(['No comparison', 'vs lids TSN']);
    expect(await compare.inputValue()).toBe('');
    await expect.poll(() => page.getByTitle(/, compared$/).count()).toBe(0);

    expect(errors).toEqual([]);
    await page.close();
  });
});

/** The toolbar wraps rather than pushing Undo off screen when the comparison select joins it. */
async function undoButtonVisible(page: Page): Promise<void> {
  const undo = page.getByRole('button', { name: 'Undo', exact: true });
  const box = await undo.boundingBox();
  const toolbar = await page.getByRole('toolbar', { name: 'Labeling' }).boundingBox();
  expect(box && toolbar && box.x + box.width <= toolbar.x + toolbar.width).toBe(true);
}
