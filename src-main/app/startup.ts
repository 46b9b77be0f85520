/** The project the app opens on start, and the demo it builds there the first time. */
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appDataDir, lastProject, rememberProject } from '../api/app-state.ts';
import { callerOf } from '../api/local-client.ts';
import type { SessionService } from '../api/session.ts';
import { buildDemoProject, DEMO_SUMMARY_FILE } from './demo-pipeline.ts';
import { DEMO_SETTINGS } from '../core/demo/settings.ts';

/** Where the app keeps the demo project it opens on first run. */
export function demoProjectDir(): string {
  return join(appDataDir(), 'projects', 'demo');
}

/** The demo folder this process should fill once a session opens it (set by resolveStartupProject). */
let pendingDemo: string | null = null;

/**
 * The project the app opens on start: the last one; else, the first time, the demo project (built in the
 * background once the session opens it, see below); else the default project folder.
 */
export async function resolveStartupProject(): Promise<string> {
  const last = lastProject();
  const demo = resolve(demoProjectDir());
  if (last && existsSync(last) && resolve(last) !== demo) return last;
  if (!existsSync(join(demo, DEMO_SUMMARY_FILE))) {
    // A demo that never finished (the app closed while it trained) starts over; nobody has worked in it.
    rmSync(demo, { recursive: true, force: true });
    pendingDemo = demo;
  }
  rememberProject(demo);
  return demo;
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
