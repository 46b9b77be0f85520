import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { labelledProject, TINY, type LabelledProject } from './project-fixture.ts';

const { backend: _fixtureBackend, ...tiny } = { ...TINY, layers: [...TINY.layers] as [number, number, number, number], epochs: 1 };
const savedEnv = { backend: process.env.STM_BACKEND, home: process.env.STM_STUDIO_HOME };

describe('the backend a job runs on', () => {
  let home: string;
  let f: LabelledProject;
  let api: LocalApi;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'stm-home-'));
    process.env.STM_STUDIO_HOME = home;
    delete process.env.STM_BACKEND;
    f = await labelledProject();
    api = createLocalApi('cli');
    api.context.session.open(f.dir);
  });

  afterAll(() => {
    api.context.session.close();
    f.cleanup();
    rmSync(home, { recursive: true, force: true });
    for (const [key, value] of [['STM_BACKEND', savedEnv.backend], ['STM_STUDIO_HOME', savedEnv.home]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  async function runJob(start: () => Promise<{ id: number }>): Promise<{ params: Record<string, unknown>; log: string }> {
    const { id } = await start();
    const done = await api.client.call('jobs.wait', { id });
    expect(done.status, done.error ?? '').toBe('done');
    return { params: done.params, log: (await api.client.call('jobs.log', { id })).log };
  }

  it('follows the app setting, unless the job names a backend or STM_BACKEND does', async () => {
    await api.client.call('compute.setBackend', { backend: 'cpu' });

    const byFlag = await runJob(() => api.client.call('train.start', { ...tiny, name: 'by flag', backend: 'wasm' }));
    expect(byFlag.params).toMatchObject({ backend: 'wasm', backendSource: 'flag' });
    expect(byFlag.log).toMatch(/compute backend: wasm \(requested with --backend \(WebAssembly/);

    const [model] = await api.client.call('models.list', {});
    const bySetting = await runJob(() => api.client.call('probe.start', { modelId: model!.id, engine: 'tfjs' }));
    expect(bySetting.params).toMatchObject({ backend: 'cpu', backendSource: 'setting' });
    expect(bySetting.log).toMatch(/inference: TensorFlow\.js on cpu \(requested by the app setting \(plain JavaScript/);

    process.env.STM_BACKEND = 'wasm';
    const byEnv = await runJob(() => api.client.call('predict.start', { modelId: model!.id, videoIds: [f.videoIds[0]!] }));
    expect(byEnv.params).toMatchObject({ backend: 'wasm', backendSource: 'env' });
    expect(byEnv.log).toMatch(/inference: ONNX Runtime \(cpu\) on the exported model, faster than TensorFlow\.js on wasm \(requested by STM_BACKEND/);
  });
});
