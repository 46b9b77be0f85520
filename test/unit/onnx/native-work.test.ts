import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const END = fileURLToPath(new URL('./fixtures/end-onnx-worker.mjs', import.meta.url));
const end = (how: 'terminate' | 'outside') => spawnSync(process.execPath, [END, how], { encoding: 'utf8', timeout: 60_000 });

describe('ending a worker thread in the middle of an ONNX Runtime run', () => {
  it('aborts the whole process with a plain terminate(), and not when the run in hand is waited out', () => {
    const plain = end('terminate');
    expect(plain.signal).toBe('SIGABRT');
    expect(plain.stdout).not.toContain('alive');

    const outside = end('outside');
    expect(outside.status, outside.stderr).toBe(0);
    expect(outside.stdout).toContain('alive (runs in flight when asked: 1)');
  }, 120_000);
});
