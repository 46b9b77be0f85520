/**
 * A first-run demo whose build never finished is built again on the next start, but a folder in which the
 * user labelled meanwhile is never deleted: the demo is rebuilt beside it and the user's folder stays theirs.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { demoProjectDir, resolveStartupProject } from '../../../src-main/app/startup.ts';
import { rememberProject } from '../../../src-main/api/app-state.ts';
import { recentProjects } from '../../../src-main/api/recent-projects.ts';
import { buildDemoProject } from '../../../src-main/app/demo-pipeline.ts';
import { DEMO_SETTINGS, type DemoSettings } from '../../../src-main/core/demo/settings.ts';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';

const tiny: DemoSettings = {
  data: { ...DEMO_SETTINGS.data, trainVideos: 1, valVideos: 1 },
  train: { ...DEMO_SETTINGS.train, frames: 2, epochs: 1, batch: 13 },
  window: DEMO_SETTINGS.window,
};

let home: string;
const savedHome = process.env.STM_STUDIO_HOME;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stm-home-'));
  process.env.STM_STUDIO_HOME = home;
});
afterEach(() => {
  if (savedHome === undefined) delete process.env.STM_STUDIO_HOME;
  else process.env.STM_STUDIO_HOME = savedHome;
  rmSync(home, { recursive: true, force: true });
});

type Client = ReturnType<typeof createLocalApi>['client'];

/**
 * Starts the demo build in the first-run folder and stops it once its labels are in (the app was closed);
 * `whileGenerating` runs while its videos are made, `userEdit` after it stopped.
 */
async function interruptedDemo(userEdit?: (api: Client) => Promise<void>, whileGenerating?: (api: Client) => Promise<void>): Promise<string> {
  // The folder a first start picks (each test has its own per-user folder, so no start of another test builds here).
  const dir = demoProjectDir();
  const local = createLocalApi('cli');
  local.context.session.open(dir, { create: true });
  const stop = new AbortController();
  const pending: Array<Promise<void>> = [];
  await expect(
    buildDemoProject(local.client, dir, tiny, {
      signal: stop.signal,
      onProgress: (stage, done, total) => {
        if (stage === 'generate' && done === 1 && whileGenerating) pending.push(whileGenerating(local.client));
        if (stage === 'import' && done === total) stop.abort();
      },
    }),
  ).rejects.toThrow();
  await Promise.all(pending);
  await userEdit?.(local.client);
  local.context.session.close();
  return dir;
}

describe('an unfinished demo on the next start', () => {
  it('is rebuilt in place when nobody worked in it', async () => {
    const dir = await interruptedDemo();
    expect(existsSync(join(dir, PROJECT_FILE))).toBe(true);
    expect(await resolveStartupProject()).toBe(dir);
    expect(existsSync(join(dir, PROJECT_FILE))).toBe(false);
  }, 120_000);

  it('is kept when the user added a class while the demo was being made', async () => {
    const dir = await interruptedDemo(undefined, async (api) => {
      await api.call('classes.add', { name: 'my early class' });
    });
    expect(await resolveStartupProject()).toBe(`${dir}-2`);
    expect(existsSync(join(dir, PROJECT_FILE))).toBe(true);
  }, 120_000);

  it('keeps a folder holding the user labels and rebuilds beside it', async () => {
    const dir = await interruptedDemo(async (api) => {
      const [video] = await api.call('videos.list', {});
      const mine = await api.call('classes.add', { name: 'my action' });
      await api.call('clips.create', { videoId: video!.id, classId: mine.id, startFrame: 0, endFrame: 5 });
    });
    const next = await resolveStartupProject();
    expect(next).toBe(`${dir}-2`);
    const kept = openProject(dir);
    try {
      expect(kept.classes.list().map((c) => c.name)).toContain('my action');
      expect(kept.clips.list({}).some((c) => c.endFrame === 5)).toBe(true);
    } finally {
      kept.close();
    }
    // The kept folder is listed under recent projects and, opened again, is the user's project: never rebuilt.
    expect(recentProjects().map((r) => r.dir)).toContain(dir);
    rememberProject(dir);
    expect(await resolveStartupProject()).toBe(dir);
    expect(existsSync(join(dir, PROJECT_FILE))).toBe(true);
    expect(JSON.parse(readFileSync(join(home, 'state.json'), 'utf8')).lastProject).toBe(dir);
  }, 120_000);
});
