/** Per-user state of the app (where it lives, the project it reopens); imports nothing of the app. */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/files/atomic-write.ts';

/** Where STM Studio keeps per-user state (recent projects, the default project, caches, settings). */
export function appDataDir(): string {
  if (process.env.STM_STUDIO_HOME) return process.env.STM_STUDIO_HOME;
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'stm-studio');
}

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
