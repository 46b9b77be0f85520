import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKEND_LADDER, currentBackend, probeBackends, selectBackend } from '../../../src-main/core/compute/backends.ts';
import { readBackendSetting, resolveBackendPreference, writeBackendSetting } from '../../../src-main/core/compute/settings.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';

let home: string;
const savedEnv = { backend: process.env.STM_BACKEND, home: process.env.STM_STUDIO_HOME };

beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stm-compute-'));
  delete process.env.STM_BACKEND;
  process.env.STM_STUDIO_HOME = home;
});

afterEach(() => {
  rmSync(home, { recursive: true, force: true });
  for (const [key, value] of [['STM_BACKEND', savedEnv.backend], ['STM_STUDIO_HOME', savedEnv.home]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

describe('backend ladder', () => {
  it('lists every rung best first, each with a reason, and the JS fallbacks work here', async () => {
    const ladder = await probeBackends();
    expect(ladder.map((s) => s.name)).toEqual([...BACKEND_LADDER]);
    for (const status of ladder) expect(status.reason.length).toBeGreaterThan(10);
    expect(ladder.find((s) => s.name === 'wasm')!.available).toBe(true);
    expect(ladder.find((s) => s.name === 'cpu')!.available).toBe(true);
  });

  it('auto picks the best working rung, says why each higher one was skipped, and switches tfjs to it', async () => {
    const ladder = await probeBackends();
    const best = ladder.find((s) => s.available)!;
    const selection = await selectBackend('auto');
    expect(selection.name).toBe(best.name);
    expect(selection.skipped.map((s) => s.name)).toEqual(ladder.slice(0, ladder.indexOf(best)).map((s) => s.name));
    for (const skipped of selection.skipped) expect(skipped.reason).toBe(ladder.find((s) => s.name === skipped.name)!.reason);
    expect(currentBackend()).toBe(best.name);
  });

  it('runs on a named backend, and STM_BACKEND chooses when no name is given', async () => {
    expect((await selectBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    process.env.STM_BACKEND = 'wasm';
    const selection = await selectBackend();
    expect(selection.name).toBe('wasm');
    expect(selection.reason).toMatch(/requested/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('refuses a named backend that does not work instead of silently running slower', async () => {
    const ladder = await probeBackends();
    const missing = ladder.find((s) => !s.available);
    if (!missing) return; // every rung works on this machine
    const before = tf.getBackend();
    await expect(selectBackend(missing.name)).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining(missing.name) });
    expect(tf.getBackend()).toBe(before);
  });

  it('names a bad STM_BACKEND value', async () => {
    process.env.STM_BACKEND = 'cuda';
    await expect(selectBackend()).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('STM_BACKEND=cuda') });
  });
});

describe('backend preference', () => {
  it('takes the flag over STM_BACKEND over the app setting', () => {
    expect(resolveBackendPreference(undefined, home)).toEqual({ preference: 'auto', source: 'default' });
    writeBackendSetting(home, 'cpu');
    expect(readBackendSetting(home)).toBe('cpu');
    expect(resolveBackendPreference(undefined, home)).toEqual({ preference: 'cpu', source: 'setting' });
    process.env.STM_BACKEND = 'wasm';
    expect(resolveBackendPreference(undefined, home)).toEqual({ preference: 'wasm', source: 'env' });
    expect(resolveBackendPreference('webgpu', home)).toEqual({ preference: 'webgpu', source: 'flag' });
  });

  it('reports a damaged settings file by name', () => {
    writeFileSync(join(home, 'compute.json'), '{"backend": "tpu"}');
    expect(() => readBackendSetting(home)).toThrow(/compute\.json: backend "tpu" is not one of/);
    writeFileSync(join(home, 'compute.json'), '{broken');
    expect(() => readBackendSetting(home)).toThrow(/compute\.json is not valid JSON/);
  });
});

describe('compute contract', () => {
  it('compute.backends and compute.setBackend store the app setting and report the selection', async () => {
    const { client, hub } = createLocalApi('cli');
    const events: unknown[] = [];
    hub.on('compute.changed', (p) => events.push(p));
    const initial = await client.call('compute.backends', {});
    expect(initial.setting).toBe('auto');
    expect(initial.ladder).toHaveLength(BACKEND_LADDER.length);
    expect(initial.selection?.name).toBe(initial.ladder.find((s) => s.available)!.name);

    const changed = await client.call('compute.setBackend', { backend: 'cpu' });
    expect(changed).toMatchObject({ setting: 'cpu', preference: 'cpu', source: 'setting', selection: { name: 'cpu' }, problem: null });
    expect(events).toEqual([{ setting: 'cpu' }]);
    expect(readBackendSetting(home)).toBe('cpu');

    const missing = initial.ladder.find((s) => !s.available);
    if (missing) {
      await expect(client.call('compute.setBackend', { backend: missing.name })).rejects.toMatchObject({ code: 'unavailable' });
      expect(readBackendSetting(home)).toBe('cpu');
    }
  });
});
