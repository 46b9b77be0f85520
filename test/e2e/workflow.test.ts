import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

let studio: Studio;
let media: string;

/** Two 6 s videos whose first 60 frames carry "open lid" / "close lid" (a reverse pair); the rest is left for review. */
async function makeLabelledProject(dir: string): Promise<void> {
  const a = await makeTestVideo(join(media, 'cam-a.mp4'), { frames: 150, fps: 25, size: [160, 120] });
  const b = await makeTestVideo(join(media, 'cam-b.mp4'), { frames: 150, fps: 25, size: [176, 144] });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const added = await client.call('videos.add', { paths: [a, b] });
  const open = await client.call('classes.add', { name: 'open lid' });
  const close = await client.call('classes.add', { name: 'close lid', reverseOf: open.id });
  for (const [i, r] of added.entries()) {
    if (!r.ok) throw new Error(r.error.message);
    for (let k = 0; k < 3; k++) {
      const classId = (k + i) % 2 ? close.id : open.id;
      await client.call('clips.create', { videoId: r.video.id, classId, startFrame: k * 20, endFrame: k * 20 + 20 });
    }
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

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-media-'));
  const projectDir = join(media, 'project');
  await makeLabelledProject(projectDir);
  studio = await startStudio({ projectDir });
});
afterAll(async () => {
  await studio?.close();
  rmSync(media, { recursive: true, force: true });
});

