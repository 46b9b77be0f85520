import { describe, expect, it } from 'vitest';
import { createWorkerPool, runInWorker } from '../../../src-main/core/compute/worker-pool.ts';
import { UserError } from '../../../src-main/core/errors.ts';

const TASKS = new URL('./fixtures/worker-tasks.ts', import.meta.url).href;

describe('runInWorker', () => {
  it('runs a TypeScript function off the event loop with progress and its backend', async () => {
    const progress: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const result = await runInWorker<{ counted: number; backend: string; threadId: number }, number>(TASKS, 'countTo', { n: 20, stepMs: 25 }, {
      backend: 'wasm',
      onProgress: (v) => progress.push(v),
    });
    clearInterval(timer);
    expect(result.counted).toBe(20);
    expect(result.backend).toBe('wasm');
    expect(result.threadId).toBeGreaterThan(0);
    expect(progress).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // 500 ms of busy work in the worker left the host's timers running.
    expect(ticks).toBeGreaterThan(10);
  });

  it('stops when cancelled and rejects with a cancelled error', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = runInWorker(TASKS, 'countTo', { n: 1000, stepMs: 5 }, {
      backend: 'cpu',
      signal: controller.signal,
      onProgress: (v) => {
        seen.push(v as number);
        if (seen.length === 5) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(seen.length).toBeLessThan(1000);
  });

  it('passes a UserError from the worker through with its code and message', async () => {
    const err = await runInWorker(TASKS, 'failWith', { message: 'clip 7 has no frames' }, { backend: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'invalid_input', message: 'clip 7 has no frames' });
  });

  it('names a missing export', async () => {
    await expect(runInWorker(TASKS, 'noSuchFunction', {}, { backend: 'cpu' })).rejects.toThrow(/no exported function noSuchFunction/);
  });

  it('refuses a backend that does not work here instead of running on another', async () => {
    await expect(runInWorker(TASKS, 'countTo', { n: 1, stepMs: 0 }, { backend: 'tfjs-node-gpu' })).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('createWorkerPool', () => {
  it('spreads inputs over one wasm worker per requested core and returns every result', async () => {
    const pool = await createWorkerPool<{ values: Float32Array; busyMs: number }, { values: Float32Array; threadId: number; backend: string; tfBackend: string }>({
      moduleUrl: TASKS,
      exportName: 'createSquarer',
      args: { offset: 1 },
      backend: 'auto',
      workers: 2,
    });
    try {
      expect(pool.size).toBe(2);
      expect(pool.backend.name).toBe('wasm');
      const inputs = Array.from({ length: 6 }, (_, i) => ({ values: Float32Array.from([i, -i, 0.5]), busyMs: 100 }));
      const results = await Promise.all(inputs.map((input) => pool.run(input)));
      results.forEach((r, i) => {
        expect(Array.from(r.values)).toEqual([i * i + 1, i * i + 1, 1.25]);
        expect(r.tfBackend).toBe('wasm');
      });
      expect(new Set(results.map((r) => r.threadId)).size).toBe(2);
    } finally {
      await pool.dispose();
    }
  });

  it('cancels a queued input without running it', async () => {
    const pool = await createWorkerPool<{ values: Float32Array; busyMs: number }, unknown>({ moduleUrl: TASKS, exportName: 'createSquarer', args: { offset: 0 }, backend: 'cpu', workers: 1 });
    try {
      const first = pool.run({ values: Float32Array.from([2]), busyMs: 200 });
      const controller = new AbortController();
      const second = pool.run({ values: Float32Array.from([3]), busyMs: 0 }, { signal: controller.signal });
      controller.abort();
      await expect(second).rejects.toMatchObject({ code: 'cancelled' });
      await expect(first).resolves.toMatchObject({ backend: 'cpu' });
    } finally {
      await pool.dispose();
    }
  });

  it('fails the task of a worker that dies, then refuses new work once none is left', async () => {
    const pool = await createWorkerPool<{ crash: boolean }, string>({ moduleUrl: TASKS, exportName: 'createCrasher', args: {}, backend: 'cpu', workers: 1 });
    try {
      await expect(pool.run({ crash: false })).resolves.toBe('fine');
      await expect(pool.run({ crash: true })).rejects.toThrow(/exited with code 3/);
      await expect(pool.run({ crash: false })).rejects.toThrow(/every createCrasher worker has stopped: a createCrasher worker exited with code 3/);
    } finally {
      await pool.dispose();
    }
  });

  it('runs a pinned task on its worker only; a pinned worker that dies fails its tasks with the reason', async () => {
    const pool = await createWorkerPool<{ values: Float32Array; busyMs: number }, { threadId: number }>({ moduleUrl: TASKS, exportName: 'createSquarer', args: { offset: 0 }, backend: 'cpu', workers: 2 });
    try {
      const input = { values: Float32Array.from([1]), busyMs: 20 };
      const onFirst = await Promise.all(Array.from({ length: 3 }, () => pool.run(input, { worker: 0 })));
      const onSecond = await pool.run(input, { worker: 1 });
      expect(new Set(onFirst.map((r) => r.threadId)).size).toBe(1);
      expect(onSecond.threadId).not.toBe(onFirst[0].threadId);
    } finally {
      await pool.dispose();
    }
    const crashers = await createWorkerPool<{ crash: boolean }, string>({ moduleUrl: TASKS, exportName: 'createCrasher', args: {}, backend: 'cpu', workers: 2 });
    try {
      const dying = crashers.run({ crash: true }, { worker: 0 });
      const queued = crashers.run({ crash: false }, { worker: 0 });
      await expect(dying).rejects.toThrow(/exited with code 3/);
      await expect(queued).rejects.toThrow(/exited with code 3/);
      await expect(crashers.run({ crash: false }, { worker: 1 })).resolves.toBe('fine');
      // Asked for again after it died, the worker's reason is still what the task gets.
      await expect(crashers.run({ crash: false }, { worker: 0 })).rejects.toThrow(/createCrasher worker exited with code 3/);
      await expect(crashers.run({ crash: false }, { worker: 2 })).rejects.toThrow(/createCrasher worker 2 is not running/);
    } finally {
      await crashers.dispose();
    }
  });

  it('reports a factory that fails while the pool starts', async () => {
    await expect(createWorkerPool({ moduleUrl: TASKS, exportName: 'createBrokenService', args: { message: 'checkpoint x.safetensors is truncated' }, backend: 'cpu', workers: 1 })).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'checkpoint x.safetensors is truncated',
    });
  });
});
