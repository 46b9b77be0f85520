/**
 * Clips imported from BORIS with subjects: the timeline shows one lane per class and subject, and a clip's
 * subject is edited in the Clips panel (and undone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importLabels } from '../../src-main/core/export/labels-import.ts';
import { addVideos } from '../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../src-main/core/media/locate.ts';
import { openProject } from '../../src-main/core/store/project.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

let studio: Studio;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stm-e2e-subjects-'));
  const projectDir = join(work, 'project');
  const project = openProject(projectDir, { create: true });
  const video = await makeTestVideo(join(work, 'arena_a.mp4'), { frames: 1500, fps: 25, size: [160, 120] });
  await addVideos(project, await requireFfmpegTools(), [video]);
  importLabels(project, join(import.meta.dirname, '../fixtures/labels/boris-aggregated.tsv'), { createClasses: true });
  project.close();
  studio = await startStudio({ projectDir });
});
afterAll(async () => {
  await studio?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('clip subjects in Chromium', () => {
  it('one lane per class and subject; the subject of a clip is edited in the Clips panel and undone', async () => {
    const { page, errors } = await openWorkbench(studio);
    const lanes = page.getByRole('button', { name: /^Pick class groom/ });
    await lanes.first().waitFor();
    await expect(lanes.allInnerTexts()).resolves.toEqual(expect.arrayContaining([expect.stringContaining('groom · mouse 1'), expect.stringContaining('groom · mouse 2'), expect.stringContaining('groom · no subject')]));
    // Two classes × (mouse 1, mouse 2, no subject); the Classes panel keeps one button per class.
    await expect(page.getByRole('button', { name: /^Pick class .+ · / }).count()).resolves.toBe(6);

    const rows = page.getByRole('list', { name: 'Clips' }).getByRole('button', { name: /^Jump to/ });
    await expect(rows.allInnerTexts()).resolves.toEqual(expect.arrayContaining([expect.stringMatching(/^groom\s*· mouse 2/)]));
    await page.getByRole('list', { name: 'Clips' }).getByRole('button', { name: 'Jump to rear at frame 501' }).click();
    const subject = page.getByRole('textbox', { name: 'Subject of the selected clip' });
    await subject.fill('mouse 3');
    await subject.press('Enter');
    await subject.blur();
    await page.getByRole('button', { name: /^Pick class rear · mouse 3/ }).waitFor();
    await screenshot(page, 'subjects-1280x800');
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'subjects-1024x640');
    expect(await unnamedControls(page)).toEqual([]);

    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('button', { name: /^Pick class rear · no subject/ }).waitFor();
    expect(errors).toEqual([]);
  });
});
