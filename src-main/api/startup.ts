import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from './client.ts';
import type { ApiContext } from './context.ts';
import { dispatch } from './router.ts';
import { appDataDir, registerSessionService, type Session } from './session.ts';
import { buildDemoProject, DEMO_SUMMARY_FILE, type DemoApi } from '../core/demo/pipeline.ts';
import { DEMO_SETTINGS } from '../core/demo/settings.ts';
import { demoUntouched, hasDemoBuildMark, keepAsUserProject, keptAsUserProject } from '../core/demo/build-mark.ts';
import { noteRecentProject } from './recent-projects.ts';

const stateFile = () => join(appDataDir(), 'state.json');

interface AppState {
  lastProject?: string;
}

function readState(): AppState {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8')) as AppState;
  } catch {
    return {};
  }
}

export function rememberProject(dir: string): void {
  mkdirSync(appDataDir(), { recursive: true });
  writeFileSync(stateFile(), JSON.stringify({ ...readState(), lastProject: dir }, null, 2));
}

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
  const last = readState().lastProject;
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

/** The contract for background work of the host's own session: events reach the host's clients. */
function sessionApi(session: Session): DemoApi {
  const context: ApiContext = { session, emit: (name, payload) => session.emit(name, payload), host: 'cli' };
  return {
    async call(name, params) {
      const envelope = await dispatch(context, name, params);
      if (!envelope.ok) throw new ApiError(envelope.error);
      return envelope.result as never;
    },
  };
}

registerSessionService((session) => {
  session.onProjectOpened((project) => {
    if (pendingDemo === null || resolve(project.dir) !== pendingDemo) return;
    pendingDemo = null;
    // The app stays usable meanwhile: training runs in the job queue's worker, whose progress the jobs panel shows.
    buildDemoProject(sessionApi(session), project.dir, DEMO_SETTINGS).catch((err: unknown) => {
      console.error(`The demo project could not be built: ${err instanceof Error ? err.message : String(err)}`);
    });
  });
});
