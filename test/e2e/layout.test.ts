/**
 * Every view at laptop sizes (1280×800 and 1024×640): nothing a user needs is cut off. Screenshots of each
 * view at both sizes land in test-output/screenshots/layout-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { openWorkbench, screenshot, startStudio, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

const CLASSES = ['walk right', 'walk left', 'turn clockwise', 'turn anticlockwise', 'wave both arms', 'sit down'];
const SIZES = [{ width: 1280, height: 800 }, { width: 1024, height: 640 }] as const;
let studio: Studio;
let media: string;

/** Two videos, six classes (two reverse pairs), clips, a trained model with metrics, predictions and a probe. */
async function makeProject(dir: string): Promise<void> {
  const a = await makeTestVideo(join(media, 'kitchen-camera-01.mp4'), { frames: 120, fps: 12, size: [320, 240] });
  const b = await makeTestVideo(join(media, 'kitchen-camera-02.mp4'), { frames: 96, fps: 12, size: [320, 240] });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const added = await client.call('videos.add', { paths: [a, b] });
  const videoIds = added.map((r) => (r.ok ? r.video.id : 0));
  const ids: number[] = [];
  for (const name of CLASSES) ids.push((await client.call('classes.add', { name })).id);
  await client.call('classes.update', { id: ids[0]!, reverseOf: ids[1]! });
  await client.call('classes.update', { id: ids[2]!, reverseOf: ids[3]! });
  for (let k = 0; k < 9; k++) await client.call('clips.create', { videoId: videoIds[0]!, classId: ids[k % 6]!, startFrame: k * 12, endFrame: k * 12 + 10 });
  const project = context.session.project;
  const model = project.models.insert({ name: 'kitchen STM', arch: {}, classes: CLASSES });
  const train = project.jobs.insert('train', { name: 'kitchen STM' });
  project.jobs.update(train.id, { status: 'done', modelId: model.id });
  const perClass = Object.fromEntries(CLASSES.map((c, i) => [c, { precision: 0.5 + i / 20, recall: 0.6, f1: 0.55, support: 2 }]));
  const confusion = CLASSES.map((_, i) => CLASSES.map((__, j) => (i === j ? 2 : (i + j) % 3 === 0 ? 1 : 0)));
  for (const epoch of [1, 2, 3]) {
    project.metrics.insert({ jobId: train.id, modelId: model.id, epoch, step: epoch * 3, split: 'train', loss: 1.6 / epoch, top1: 0.3 * epoch, perClass: null, confusion: null });
    project.metrics.insert({ jobId: train.id, modelId: model.id, epoch, step: epoch * 3, split: 'val', loss: 1.7 / epoch, top1: 0.25 * epoch, perClass, confusion });
  }
  const predict = project.jobs.insert('predict', { modelId: model.id, videoIds: [videoIds[0]], direction: 'both' });
  project.jobs.update(predict.id, { status: 'done', modelId: model.id });
  const rows = [];
  for (const direction of ['forward', 'reversed'] as const) {
    for (let w = 0, start = 0; start + 24 <= 120; w++, start += 12) {
      const p = CLASSES.map((_, i) => (i === w % 6 ? 0.5 : 0.1));
      rows.push({ jobId: predict.id, modelId: model.id, videoId: videoIds[0]!, windowIndex: w, startFrame: start, endFrame: start + 24, direction, probabilities: new Float32Array(p) });
    }
  }
  project.predictions.insertMany(rows);
  const probe = project.jobs.insert('probe', { modelId: model.id, clips: 'all' });
  project.jobs.update(probe.id, { status: 'done', modelId: model.id });
  project.probes.insertMany(project.clips.list({}).map((clip, i) => {
    const label = CLASSES[CLASSES.findIndex((_, k) => ids[k] === clip.classId)]!;
    return {
      jobId: probe.id, modelId: model.id, clipId: clip.id, videoId: clip.videoId, classId: clip.classId, startFrame: clip.startFrame, endFrame: clip.endFrame,
      forwardTop1: label, forwardScore: 0.8, reversedTop1: label, reversedScore: 0.6, expectedReversed: label, forwardPartner: null,
      flipped: false, invariant: true, reversedAsExpected: true, jsDivergence: 1e-4 * (i + 1), forwardProbabilities: null, reversedProbabilities: null,
    };
  }));
  context.session.close();
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-layout-'));
  await makeProject(join(media, 'project'));
  studio = await startStudio({ projectDir: join(media, 'project') });
});
afterAll(async () => {
  await studio?.close();
  rmSync(media, { recursive: true, force: true });
});

/** Parts of `locator` outside the box of `container` (px), or 0. */
async function overflow(locator: Locator, container: Locator): Promise<number> {
  const [box, outer] = [await locator.boundingBox(), await container.boundingBox()];
  if (!box || !outer) return Infinity;
  return Math.max(0, outer.x - box.x, box.x + box.width - (outer.x + outer.width), outer.y - box.y, box.y + box.height - (outer.y + outer.height));
}

