import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoProjectDir, resolveStartupProject } from '../../../src-main/app/startup.ts';
import { rememberProject } from '../../../src-main/api/app-state.ts';
import { DEMO_SUMMARY_FILE } from '../../../src-main/app/demo-pipeline.ts';

let home: string;
const previousHome = process.env.STM_STUDIO_HOME;

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stm-home-'));
  process.env.STM_STUDIO_HOME = home;
});

afterEach(() => {
  if (previousHome === undefined) delete process.env.STM_STUDIO_HOME;
  else process.env.STM_STUDIO_HOME = previousHome;
  rmSync(home, { recursive: true, force: true });
});

describe('the project the app opens on start', () => {
  it('is the demo project the first time, and again on the next start', async () => {
    const first = await resolveStartupProject();
    expect(first).toBe(demoProjectDir());
    expect(first.startsWith(home)).toBe(true);
    mkdirSync(first, { recursive: true });
    writeFileSync(join(first, DEMO_SUMMARY_FILE), '{}');
    expect(await resolveStartupProject()).toBe(first);
  });

  it('is the last project the user opened once there is one', async () => {
    const mine = join(home, 'my-project');
    mkdirSync(mine);
    rememberProject(mine);
    expect(await resolveStartupProject()).toBe(mine);
  });

  it('starts a demo that never finished over again', async () => {
    const demo = demoProjectDir();
    mkdirSync(join(demo, 'videos'), { recursive: true });
    writeFileSync(join(demo, 'videos', 'half-written.mp4'), 'x');
    expect(await resolveStartupProject()).toBe(demo);
    expect(existsSync(join(demo, 'videos', 'half-written.mp4'))).toBe(false);
  });

  it('keeps a finished demo as it is', async () => {
    const demo = demoProjectDir();
    mkdirSync(demo, { recursive: true });
    writeFileSync(join(demo, DEMO_SUMMARY_FILE), '{}');
    writeFileSync(join(demo, 'note.txt'), 'kept');
    expect(await resolveStartupProject()).toBe(demo);
    expect(existsSync(join(demo, 'note.txt'))).toBe(true);
  });
});
