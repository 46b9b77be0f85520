/**
 * A new user's first steps in the browser host: New project…, Open project…, the recent list (missing folders
 * marked), the project's name and folder in the title, the next start reopening the last project; and a
 * reversal probe view whose "flipped" means the prediction flipped, with divergences that can be told apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { createLocalApi } from '../../src-main/api/local-client.ts';
import { resolveStartupProject } from '../../src-main/app/startup.ts';
import { noteRecentProject } from '../../src-main/api/recent-projects.ts';
import { PROJECT_FILE } from '../../src-main/core/store/project.ts';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

const CLASSES = ['walk right', 'walk left', 'wave'];
let studio: Studio;
let media: string;
const savedHome = process.env.STM_STUDIO_HOME;

/** A project with one video, a reverse pair plus a class without partner, a model and a stored probe run. */
async function makeProbedProject(dir: string): Promise<void> {
  const video = await makeTestVideo(join(media, 'walk.mp4'), { frames: 40, fps: 12 });
  const { client, context } = createLocalApi('cli');
  await client.call('project.open', { dir, create: true });
  const [added] = await client.call('videos.add', { paths: [video] });
  if (!added?.ok) throw new Error('video not added');
  const right = await client.call('classes.add', { name: 'walk right' });
  await client.call('classes.add', { name: 'walk left', reverseOf: right.id });
  await client.call('classes.add', { name: 'wave' });
  const project = context.session.project;
  const classId = new Map(project.classes.list().map((c) => [c.name, c.id]));
  const model = project.models.insert({ name: 'walks STM', arch: {}, classes: CLASSES });
  const job = project.jobs.insert('probe', { modelId: model.id, clips: 'all' });
  project.jobs.update(job.id, { status: 'done', modelId: model.id });
  const row = (label: string, forward: string, reversed: string, expected: string, partner: string | null, js: number, start: number) => ({
    jobId: job.id, modelId: model.id, clipId: null, videoId: added.video.id, classId: classId.get(label)!, startFrame: start, endFrame: start + 8,
    forwardTop1: forward, forwardScore: 0.9, reversedTop1: reversed, reversedScore: 0.8, expectedReversed: expected, forwardPartner: partner,
    flipped: partner !== null && reversed === partner, invariant: partner === null && reversed === forward, reversedAsExpected: reversed === expected,
    jsDivergence: js, forwardProbabilities: null, reversedProbabilities: null,
  });
  project.probes.insertMany([
    row('walk left', 'walk right', 'walk right', 'walk right', 'walk left', 3.1e-5, 0), // predicted "walk right" both ways
    row('walk right', 'walk right', 'walk left', 'walk left', 'walk left', 2.4e-4, 8),
    row('wave', 'wave', 'wave', 'wave', null, 1.2e-8, 16),
  ]);
  context.session.close();
}

async function reloaded(page: Page): Promise<void> {
  await page.waitForEvent('load');
  await page.getByTestId('app-version').filter({ hasText: /^v\d/ }).waitFor();
}

beforeAll(async () => {
  media = mkdtempSync(join(tmpdir(), 'stm-e2e-projects-'));
  process.env.STM_STUDIO_HOME = join(media, 'home');
  await makeProbedProject(join(media, 'walks'));
  studio = await startStudio({ projectDir: join(media, 'walks') });
  noteRecentProject(join(media, 'walks')); // as `stm-studio serve` does for the project it serves
});
afterAll(async () => {
  await studio?.close();
  if (savedHome === undefined) delete process.env.STM_STUDIO_HOME;
  else process.env.STM_STUDIO_HOME = savedHome;
  rmSync(media, { recursive: true, force: true });
});

