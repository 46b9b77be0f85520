import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWorkbench, startStudio, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';
import { addVideos } from '../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../src-main/core/media/locate.ts';

const FRAMES = 60;
let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
  // 768² with one keyframe for all 60 frames: a seek may decode 35 Mpx, so it gets a (720²) scrub proxy.
  const path = await makeTestVideo(join(studio.dir, 'index-coded.mp4'), { frames: FRAMES, fps: 25, size: [768, 768], frameIndexCoded: true, gop: FRAMES, bframes: 2 });
  const [added] = await addVideos(studio.host.session.project, await requireFfmpegTools(), [path]);
  if (!added?.ok) throw new Error('could not add the test video');
});
afterAll(async () => {
  await studio?.close();
});

/** The frame index painted on the frame the <video> presents (4×4 cells, bit k = cell k, row-major). */
function shownIndex(page: Page): Promise<number> {
  return page.evaluate(() => {
    const video = document.querySelector('video') as HTMLVideoElement;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 64;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(video, 0, 0, 64, 64);
    let index = 0;
    for (let cell = 0; cell < 16; cell++) {
      const [r] = ctx.getImageData((cell % 4) * 16 + 8, Math.floor(cell / 4) * 16 + 8, 1, 1).data;
      if (r! > 128) index |= 1 << cell;
    }
    return index;
  });
}

/** Steps with an arrow key and waits until the player shows that frame number and has the frame decoded. */
async function stepTo(page: Page, key: 'ArrowRight' | 'ArrowLeft', frame: number): Promise<void> {
  await page.keyboard.press(key);
  await page.waitForFunction(
    (f) => {
      const video = document.querySelector('video') as HTMLVideoElement;
      // Seeked is not the same as decoded: wait until the frame at the new position is available to draw.
      return document.querySelector('[data-testid="current-frame"]')?.textContent === String(f) && !video.seeking && video.readyState >= 2;
    },
    frame,
  );
}

describe('scrub proxy in the player', () => {
  it('replaces the original once made, and every frame number shows the frame of that number', async () => {
    const { page, errors } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'Open video index-coded.mp4' }).click();
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.currentSrc.includes('/media/scrub/'), undefined, { timeout: 60_000, polling: 200 });
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 2);
    await page.locator('body').click({ position: { x: 5, y: 5 } });

    const shown: Array<[number, number]> = [];
    for (let frame = 1; frame < FRAMES; frame++) {
      await stepTo(page, 'ArrowRight', frame);
      shown.push([frame, await shownIndex(page)]);
    }
    for (const frame of [58, 57, 56]) {
      await stepTo(page, 'ArrowLeft', frame);
      shown.push([frame, await shownIndex(page)]);
    }
    expect(shown.filter(([frame, index]) => frame !== index)).toEqual([]);
    expect(errors).toEqual([]);
  });
});
