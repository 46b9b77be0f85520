import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';

const golden = join(import.meta.dirname, '../../fixtures/stm-small.safetensors');
const savedEnv = { backend: process.env.STM_BACKEND, home: process.env.STM_STUDIO_HOME };

describe('the backend model forward runs on', () => {
  let home: string;
  let api: LocalApi;

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'stm-home-'));
    process.env.STM_STUDIO_HOME = home;
    delete process.env.STM_BACKEND;
    api = createLocalApi('cli');
  });

  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
    for (const [key, value] of [['STM_BACKEND', savedEnv.backend], ['STM_STUDIO_HOME', savedEnv.home]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  const forward = (backend?: 'wasm' | 'cpu') =>
    api.client.call('model.forward', {
      weights: golden, input: golden, inputKey: 'golden.input', out: join(home, `logits-${backend ?? 'default'}.safetensors`),
      ...(backend ? { backend } : {}),
    });

  it('follows the app setting when no backend is named, and a named backend wins over it', async () => {
    // cpu is the last rung of the ladder: auto picks it only when nothing else works, so only the setting explains it.
    await api.client.call('compute.setBackend', { backend: 'cpu' });

    const bySetting = await forward();
    expect(bySetting.backend).toBe('cpu');
    expect(readSafetensors(bySetting.out).tensors.get('clip_logits')!.shape).toEqual([2, 5]);

    const byFlag = await forward('wasm');
    expect(byFlag.backend).toBe('wasm');
    expect(readSafetensors(byFlag.out).tensors.get('clip_logits')!.shape).toEqual([2, 5]);
  });
});
