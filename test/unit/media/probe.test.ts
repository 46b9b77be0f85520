import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo } from '../../../src-main/core/media/probe.ts';
import { sampleClip } from '../../../src-main/core/media/decode.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { makeAudioOnly, makeTestVideo, truncateCopy } from '../../helpers/videos.ts';

let dir: string;
let tools: FfmpegTools;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-media-probe-'));
  tools = await requireFfmpegTools();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function probeError(path: string): Promise<UserError> {
  const err = await probeVideo(tools, path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

describe('probing videos', () => {
  it('reads frames, timestamps, size, codec and audio of an ordinary video', async () => {
    const path = await makeTestVideo(join(dir, 'plain.mp4'), { frames: 50, fps: 25, size: [160, 120], audio: true });
    const probe = await probeVideo(tools, path);
    expect(probe).toMatchObject({ frameCount: 50, width: 160, height: 120, displayWidth: 160, displayHeight: 120, rotation: 0, codec: 'h264', hasAudio: true, name: 'plain.mp4' });
    expect(probe.fps).toBeCloseTo(25, 6);
    expect(probe.durationS).toBeGreaterThanOrEqual(1.96);
    expect(probe.framePts.length).toBe(50);
    expect(probe.framePts[0]).toBeCloseTo(0, 6);
    expect(probe.framePts[49]).toBeCloseTo(49 / 25, 6);
    expect(probe.fingerprint).toMatch(/^\d+:[0-9a-f]{32}$/);
  });

  it('gives every frame of a variable-frame-rate video its own timestamp', async () => {
    const path = await makeTestVideo(join(dir, 'vfr.mp4'), { frames: 40, fps: 30, vfr: true });
    const probe = await probeVideo(tools, path);
    expect(probe.frameCount).toBe(40);
    const gaps = Array.from(probe.framePts.subarray(1), (t, i) => Math.round((t - probe.framePts[i]!) * 30));
    // Gaps alternate 1/30 s and 2/30 s: time × fps would put frames in the wrong place.
    expect(gaps.slice(0, 6)).toEqual([1, 2, 1, 2, 1, 2]);
    expect(probe.fps).toBeCloseTo(39 / probe.framePts[39]!, 6);
  });

  it('swaps the displayed sides of a video with rotation metadata', async () => {
    const path = await makeTestVideo(join(dir, 'phone.mp4'), { frames: 10, size: [192, 108], rotation: 90 });
    const probe = await probeVideo(tools, path);
    expect([90, 270]).toContain(probe.rotation);
    expect(probe).toMatchObject({ width: 192, height: 108, displayWidth: 108, displayHeight: 192 });
  });

  it('reads a 1-frame video and one with odd dimensions', async () => {
    const one = await probeVideo(tools, await makeTestVideo(join(dir, 'one.mp4'), { frames: 1 }));
    expect(one.frameCount).toBe(1);
    expect(one.framePts.length).toBe(1);
    const odd = await probeVideo(tools, await makeTestVideo(join(dir, 'odd.mp4'), { frames: 5, size: [161, 97] }));
    expect(odd).toMatchObject({ frameCount: 5, width: 161, height: 97, displayWidth: 161, displayHeight: 97 });
  });

  it('changes the fingerprint with the content and keeps it for a copy', async () => {
    const a = await probeVideo(tools, await makeTestVideo(join(dir, 'fa.mp4'), { frames: 10 }));
    const b = await probeVideo(tools, await makeTestVideo(join(dir, 'fb.mp4'), { frames: 11 }));
    expect(a.fingerprint).not.toBe(b.fingerprint);
    const again = await probeVideo(tools, await makeTestVideo(join(dir, 'fa2.mp4'), { frames: 10 }));
    expect(again.fingerprint).toBe(a.fingerprint);
  });

  it('refuses a zero-byte file, naming it', async () => {
    const path = join(dir, 'empty.mp4');
    writeFileSync(path, '');
    const err = await probeError(path);
    expect(err.code).toBe('invalid_input');
    expect(err.message).toBe(`${path}: the file is empty (0 bytes).`);
  });

  it('refuses a text file named .mp4', async () => {
    const path = join(dir, 'notes.mp4');
    writeFileSync(path, 'these are my notes, not a video\n'.repeat(20));
    const err = await probeError(path);
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/not a readable video/);
  });

  it('refuses an mp4 cut in half', async () => {
    const whole = await makeTestVideo(join(dir, 'whole.mp4'), { frames: 60, size: [320, 240] });
    const err = await probeError(truncateCopy(whole, join(dir, 'half.mp4'), 0.5));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toMatch(/half\.mp4: not a readable video \(.*\); the file may be truncated/);
  });

  it('keeps the decodable part of a streaming (faststart) mp4 cut in half, with a warning', async () => {
    const whole = await makeTestVideo(join(dir, 'stream.mp4'), { frames: 100, size: [320, 240], faststart: true });
    const probe = await probeVideo(tools, truncateCopy(whole, join(dir, 'stream-half.mp4'), 0.5));
    expect(probe.frameCount).toBeGreaterThan(10);
    expect(probe.frameCount).toBeLessThan(100);
    expect(probe.warning).toBe(`only ${probe.frameCount} of the 100 frames the header declares can be decoded; the file looks truncated`);
    const last = await sampleClip(tools, probe, { start: probe.frameCount - 1, end: probe.frameCount, frames: 1, mode: 'center', size: 32, crop: 'center' });
    expect(last.frameIndices).toEqual([probe.frameCount - 1]);
  });

  it('refuses an audio-only file', async () => {
    const path = await makeAudioOnly(join(dir, 'voice.m4a'));
    const err = await probeError(path);
    expect(err.message).toBe(`${path}: it has audio but no video stream.`);
  });

  it('says when the file does not exist', async () => {
    const err = await probeError(join(dir, 'gone.mp4'));
    expect(err.code).toBe('not_found');
  });
});
