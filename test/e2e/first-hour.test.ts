/**
 * What a new user meets in the first hour, in the browser host: a damaged MP4 that plays through a copy,
 * training without validation said up front, the export offered as a download, small things, and every
 * view at laptop sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeDamagedH264, makeTestVideo } from '../helpers/videos.ts';

let studio: Studio;
let media: string;

/** One damaged H.264 MP4 and one good video; two classes labelled on the good video only. */
async function makeProject(dir: string): Promise<void> {
  const good = await makeTestVideo(join(media, 'Walk-good.mp4'), { frames: 48, fps: 12 });
  const damaged = await makeDamagedH264(join(media, 'box-damaged.mp4'));
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const added = await client.call('videos.add', { paths: [damaged, good] });
  const goodId = added[1]!.ok ? added[1]!.video.id : 0;
  const right = await client.call('classes.add', { name: 'walk right' });
  const left = await client.call('classes.add', { name: 'walk left', reverseOf: right.id });
  for (let k = 0; k < 4; k++) {
    await client.call('clips.create', { videoId: goodId, classId: k % 2 ? left.id : right.id, startFrame: k * 12, endFrame: k * 12 + 12 });
  }
  // An older model that has been probed: its job card names it.
  const project = context.session.project;
  const model = project.models.insert({ name: 'walks old', arch: {}, classes: ['walk right', 'walk left'] });
  const probe = project.jobs.insert('probe', { modelId: model.id, clips: 'all' });
  project.jobs.update(probe.id, { status: 'done', modelId: model.id });
  context.session.close();
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-first-'));
  await makeProject(join(media, 'project'));
  studio = await startStudio({ projectDir: join(media, 'project') });
});
afterAll(async () => {
  await studio?.close();
  rmSync(media, { recursive: true, force: true });
});

