/**
 * The app setting for the compute backend (one small JSON file in the user's STM Studio data folder) and
 * the order in which a choice is made: a command-line flag, then STM_BACKEND, then the app setting.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../files/atomic-write.ts';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { BACKEND_ENV, BACKEND_LADDER, isBackendName, type BackendName, type PreferenceOrigin } from './backend-names.ts';

export type BackendPreference = BackendName | 'auto';

const FILE = 'compute.json';

export function readBackendSetting(dataDir: string): BackendPreference {
  const file = join(dataDir, FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'auto';
  }
  let backend: unknown;
  try {
    backend = (JSON.parse(text) as { backend?: unknown }).backend;
  } catch {
    throw new UserError('invalid_input', `${file} is not valid JSON; delete it or set the backend again.`);
  }
  if (backend === undefined || backend === 'auto') return 'auto';
  if (typeof backend !== 'string' || !isBackendName(backend)) {
    throw new UserError('invalid_input', `${file}: backend ${JSON.stringify(backend)} is not one of auto, ${BACKEND_LADDER.join(', ')}.`);
  }
  return backend;
}

export function writeBackendSetting(dataDir: string, backend: BackendPreference): void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, FILE);
  writeFileAtomic(file, `${JSON.stringify({ backend }, null, 2)}\n`, 'compute settings');
}

export interface PreferenceSource {
  preference: BackendPreference;
  source: PreferenceOrigin;
}

/** What to run on: `--backend` if given, else STM_BACKEND, else the app setting, else auto. */
export function resolveBackendPreference(flag: BackendPreference | undefined, dataDir: string | null): PreferenceSource {
  if (flag && flag !== 'auto') return { preference: flag, source: 'flag' };
  const fromEnv = process.env[BACKEND_ENV]?.trim();
  if (fromEnv && fromEnv !== 'auto') {
    if (!isBackendName(fromEnv)) {
      throw new UserError('invalid_input', `${BACKEND_ENV}=${fromEnv} is not a backend; use auto or one of ${BACKEND_LADDER.join(', ')}.`);
    }
    return { preference: fromEnv, source: 'env' };
  }
  const setting = dataDir ? readBackendSetting(dataDir) : 'auto';
  if (setting !== 'auto') return { preference: setting, source: 'setting' };
  return { preference: 'auto', source: 'default' };
}
