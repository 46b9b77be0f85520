import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { openWorkbench, screenshot, startStudio, unnamedControls, type Studio } from '../helpers/browser.ts';

let studio: Studio;

beforeAll(async () => {
  studio = await startStudio();
});
afterAll(async () => {
  await studio?.close();
});

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('workbench shell in Chromium', () => {
  it('loads through the token URL and shows the project, version and empty states', async () => {
    const { page, errors } = await openWorkbench(studio);
    await expect(page.getByTestId('project-name').textContent()).resolves.toBe('project');
    const version = await page.getByTestId('app-version').textContent();
    expect(version).toMatch(/^v\d+\.\d+\.\d+/);
    await page.getByRole('button', { name: 'Add videos…' }).waitFor();
    await page.getByText('No classes yet').waitFor();
    await screenshot(page, 'shell-1280x800');
    expect(await unnamedControls(page)).toEqual([]);
    await page.setViewportSize({ width: 1366, height: 768 });
    await screenshot(page, 'shell-1366x768');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('makes a contract round trip from the page (the doctor report in a dialog)', async () => {
    const { page } = await openWorkbench(studio);
    await page.getByRole('button', { name: 'System check' }).click();
    const dialog = page.getByRole('dialog', { name: 'System check' });
    await dialog.getByRole('table', { name: 'Compute backends' }).waitFor();
    await expect(dialog.getByText('SQLite').count()).resolves.toBe(1);
    await expect(dialog.getByRole('row').count()).resolves.toBeGreaterThanOrEqual(10);
    await screenshot(page, 'doctor-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.close();
  });

  it('refuses contract, media and WebSocket requests without the token (401) and foreign origins (403)', async () => {
    const base = `http://127.0.0.1:${studio.host.port}`;
    expect((await fetch(`${base}/media/video/1`)).status).toBe(401);
    expect((await fetch(`${base}/media/video/1?token=nope`)).status).toBe(401);
    const ws = `ws://127.0.0.1:${studio.host.port}/api`;
    expect(await upgradeStatus(ws)).toBe(401);
    expect(await upgradeStatus(`${ws}?token=${studio.host.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${ws}?token=${studio.host.token}`, { Origin: base })).toBe('open');
  });

  it('opens from a one-time link (serve --open) without the token in it, and keeps no cookie', async () => {
    const page = await studio.browser.newPage();
    const link = studio.host.openUrl();
    expect(link).not.toContain(studio.host.token);
    await page.goto(link);
    await page.getByTestId('app-version').filter({ hasText: /^v\d/ }).waitFor();
    await expect(page.getByTestId('project-name').textContent()).resolves.toBe('project');
    expect(page.url()).not.toContain('code=');
    await page.reload(); // the tab keeps its session
    await page.getByTestId('project-name').filter({ hasText: 'project' }).waitFor();
    expect(await studio.browser.cookies()).toEqual([]);
    // The link was used: a second browser with it gets nothing.
    const again = await fetch(`http://127.0.0.1:${studio.host.port}/session?${new URL(link).searchParams}`, { method: 'POST' });
    expect(again.status).toBe(401);
    await page.close();
  });
});
