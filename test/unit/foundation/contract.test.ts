import { describe, expect, it } from 'vitest';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { dispatch } from '../../../src-main/api/router.ts';
import { requestNames, eventNames } from '../../../src-main/api/contract.ts';
import { ApiError } from '../../../src-main/api/client.ts';

describe('the contract', () => {
  it('answers app.info with the package version and host', async () => {
    const { client } = createLocalApi('cli');
    const info = await client.call('app.info', {});
    expect(info.name).toBe('STM Studio');
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.host).toBe('cli');
    expect(info.projectDir).toBeNull();
  });

  it('rejects unknown requests and malformed params with a typed error, never a crash', async () => {
    const { context } = createLocalApi('web');
    const unknown = await dispatch(context, 'no.such.request', {});
    expect(unknown).toEqual({ ok: false, error: expect.objectContaining({ code: 'bad_request' }) });
    const malformed = await dispatch(context, 'app.info', { unexpected: 1 });
    expect(malformed.ok).toBe(false);
    if (!malformed.ok) {
      expect(malformed.error.code).toBe('bad_request');
      expect(malformed.error.message).toContain('app.info');
    }
    const notAnObject = await dispatch(context, 'app.info', 'text');
    expect(notAnObject.ok).toBe(false);
  });

  it('surfaces failures to in-process clients as ApiError', async () => {
    const { client } = createLocalApi('cli');
    await expect(client.call('app.info', { bogus: true } as never)).rejects.toBeInstanceOf(ApiError);
  });

  it('names every request and event once', () => {
    expect(new Set(requestNames).size).toBe(requestNames.length);
    expect(requestNames).toContain('app.doctor');
    expect(eventNames).toContain('session.changed');
  });

  it('reports doctor keys for every compute backend', async () => {
    const { client } = createLocalApi('cli');
    const report = await client.call('app.doctor', {});
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['node', 'electron', 'ffmpeg', 'ffprobe', 'sqlite', 'backends']));
    expect(report.backends.map((b) => b.name)).toEqual(['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);
    for (const b of report.backends) expect(typeof b.reason).toBe('string');
  });
});