describe('projects from the UI', () => {
  it('creates, opens and switches projects, marks missing ones and reopens the last one on the next start', async () => {
    const { page, errors } = await openWorkbench(studio);
    const walks = join(media, 'walks');
    await expect.poll(() => page.title()).toBe(`walks — ${walks} — STM Studio`);
    await expect(page.getByTestId('project-folder').innerText()).resolves.toBe(walks);

    // New project…: a folder named inside the folder browsed to.
    await page.getByRole('button', { name: 'Project menu' }).click();
    await screenshot(page, 'project-menu-1280x800');
    await page.getByRole('menuitem', { name: 'New project…' }).click();
    const create = page.getByRole('dialog', { name: 'New project' });
    await create.getByRole('textbox', { name: 'Folder' }).fill(media);
    await create.getByRole('textbox', { name: 'Folder' }).press('Enter');
    await create.getByRole('button', { name: /^walks\/\s*project$/ }).waitFor();
    // An existing, non-empty folder is refused with its name.
    await create.getByRole('textbox', { name: 'Project name' }).fill('walks');
    await create.getByRole('button', { name: 'Create project' }).click();
    await create.getByRole('alert').filter({ hasText: `${walks} already exists and is not empty` }).waitFor();
    await create.getByRole('textbox', { name: 'Project name' }).fill('kitchen');
    await screenshot(page, 'project-new-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    const afterCreate = reloaded(page);
    await create.getByRole('button', { name: 'Create project' }).click();
    await afterCreate;
    const kitchen = join(media, 'kitchen');
    expect(existsSync(join(kitchen, PROJECT_FILE))).toBe(true);
    await expect.poll(() => page.title()).toBe(`kitchen — ${kitchen} — STM Studio`);
    await page.getByText('No videos yet').first().waitFor();

    // A project whose folder is gone is listed as missing and can be taken off the list.
    const gone = join(media, 'gone');
    const local = createLocalApi('web');
    await local.client.call('project.create', { dir: gone });
    local.context.session.close();
    rmSync(gone, { recursive: true, force: true });
    await page.getByRole('button', { name: 'Project menu' }).click();
    const recent = page.getByRole('list', { name: 'Recent projects' });
    await expect.poll(() => recent.locator('li').allInnerTexts()).toEqual([
      expect.stringMatching(/^gone\s*missing/),
      expect.stringMatching(/^kitchen\s*open/),
      expect.stringMatching(/^walks\b/),
    ]);
    await screenshot(page, 'project-recent-1280x800');
    await page.getByRole('button', { name: 'Forget gone' }).click();
    await expect.poll(() => recent.locator('li').count()).toBe(2);

    // A recent project opens with one click.
    const afterRecent = reloaded(page);
    await recent.getByRole('menuitem', { name: /^walks/ }).click();
    await afterRecent;
    await expect.poll(() => page.title()).toBe(`walks — ${walks} — STM Studio`);

    // Open project…: browse into the project folder and open it.
    await page.getByRole('button', { name: 'Project menu' }).click();
    await page.getByRole('menuitem', { name: 'Open project…' }).click();
    const openDialog = page.getByRole('dialog', { name: 'Open project' });
    await openDialog.getByRole('textbox', { name: 'Folder' }).fill(media);
    await openDialog.getByRole('textbox', { name: 'Folder' }).press('Enter');
    expect(await openDialog.getByRole('button', { name: 'Open project' }).isDisabled()).toBe(true);
    await openDialog.getByRole('button', { name: /^kitchen\// }).click();
    await openDialog.getByTestId('project-target').filter({ hasText: kitchen }).waitFor();
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'project-open-1024x640');
    await page.setViewportSize({ width: 1280, height: 800 });
    const afterOpen = reloaded(page);
    await openDialog.getByRole('button', { name: 'Open project' }).click();
    await afterOpen;
    await expect.poll(() => page.title()).toBe(`kitchen — ${kitchen} — STM Studio`);

    // The next start of the app opens the project opened last, not the demo.
    expect(await resolveStartupProject()).toBe(kitchen);

    // Back to the probed project for the next test.
    studio.host.session.open(walks);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('the reversal probe view', () => {
  it('says "flipped" only where the prediction flipped, and shows divergences with their digits', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Reversal probe', exact: true }).click();
    const table = page.getByRole('table', { name: 'Probe results per clip' });
    await table.locator('tbody tr').nth(2).waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(2, 7).map((td) => td.textContent!.trim())));
    // Sorted by divergence, most time-sensitive first.
    expect(rows).toEqual([
      ['walk right', 'walk right 90%', 'walk left 80%', 'flipped', 'walk left'],
      ['walk left', 'walk right 90%', 'walk right 80%', 'unchanged', 'walk right'],
      ['wave', 'wave 90%', 'wave 80%', 'invariant', 'wave'],
    ]);
    const divergences = await table.locator('tbody tr td:nth-child(8)').allInnerTexts();
    expect(divergences).toEqual(['2.4e-4', '3.1e-5', '1.2e-8']);
    const summary = page.getByRole('region', { name: 'Probe summary' });
    // One of the two clips predicted as a class with a partner flipped; the wave clip stayed a wave.
    await expect(summary.innerText()).resolves.toMatch(/50\.0%\s*flip rate/);
    await expect(summary.innerText()).resolves.toMatch(/100\.0%\s*invariance/);
    await expect(summary.innerText()).resolves.toMatch(/100\.0%\s*reversed as expected/);
    await screenshot(page, 'probe-flips-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await page.setViewportSize({ width: 1024, height: 640 });
    await screenshot(page, 'probe-flips-1024x640');
    expect(errors).toEqual([]);
    await page.close();
  });
});
