import type { HandlersFor } from '../handler-types.ts';
import type { ComputeBackends, computeRequests } from '../contract/compute.ts';
import { appDataDir } from '../app-state.ts';
import { UserError } from '../../core/errors.ts';
import { readBackendSetting, resolveBackendPreference, writeBackendSetting } from '../../core/compute/settings.ts';

/** The backend ladder loads tfjs: only when a request asks about backends, never at start-up. */
const loadBackends = () => import('../../core/compute/backends.ts');

/** What jobs will run on, judged without loading a GPU driver in this (host) process. */
async function describeBackends(): Promise<ComputeBackends> {
  const { planBackend, probeBackends } = await loadBackends();
  const dataDir = appDataDir();
  const ladder = await probeBackends();
  const { preference, source } = resolveBackendPreference(undefined, dataDir);
  const setting = readBackendSetting(dataDir);
  try {
    return { ladder, setting, preference, source, selection: await planBackend(preference, source), problem: null };
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    return { ladder, setting, preference, source, selection: null, problem: err.message };
  }
}

export const computeHandlers: HandlersFor<typeof computeRequests> = {
  'compute.backends': () => describeBackends(),
  'compute.setBackend': async ({ backend }, ctx) => {
    // Fails with the reason when a named backend does not work here, before the setting is stored.
    if (backend !== 'auto') await (await loadBackends()).planBackend(backend, 'setting');
    writeBackendSetting(appDataDir(), backend);
    ctx.emit('compute.changed', { setting: backend });
    return describeBackends();
  },
};
