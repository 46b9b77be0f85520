/** The project the app opens on start, and the demo it builds there the first time. */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appDataDir, lastProject, rememberProject } from '../api/app-state.ts';
import { callerOf } from '../api/local-client.ts';
import type { SessionService } from '../api/session.ts';
import { buildDemoProject, DEMO_SUMMARY_FILE } from './demo-pipeline.ts';
import { DEMO_SETTINGS } from '../core/demo/settings.ts';
import { demoUntouched, hasDemoBuildMark, keepAsUserProject, keptAsUserProject } from '../core/demo/build-mark.ts';
import { noteRecentProject } from '../api/recent-projects.ts';

/** Where the app keeps the demo project it opens on first run. */
export function demoProjectDir(): string {
  return join(appDataDir(), 'projects', 'demo');
}

/** The demo folder this process should fill once a session opens it (set by resolveStartupProject). */
let pendingDemo: string | null = null;

/** A demo project whose build never finished (the app closed while it trained). */
function unfinishedDemo(dir: string): boolean {
  if (existsSync(join(dir, DEMO_SUMMARY_FILE)) || keptAsUserProject(dir)) return false;
  return hasDemoBuildMark(dir) || resolve(dir) === resolve(demoProjectDir());
}

/** The first of `<dir>-2`, `<dir>-3`, … that does not exist yet. */
function besideFolder(dir: string): string {
  for (let n = 2; ; n++) if (!existsSync(`${dir}-${n}`)) return `${dir}-${n}`;
}

/**
 * The project the app opens on start: the last one; else, the first time, the demo project (built in the
 * background once the session opens it, see below). An unfinished demo is built again: in place when nobody
 * worked in it, else beside it, so labels made in it meanwhile are never deleted.
 */
export async function resolveStartupProject(): Promise<string> {
  const last = lastProject();
  if (last && existsSync(last) && !unfinishedDemo(last)) return last;
  const demo = last && existsSync(last) ? resolve(last) : resolve(demoProjectDir());
  let target = demo;
  if (unfinishedDemo(demo)) {
    if (demoUntouched(demo)) {
      rmSync(demo, { recursive: true, force: true });
    } else {
      keepAsUserProject(demo);
      noteRecentProject(demo);
      target = besideFolder(demo);
    }
    pendingDemo = target;
  }
  rememberProject(target);
  return target;
}

/** Builds the demo in the pending demo folder when a session opens it; events reach the host's clients. */
export const buildPendingDemo: SessionService = (session) => {
  session.onProjectOpened((project) => {
    if (pendingDemo === null || resolve(project.dir) !== pendingDemo) return;
    pendingDemo = null;
    const api = callerOf({ session, emit: (name, payload) => session.emit(name, payload), host: 'cli', backgroundWork: false, remembersProject: false, servesClients: false });
    // The app stays usable meanwhile: training runs in the job queue's worker, whose progress the jobs panel shows.
    buildDemoProject(api, project.dir, DEMO_SETTINGS).catch((err: unknown) => {
      console.error(`The demo project could not be built: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
};
