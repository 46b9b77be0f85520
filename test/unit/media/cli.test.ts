import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { frameIndexOf, makeTestVideo } from '../../helpers/videos.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
let root: string;
let project: string;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, STM_STUDIO_HOME: join(root, 'home') } });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'stm-media-cli-'));
  project = join(root, 'project');
  expect(run('project', 'init', project).status).toBe(0);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('stm-studio video', () => {
  it('add: one line per file, good files go in, exit 1 when any failed', async () => {
    const folder = join(root, 'clips');
    await makeTestVideo(join(folder, 'a.mp4'), { frames: 12, fps: 24 });
    await makeTestVideo(join(folder, 'b.mov'), { frames: 7, size: [96, 64], rotation: 90 });
    writeFileSync(join(folder, 'broken.mp4'), 'nope');
    writeFileSync(join(folder, 'readme.txt'), 'not picked up by --dir');
    const r = run('video', 'add', project, '--dir', folder);
    expect(r.status).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^ok {5}.*a\.mp4: video \d+, 12 frames, 24 fps, 160×120, h264$/);
    expect(lines[1]).toMatch(/^ok {5}.*b\.mov: video \d+, 7 frames, 25 fps, 64×96 \(rotated (90|270)°\), h264$/);
    expect(lines[2]).toMatch(/^failed .*broken\.mp4: not a readable video/);

    const again = run('video', 'add', project, join(folder, 'a.mp4'), '--json');
    expect(again.status).toBe(1);
    expect(JSON.parse(again.stdout)[0]).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });

  it('frames: writes the sampled frames and their indices, reversed on request', async () => {
    const path = await makeTestVideo(join(root, 'index.mp4'), { frames: 64, size: [256, 256], frameIndexCoded: true });
    expect(run('video', 'add', project, path).status).toBe(0);
    const out = join(root, 'what-the-model-sees.safetensors');
    const r = run('video', 'frames', project, 'index.mp4', '--from', '16', '--to', '48', '--frames', '4', '--size', '224', '--reversed', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('from frames 44 36 28 20');
    const file = readSafetensors(out);
    const frames = file.tensors.get('frames')!;
    expect(frames.shape).toEqual([4, 224, 224, 3]);
    const bytes = 224 * 224 * 3;
    const painted = [0, 1, 2, 3].map((t) => frameIndexOf((frames.data as Uint8Array).subarray(t * bytes, (t + 1) * bytes), 224, [256, 256]));
    expect(painted).toEqual([44, 36, 28, 20]);
  });

  it('frames: usage errors exit 2', () => {
    const r = run('video', 'frames', project, 'index.mp4', '--from', '10', '--to', '5', '--frames', '4', '--size', '32', '--out', join(root, 'x.safetensors'));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--to (5) must be greater than --from (10)');
  });
});