describe('a damaged MP4', () => {
  it('plays through a copy made when the window cannot decode it, says why and is marked in the list', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video box-damaged.mp4' }).click();
    const item = page.getByRole('button', { name: 'Open video box-damaged.mp4' });
    await item.getByText(/making a playable copy|plays a copy/).waitFor({ timeout: 60_000 });
    await screenshot(page, 'damaged-converting-1280x800');
    await item.getByText('plays a copy').waitFor({ timeout: 60_000 });
    expect(await item.getByText('plays a copy').getAttribute('title')).toMatch(/the original did not play in the app's window \(damaged or unusual data\)/);
    // The copy plays: frames decode and no error is shown any more.
    await page.waitForFunction(() => {
      const video = document.querySelector<HTMLVideoElement>('video[aria-label="Video box-damaged.mp4"]');
      return video !== null && video.readyState >= 2 && video.error === null && video.src.includes('copy=1');
    }, null, { timeout: 30_000 });
    await expect(page.locator('.player [role="alert"]').count()).resolves.toBe(0);
    await screenshot(page, 'damaged-copy-1280x800');
    // The good file still plays its original.
    await page.getByRole('button', { name: 'Open video Walk-good.mp4' }).click();
    await page.waitForFunction(() => {
      const video = document.querySelector<HTMLVideoElement>('video[aria-label="Video Walk-good.mp4"]');
      return video !== null && video.readyState >= 2 && !video.src.includes('copy=1');
    });
    expect(studio.host.session.project.videos.list().find((v) => v.name === 'Walk-good.mp4')?.proxyPath).toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});

describe('training without validation', () => {
  it('is said in the Train form, offers a split by clip, and is said on the run page', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    const form = page.getByRole('dialog', { name: 'New fine-tune' });
    const notice = form.getByTestId('no-validation');
    await notice.filter({ hasText: 'only one video: no validation split' }).waitFor();
    await screenshot(page, 'train-form-no-validation-1280x800');
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'train-form-no-validation-1024x640');
    await page.setViewportSize({ width: 1280, height: 800 });
    await notice.getByRole('button', { name: 'Split by clip instead' }).click();
    await form.getByTestId('split-note').filter({ hasText: /^Validation: 2 of 4 clips — split by clip/ }).waitFor();
    await expect(notice.count()).resolves.toBe(0);
    await form.getByText('Advanced').click();
    expect(await form.getByRole('combobox', { name: 'Split' }).inputValue()).toBe('clip');

    // Run one by video anyway: the run page says there is no validation, instead of waiting for it.
    await form.getByRole('combobox', { name: 'Split' }).selectOption('video');
    await notice.waitFor();
    await form.getByRole('textbox', { name: 'Run name' }).fill('first run');
    await form.getByRole('combobox', { name: 'Network size' }).selectOption('small');
    await form.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('1');
    await form.getByRole('spinbutton', { name: 'Frames per clip' }).fill('4');
    await form.getByRole('spinbutton', { name: 'Input size' }).fill('32');
    await form.getByRole('spinbutton', { name: 'Batch size' }).fill('4');
    await form.getByRole('button', { name: 'Start training' }).click();
    await page.getByTestId('run-no-validation').filter({ hasText: 'only one video: no validation split' }).waitFor({ timeout: 90_000 });
    await page.getByText('No validation clips in this run.').first().waitFor();
    // The "queued" note does not outlive the queue.
    await page.locator('[aria-label="Job list"] > li.done').filter({ hasText: 'first run' }).waitFor({ timeout: 120_000 });
    await expect.poll(() => page.locator('.statusbar').innerText()).not.toMatch(/queued/);
    await screenshot(page, 'train-no-validation-1280x800');
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'train-no-validation-1024x640');
    await page.setViewportSize({ width: 1280, height: 800 });
    // The new run's model is the one the views now use.
    await page.getByRole('button', { name: 'Reversal probe', exact: true }).click();
    await expect.poll(() => page.getByRole('combobox', { name: 'Model to probe' }).locator('option:checked').innerText()).toBe('first run');
    // Each predict or probe card names its model.
    await expect(page.locator('[aria-label="Job list"] > li').filter({ hasText: 'Reversal probe' }).getByTestId('job-model').innerText()).resolves.toBe('with walks old');
    expect(await unnamedControls(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);
});

describe('export in the browser host', () => {
  it('offers the written CSV as a download', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Export CSV…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export CSV' });
    await dialog.getByRole('radio', { name: /Labels/ }).check();
    await dialog.getByRole('button', { name: 'Export' }).click();
    await dialog.getByRole('status').filter({ hasText: /^Wrote 4 rows to .*labels\.csv on the server$/ }).waitFor();
    await screenshot(page, 'export-download-1280x800');
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('link', { name: 'Download labels.csv' }).click()]);
    expect(download.suggestedFilename()).toBe('labels.csv');
    const saved = join(media, 'downloaded.csv');
    await download.saveAs(saved);
    expect(readFileSync(saved, 'utf8')).toBe(readFileSync(join(media, 'project', 'exports', 'labels.csv'), 'utf8'));
    // Nothing but an offered export can be fetched that way.
    const [other, noToken] = await page.evaluate(async () => [
      (await fetch(`/download/00000000-0000-0000-0000-000000000000?token=${encodeURIComponent(sessionStorage.getItem('stm-token') ?? '')}`)).status,
      (await fetch(new URL(document.querySelector<HTMLAnchorElement>('a[download]')!.href).pathname)).status,
    ]);
    expect([other, noToken]).toEqual([404, 401]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('small things', () => {
  it('removes a video through the app dialog with Undo, selects all videos to add, explains flip defaults', async () => {
    const { page, errors } = await openWorkbench(studio);
    const nativeDialogs: string[] = [];
    page.on('dialog', (d) => {
      nativeDialogs.push(d.message());
      void d.dismiss();
    });
    const videos = page.getByRole('list', { name: 'Videos' });
    await expect(videos.getByRole('button', { name: /^Open video/ }).allInnerTexts()).resolves.toEqual([
      expect.stringMatching(/^box-damaged\.mp4/), expect.stringMatching(/^Walk-good\.mp4\s+48 fr · 12 fps · 160×120 · 0:04$/),
    ]);
    await videos.getByRole('button', { name: 'Open video Walk-good.mp4' }).hover();
    await videos.getByRole('button', { name: 'Remove video Walk-good.mp4' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove video' });
    await confirm.getByText('Remove Walk-good.mp4 and its 4 clips, predictions and probe results from the project?').waitFor();
    await screenshot(page, 'remove-video-1280x800');
    await confirm.getByRole('button', { name: 'Remove video' }).click();
    await expect.poll(() => videos.getByRole('button', { name: 'Open video Walk-good.mp4' }).count()).toBe(0);
    const statusBar = page.getByRole('contentinfo');
    await statusBar.getByText('Removed Walk-good.mp4 and its 4 clips.').waitFor();
    await screenshot(page, 'remove-video-undo-1280x800');
    await statusBar.getByRole('button', { name: 'Undo', exact: true }).click();
    await videos.getByRole('button', { name: 'Open video Walk-good.mp4' }).waitFor();
    // Without Undo, the video leaves the project once the offer has run out.
    await videos.getByRole('button', { name: 'Open video Walk-good.mp4' }).hover();
    await videos.getByRole('button', { name: 'Remove video Walk-good.mp4' }).click();
    await confirm.getByRole('button', { name: 'Remove video' }).click();
    await expect.poll(() => studio.host.session.project.videos.list().map((v) => v.name), { timeout: 15_000 }).toEqual(['box-damaged.mp4']);
    expect(nativeDialogs).toEqual([]);

    // Add videos: one click picks every video of the folder.
    await page.getByRole('button', { name: 'Add videos' }).click();
    const add = page.getByRole('dialog', { name: 'Add videos' });
    await add.getByRole('textbox', { name: 'Folder' }).fill(media);
    await add.getByRole('textbox', { name: 'Folder' }).press('Enter');
    await add.getByRole('checkbox', { name: 'Select all 2 videos in this folder' }).check();
    await add.getByRole('button', { name: 'Add 2 videos' }).waitFor();
    await screenshot(page, 'add-videos-select-all-1280x800');
    await add.getByRole('button', { name: 'Cancel' }).click();

    // The class editor says why flip is off for a direction class.
    await page.getByRole('button', { name: 'Edit class walk left' }).click();
    expect(await page.getByRole('checkbox', { name: /Horizontal flip keeps the label/ }).isChecked()).toBe(false);
    await page.getByText('A mirror turns "left" into "right"').waitFor();
    await screenshot(page, 'class-editor-1280x800');
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'class-editor-1024x640');
    expect(await unnamedControls(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
