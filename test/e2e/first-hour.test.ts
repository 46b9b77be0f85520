/**
 * What a new user meets in the first hour, in the browser host: a damaged MP4 that plays through a copy,
 * training without validation said up front, the export offered as a download, small things, and every
 * view at laptop sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
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