describe('train, predict, review, probe and export from the UI', () => {
  it('runs the whole loop on a tiny network and shows every view', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video cam-a.mp4' }).waitFor();

    // The Clips panel across videos: jumping to a clip of cam-b opens cam-b at that clip.
    await page.getByRole('combobox', { name: 'Clips of' }).selectOption('all');
    const clipList = page.getByRole('list', { name: 'Clips' });
    await expect.poll(() => clipList.getByRole('button', { name: /^Jump to/ }).count()).toBe(6);
    await clipList.getByRole('button', { name: /^Jump to .* at frame 20$/ }).filter({ hasText: 'cam-b.mp4' }).click();
    await page.locator('button[aria-current="true"][aria-label="Open video cam-b.mp4"]').waitFor();
    await expect.poll(() => page.getByTestId('current-frame').innerText()).toBe('20');
    await page.getByRole('combobox', { name: 'Clips of' }).selectOption('video');

    // Training dashboard: a small network through the advanced drawer.
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByText('No training runs yet').waitFor();
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    const form = page.getByRole('dialog', { name: 'New fine-tune' });
    await form.getByText('Advanced').click();
    await form.getByRole('textbox', { name: 'Run name' }).fill('lids v1');
    // Pretrained weights cached for this user would be preselected: this run starts from scratch.
    await form.getByRole('combobox', { name: 'Start from' }).selectOption('scratch');
    await form.getByRole('combobox', { name: 'Network size' }).selectOption('small');
    await form.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('2');
    await form.getByRole('spinbutton', { name: 'Frames per clip' }).fill('4');
    await form.getByRole('spinbutton', { name: 'Input size' }).fill('32');
    await form.getByRole('spinbutton', { name: 'Batch size' }).fill('4');
    await form.getByRole('spinbutton', { name: 'Threads (empty: one per core)' }).fill('2');
    await form.getByRole('spinbutton', { name: 'Validation share' }).fill('0.5');
    await screenshot(page, 'train-form-1280x800');
    await form.getByRole('button', { name: 'Start training' }).click();
    await waitForJobs(page, 1);
    const [trainJob] = studio.host.session.project.jobs.list({ kind: 'train' });
    expect(trainJob.log).toMatch(/training steps on ONNX Runtime with 2 threads/);
    await page.getByRole('table', { name: 'Confusion matrix' }).waitFor();
    await expect(page.getByRole('table', { name: 'Epochs' }).locator('tbody tr').count()).resolves.toBe(2);
    await page.getByRole('img', { name: /^Loss: training every few batches/ }).waitFor();
    await screenshot(page, 'train-1280x800');
    expect(await unnamedControls(page)).toEqual([]);

    // Predictions on the timeline: forward and reversed heat tracks per class.
    await page.getByRole('button', { name: 'Label', exact: true }).click();
    await page.getByRole('button', { name: 'Predict video' }).click();
    await waitForJobs(page, 2);
    await page.waitForFunction(() => document.querySelectorAll('.head.heat').length === 4);
    await screenshot(page, 'label-predictions-1280x800');
    expect(await unnamedControls(page)).toEqual([]);

    // Review queue: the least certain windows first.
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    await page.getByRole('list', { name: 'Review queue' }).waitFor();
    await screenshot(page, 'review-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    // Rejecting with R keeps the window out of the queue after a reload (the project holds it, not the browser).
    const queueList = page.getByRole('list', { name: 'Review queue' });
    const openWindows = () => queueList.locator('.where').allInnerTexts();
    const rejectedWhere = await queueList.locator('button[aria-current="true"] .where').innerText();
    const windowsBefore = (await openWindows()).length;
    await page.keyboard.press('r');
    await expect.poll(openWindows).not.toContain(rejectedWhere);
    await page.getByRole('button', { name: /^Undo reject/ }).waitFor();
    await screenshot(page, 'review-rejected-1280x800');
    await page.reload();
    await page.getByTestId('app-version').filter({ hasText: /^v\d/ }).waitFor();
    await page.getByRole('button', { name: 'Review', exact: true }).click();
    await queueList.waitFor();
    await expect.poll(async () => (await openWindows()).length).toBe(windowsBefore - 1);
    expect(await openWindows()).not.toContain(rejectedWhere);

    // One key turns the most uncertain window left into a label.
    const before = studio.host.session.project.clips.list({ source: 'prediction' }).length;
    await page.keyboard.press('a');
    await expect.poll(() => studio.host.session.project.clips.list({ source: 'prediction' }).length).toBe(before + 1);

    // Reversal probe view.
    await page.getByRole('button', { name: 'Reversal probe', exact: true }).click();
    await page.getByRole('button', { name: 'Run reversal probe' }).click();
    await waitForJobs(page, 3);
    await page.getByRole('region', { name: 'Probe summary' }).waitFor();
    await page.getByRole('img', { name: 'Forward against reversed top-1 score per clip' }).waitFor();
    // Every labelled clip is probed; playing one shows it forward and reversed side by side.
    const probeRows = page.getByRole('table', { name: 'Probe results per clip' }).locator('tbody tr');
    await expect(probeRows.count()).resolves.toBe(studio.host.session.project.clips.list({}).length);
    await probeRows.first().getByRole('button', { name: /^Play / }).click();
    const pickedClip = page.getByRole('region', { name: 'Picked clip' });
    await pickedClip.getByRole('button', { name: '◀ Reversed', pressed: true }).waitFor();
    await pickedClip.getByRole('button', { name: '▶ Forward', pressed: true }).waitFor();
    await screenshot(page, 'probe-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'probe-1366x768');
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('table', { name: 'Confusion matrix' }).waitFor();
    await screenshot(page, 'train-1366x768');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Export dialogs: predictions and labels CSV.
    await page.getByRole('button', { name: 'Export CSV…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Export CSV' });
    await dialog.getByRole('radio', { name: /Predictions/ }).check();
    const predictionsCsv = join(media, 'out', 'predictions.csv');
    await dialog.getByRole('textbox', { name: 'Output file' }).fill(predictionsCsv);
    await dialog.getByRole('button', { name: 'Export' }).click();
    await dialog.getByText(/Wrote \d+ rows/).waitFor();
    await screenshot(page, 'export-dialog');
    expect(await unnamedControls(page)).toEqual([]);
    expect(readFileSync(predictionsCsv, 'utf8').split('\n')[0]).toMatch(/^video,video_path,model,direction,window,start_frame,end_frame,start_s,end_s,top1,top1_score,p_/);
    await dialog.getByRole('radio', { name: /Labels/ }).check();
    const labelsCsv = join(media, 'out', 'labels.csv');
    await dialog.getByRole('textbox', { name: 'Output file' }).fill(labelsCsv);
    await dialog.getByRole('button', { name: 'Export' }).click();
    await dialog.getByText(/Wrote 7 rows/).waitFor();
    expect(readFileSync(labelsCsv, 'utf8').split('\n')[0]).toBe('video,video_path,start_frame,end_frame,start_s,end_s,label,split,source,subject');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();

    // A longer run: the running loss shows batch by batch; Stop keeps the partial curve.
    await page.getByRole('button', { name: 'Train', exact: true }).click();
    await page.getByRole('button', { name: 'New fine-tune…' }).first().click();
    if (!(await form.locator('details').evaluate((d) => (d as HTMLDetailsElement).open))) await form.getByText('Advanced').click();
    await form.getByRole('textbox', { name: 'Run name' }).fill('lids long');
    await form.getByRole('combobox', { name: 'Network size' }).selectOption('small');
    await form.getByRole('spinbutton', { name: 'Epochs', exact: true }).fill('30');
    await form.getByRole('spinbutton', { name: 'Frames per clip' }).fill('4');
    await form.getByRole('spinbutton', { name: 'Input size' }).fill('32');
    await form.getByRole('spinbutton', { name: 'Batch size' }).fill('1');
    await form.getByRole('button', { name: 'Start training' }).click();
    await page.getByTestId('running-loss').filter({ hasText: /^loss \d+\.\d{3} · top-1/ }).waitFor({ timeout: 120_000 });
    await page.getByText(/^epoch [2-9]\/30$/).waitFor({ timeout: 120_000 });
    await screenshot(page, 'train-running-1280x800');
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await page.getByText(/^stopped in epoch \d+, batch \d+\/\d+$/).waitFor({ timeout: 60_000 });
    const stopped = studio.host.session.project.jobs.list({ kind: 'train' }).at(-1)!;
    expect(stopped.status).toBe('cancelled');
    await screenshot(page, 'train-stopped-1280x800');
    // Another page opened later draws the same partial run.
    const later = await openWorkbench(studio);
    await later.page.getByRole('button', { name: 'Train', exact: true }).click();
    await later.page.getByText(/^stopped in epoch \d+, batch \d+\/\d+$/).waitFor();
    await later.page.close();
    expect(await unnamedControls(page)).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
