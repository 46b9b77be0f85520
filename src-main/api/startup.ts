import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appDataDir } from './session.ts';

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

/** The project the app opens on start: the last one, else the default project folder. */
export async function resolveStartupProject(): Promise<string> {
  const last = readState().lastProject;
  if (last && existsSync(last)) return last;
  return join(appDataDir(), 'projects', 'default');
}
