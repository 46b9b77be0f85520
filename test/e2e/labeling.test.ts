import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';
import { makeTestVideo } from '../helpers/videos.ts';

let studio: Studio;
let videoPath: string;

beforeAll(async () => {
  studio = await startStudio();
  videoPath = await makeTestVideo(join(studio.dir, 'kitchen-cam.mp4'), { frames: 250, fps: 25, size: [320, 240] });
});
afterAll(async () => {
  await studio?.close();
});

/** The clip rows of the Clips panel as "class start–end" strings. */
async function clipRows(page: Page): Promise<string[]> {
  const items = page.getByRole('list', { name: 'Clips' }).getByRole('button', { name: /^Jump to/ });
  const texts = await items.allInnerTexts();
  return texts.map((t) => t.replace(/\s+/g, ' ').trim());
}

async function waitForRows(page: Page, count: number): Promise<string[]> {
  await page.waitForFunction(
    (n) => document.querySelectorAll('[aria-label="Clips"] button[aria-label^="Jump to"]').length === n,
    count,
  );
  return clipRows(page);
}

describe('labeling with the keyboard in Chromium', () => {
  it('adds a video, creates a class, labels a clip with 1 I →×10 O Enter, undoes, redoes and finds it after a reload', async () => {
    const { page, errors } = await openWorkbench(studio);

    await page.getByRole('button', { name: 'Add videos…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add videos' });
    await dialog.getByRole('textbox', { name: 'Video paths' }).fill(videoPath);
    await dialog.getByRole('button', { name: /^Add 1 video$/ }).click();
    await page.getByRole('button', { name: 'Open video kitchen-cam.mp4' }).waitFor();
    await page.getByTestId('current-frame').waitFor();

    await page.getByRole('textbox', { name: 'New class name' }).fill('open lid');
    await page.getByRole('button', { name: 'Add class' }).click();
    await page.getByRole('list', { name: 'Classes' }).getByRole('button', { name: 'Pick class open lid' }).waitFor();

    // Leave the text field so keys reach the workbench.
    await page.getByRole('textbox', { name: 'New class name' }).blur();
    await page.keyboard.press('1');
    await expect(page.getByTestId('active-class').innerText()).resolves.toContain('open lid');
    await page.keyboard.press('i');
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('current-frame').innerText()).resolves.toBe('10');
    await expect(page.getByTestId('current-time').innerText()).resolves.toBe('0:00.400');
    await page.keyboard.press('o');
    await expect(page.getByTestId('in-frame').innerText()).resolves.toBe('0');
    await expect(page.getByTestId('out-frame').innerText()).resolves.toBe('10');
    await page.keyboard.press('Enter');

    const rows = await waitForRows(page, 1);
    expect(rows[0]).toMatch(/^open lid 0–10 /);
    await screenshot(page, 'label-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'label-1366x768');

    // Shift+→ moves one second by timestamps; L plays, K pauses, J plays backwards.
    await page.keyboard.press('Shift+ArrowRight');
    await expect(page.getByTestId('current-frame').innerText()).resolves.toBe('35');
    await page.keyboard.press('l');
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await page.keyboard.press('k');
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    const paused = Number(await page.getByTestId('current-frame').innerText());
    expect(paused).toBeGreaterThanOrEqual(35);
    await page.keyboard.press('j');
    await page.waitForFunction((from) => Number(document.querySelector('[data-testid="current-frame"]')?.textContent) < from, paused);
    await page.keyboard.press('k');

    // The selected clip loops backwards: the playhead walks down inside it.
    await page.getByRole('button', { name: /^Jump to open lid/ }).click();
    await page.getByRole('button', { name: /Play clip reversed/ }).click();
    await page.getByText('Playing reversed').waitFor();
    await page.waitForFunction(() => {
      const f = Number(document.querySelector('[data-testid="current-frame"]')?.textContent);
      return f >= 0 && f < 10;
    });
    await page.getByRole('button', { name: /Play clip reversed/ }).click();
    await page.getByText('Playing reversed').waitFor({ state: 'hidden' });

    await page.keyboard.press('Control+z');
    await waitForRows(page, 0);
    await page.keyboard.press('Control+Shift+z');
    expect((await waitForRows(page, 1))[0]).toMatch(/^open lid 0–10 /);

    // Drag the clip's end edge (between frames 10 and 11) to the boundary of frame 20: the clip becomes 0–19.
    const canvas = page.getByRole('slider', { name: /^Timeline/ });
    const box = (await canvas.boundingBox())!;
    const pxPerFrame = box.width / 250;
    const laneY = (await page.getByRole('button', { name: 'Pick class open lid' }).last().boundingBox())!.y + 12;
    await page.mouse.move(box.x + 11 * pxPerFrame, laneY);
    await page.mouse.down();
    await page.mouse.move(box.x + 15 * pxPerFrame, laneY, { steps: 3 });
    await page.mouse.move(box.x + 20 * pxPerFrame + 0.1, laneY, { steps: 3 });
    await page.mouse.up();
    await page.waitForFunction(() => /0–19/.test(document.querySelector('[aria-label="Clips"]')?.textContent ?? ''));
    await page.keyboard.press('Control+z');
    await page.waitForFunction(() => /0–10/.test(document.querySelector('[aria-label="Clips"]')?.textContent ?? ''));

    await page.reload();
    await page.getByRole('button', { name: 'Open video kitchen-cam.mp4' }).waitFor();
    expect((await waitForRows(page, 1))[0]).toMatch(/^open lid 0–10 /);
    const stored = studio.host.session.project.clips.list({});
    expect(stored.map((c) => [c.startFrame, c.endFrame])).toEqual([[0, 11]]);
    expect(errors).toEqual([]);
    await page.close();
  });
});
