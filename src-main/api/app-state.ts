/** Per-user state of the app (where it lives, the project it reopens); imports nothing of the app. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/files/atomic-write.ts';
import { userDataDir } from '../core/user-data.ts';

/** Where STM Studio keeps per-user state (recent projects, the default project, caches, settings, weights). */
export const appDataDir = userDataDir;

const stateFile = () => join(appDataDir(), 'state.json');

export interface AppState {
  lastProject?: string;
  /** Projects the app opened, newest first (recent-projects.ts). */
  recentProjects?: string[];
}

export function readState(): AppState {
  try {
    const state: unknown = JSON.parse(readFileSync(stateFile(), 'utf8'));
    return state && typeof state === 'object' ? (state as AppState) : {};
  } catch {
    return {};
  }
}

/** Replaces some fields of the per-user state, keeping the others. */
export function updateState(fields: AppState): void {
  mkdirSync(appDataDir(), { recursive: true });
  writeFileAtomic(stateFile(), JSON.stringify({ ...readState(), ...fields }, null, 2), 'app state');
}

/** The project the app opened last, if it remembered one. */
export function lastProject(): string | undefined {
  return readState().lastProject;
}

/** The app reopens this project on its next start. */
export function rememberProject(dir: string): void {
  updateState({ lastProject: dir });
}
