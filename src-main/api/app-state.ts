/** Per-user state of the app (where it lives, the project it reopens); imports nothing of the app. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/files/atomic-write.ts';
import { userDataDir } from '../core/user-data.ts';

/** Where STM Studio keeps per-user state (recent projects, the default project, caches, settings, weights). */
export const appDataDir = userDataDir;

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

/** The project the app opened last, if it remembered one. */
export function lastProject(): string | undefined {
  return readState().lastProject;
}

/** The app reopens this project on its next start. */
export function rememberProject(dir: string): void {
  mkdirSync(appDataDir(), { recursive: true });
  writeFileAtomic(stateFile(), JSON.stringify({ ...readState(), lastProject: dir }, null, 2), 'app state');
}