/** Selects whose chosen option's text does not fit in the select. */
function truncatedSelects(page: Page, within: string): Promise<string[]> {
  return page.evaluate((selector) => {
    const canvas = document.createElement('canvas').getContext('2d')!;
    return [...document.querySelectorAll<HTMLSelectElement>(`${selector} select`)].flatMap((select) => {
      const style = getComputedStyle(select);
      canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const text = select.selectedOptions[0]?.text ?? '';
      // The arrow takes about 18 px besides the padding.
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 18;
      return canvas.measureText(text).width > room ? [`${select.getAttribute('aria-label')}: "${text}"`] : [];
    });
  }, within);
}

describe('layout at laptop sizes', () => {
  it('keeps the class editor, the panels, the filters and the video usable at 1280×800 and 1024×640', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video kitchen-camera-01.mp4' }).click();
    await page.locator('.head.heat').first().waitFor();
    const sidebar = page.getByRole('complementary', { name: 'Project' });
    for (const size of SIZES) {
      await page.setViewportSize(size);
      const tag = `${size.width}x${size.height}`;
      await page.waitForTimeout(300);
      await screenshot(page, `layout-label-${tag}`);
      // Several classes are visible without scrolling the Classes panel.
      const classRows = page.getByRole('list', { name: 'Classes' }).locator('li');
      const shownRows = await classRows.evaluateAll((rows) => rows.filter((r) => {
        const box = r.getBoundingClientRect();
        const panel = r.closest('.body')!.getBoundingClientRect();
        return box.top >= panel.top - 1 && box.bottom <= panel.bottom + 1;
      }).length);
      expect(shownRows, `class rows visible at ${tag}`).toBeGreaterThanOrEqual(size.height >= 800 ? 6 : 4);
      expect(await truncatedSelects(page, '[aria-label="Project"]'), `clip filters at ${tag}`).toEqual([]);
      const video = await page.locator('video').boundingBox();
      expect(video!.height, `video height at ${tag}`).toBeGreaterThanOrEqual(size.height >= 800 ? 300 : 220);

      // The class editor fits in the sidebar: name, reverse partner and Archive all inside it.
      await page.getByRole('button', { name: 'Edit class turn anticlockwise' }).click();
      const editor = page.locator('.edit');
      for (const part of [
        page.getByRole('textbox', { name: 'Name of turn anticlockwise' }),
        page.getByRole('combobox', { name: 'Reverse partner of turn anticlockwise' }),
        editor.getByRole('button', { name: 'Archive' }),
        editor.getByRole('button', { name: 'Merge' }),
      ]) {
        await part.scrollIntoViewIfNeeded();
        expect(await overflow(part, sidebar), `${await part.getAttribute('aria-label') ?? await part.innerText()} at ${tag}`).toBe(0);
      }
      expect(await truncatedSelects(page, '.edit'), `class editor selects at ${tag}`).toEqual([]);
      // Nothing pushes the sidebar sideways.
      expect(await sidebar.evaluate((el) => el.scrollWidth - el.clientWidth), `sidebar overflow at ${tag}`).toBeLessThanOrEqual(0);
      await screenshot(page, `layout-class-editor-${tag}`);
      await page.getByRole('button', { name: 'Edit class turn anticlockwise' }).click();

      for (const view of ['Train', 'Review', 'Reversal probe'] as const) {
        await page.getByRole('button', { name: view, exact: true }).click();
        await page.waitForTimeout(500);
        await screenshot(page, `layout-${view.toLowerCase().replace(' ', '-')}-${tag}`);
        // No horizontal scrolling in the workspace.
        const scrolls = await page.getByRole('region', { name: 'Workspace' }).evaluate((el) => [...el.querySelectorAll('*')].some((c) => c.scrollWidth > c.clientWidth + 1 && getComputedStyle(c).overflowX === 'auto' && !c.matches('.table-wrap, .cm-wrap')));
        expect(scrolls, `${view} scrolls sideways at ${tag}`).toBe(false);
      }
      await page.getByRole('button', { name: 'Label', exact: true }).click();
      await page.getByRole('button', { name: 'New fine-tune…' }).count();
    }
    await page.setViewportSize({ width: 1024, height: 640 });
    for (const [open, name, file] of [
      ['Export CSV…', 'Export CSV', 'export'],
      ['System check', 'System check', 'doctor'],
    ] as const) {
      await page.getByRole('button', { name: open }).click();
      await page.getByRole('dialog', { name }).waitFor();
      await screenshot(page, `layout-${file}-1024x640`);
      await page.getByRole('dialog', { name }).getByRole('button', { name: 'Close dialog' }).click();
    }
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    const form = page.getByRole('dialog', { name: 'New fine-tune' });
    await form.getByText('Advanced').click();
    await screenshot(page, 'layout-train-form-1024x640');
    const start = form.getByRole('button', { name: 'Start training' });
    expect(await start.isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
