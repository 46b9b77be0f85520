import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('stm-studio CLI', () => {
  it('prints help with exit code 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('doctor');
    expect(r.stdout).toContain('serve');
  });

  it('exits 2 on a usage error', () => {
    const r = run('no-such-command');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command');
  });

  it('doctor --json prints the documented keys', () => {
    const r = run('doctor', '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['node', 'electron', 'ffmpeg', 'ffprobe', 'sqlite', 'backends']));
  });
});
