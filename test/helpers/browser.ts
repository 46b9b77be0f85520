import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startWebHost, type WebHost } from '../../src-main/hosts/web/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '..', '..', 'test-output', 'screenshots');

export interface Studio {
  host: WebHost;
  /** Temp folder holding the project (and anything the test makes next to it). */
  dir: string;
  projectDir: string;
  /** A persistent Chromium context on a fresh profile folder inside `dir`. */
  browser: BrowserContext;
  close(): Promise<void>;
}

/**
 * The web host on a fresh temp project plus a headless Debian Chromium. Needs `npm run build` first
 * (the host serves out/renderer).
 */
export async function startStudio(opts: { projectDir?: string; keepDir?: boolean } = {}): Promise<Studio> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const dir = mkdtempSync(join(tmpdir(), 'stm-e2e-'));
  const projectDir = opts.projectDir ?? join(dir, 'project');
  const host = await startWebHost({ projectDir, port: 0 });
  const browser = await chromium.launchPersistentContext(join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    host,
    dir,
    projectDir,
    browser,
    async close() {
      await browser.close();
      await host.close();
      if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A page on the token URL at the given viewport, with page errors collected for assertions. */
export async function openWorkbench(studio: Studio, viewport = { width: 1280, height: 800 }): Promise<{ page: Page; errors: string[] }> {
  const page = await studio.browser.newPage();
  await page.setViewportSize(viewport);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(studio.host.url);
  await page.getByTestId('app-version').filter({ hasText: /^v\d/ }).waitFor();
  return { page, errors };
}

/** Saves test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Visible controls (buttons, inputs, selects, text areas, sliders) that have no accessible name: no
 * aria-label(ledby), no <label>, no text, no title. Returns a short description of each.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const controls = [...document.querySelectorAll<HTMLElement>('button, input, select, textarea, [role="slider"], [role="button"]')];
    const named = (el: HTMLElement): boolean => {
      if (el.getAttribute('aria-label')?.trim()) return true;
      const by = el.getAttribute('aria-labelledby');
      if (by && by.split(/\s+/).some((id) => document.getElementById(id)?.textContent?.trim())) return true;
      if ((el as HTMLInputElement).labels?.length && [...(el as HTMLInputElement).labels!].some((l) => l.textContent?.trim())) return true;
      if (el.tagName === 'BUTTON' && el.textContent?.trim()) return true;
      return Boolean(el.getAttribute('title')?.trim());
    };
    return controls
      .filter((el) => el.offsetParent !== null || el.getClientRects().length > 0)
      .filter((el) => !named(el))
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''} "${el.outerHTML.slice(0, 80)}"`);
  });
}
