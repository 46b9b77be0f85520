import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo, type VideoProbe } from '../../../src-main/core/media/probe.ts';
import { sampleClip, slidingWindows, windowSpans } from '../../../src-main/core/media/decode.ts';
import { cropGeometry, segmentIndices, seededRng } from '../../../src-main/core/media/sampling.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { frameIndexOf, makeTestVideo, truncateCopy } from '../../helpers/videos.ts';

let dir: string;
let tools: FfmpegTools;
let cfr: VideoProbe;
let vfr: VideoProbe;
const SIDE = 256;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-media-sampling-'));
  tools = await requireFfmpegTools();
  cfr = await probeVideo(tools, await makeTestVideo(join(dir, 'index.mp4'), { frames: 150, fps: 25, size: [SIDE, SIDE], frameIndexCoded: true }));
  vfr = await probeVideo(tools, await makeTestVideo(join(dir, 'index-vfr.mp4'), { frames: 150, fps: 25, size: [SIDE, SIDE], frameIndexCoded: true, vfr: true }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The frame index painted into each of the T frames of a [T, S, S, 3] clip. */
function paintedIndices(data: Uint8Array, frames: number, size: number): Array<number | null> {
  const bytes = size * size * 3;
  return Array.from({ length: frames }, (_, t) => frameIndexOf(data.subarray(t * bytes, (t + 1) * bytes), size, [SIDE, SIDE]));
}

describe('TSN segment indices', () => {
  it('takes the middle of each of T equal segments in center mode', () => {
    expect(segmentIndices(0, 16, 8, 'center')).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
    expect(segmentIndices(10, 14, 8, 'center')).toEqual([10, 10, 11, 11, 12, 12, 13, 13]);
  });

  it('takes one random frame inside each segment in random mode', () => {
    const rng = seededRng(7);
    for (let trial = 0; trial < 50; trial++) {
      const indices = segmentIndices(100, 180, 8, 'random', rng);
      indices.forEach((frame, k) => {
        expect(frame).toBeGreaterThanOrEqual(100 + k * 10);
        expect(frame).toBeLessThan(100 + (k + 1) * 10);
      });
    }
  });

  it('refuses an empty span', () => {
    expect(() => segmentIndices(5, 5, 8, 'center')).toThrow(/empty/);
  });
});

describe('crop geometry', () => {
  it('centre crop: short side to S·256/224, crop S in the middle', () => {
    expect(cropGeometry(640, 360, 224, 'center')).toEqual({ scaledWidth: 455, scaledHeight: 256, x: 115, y: 16, width: 224, height: 224, size: 224 });
  });

  it('train crop: corner/centre crops of jittered scale that stay inside the picture', () => {
    const rng = seededRng(3);
    const sides = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const g = cropGeometry(640, 360, 224, 'train', rng);
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.y).toBeGreaterThanOrEqual(0);
      expect(g.x + g.width).toBeLessThanOrEqual(g.scaledWidth);
      expect(g.y + g.height).toBeLessThanOrEqual(g.scaledHeight);
      sides.add(g.width);
    }
    expect([...sides].sort((a, b) => a - b)).toEqual([169, 192, 224, 256]);
  });
});

describe('sampling clips frame-exactly', () => {
  it('returns exactly the frames it names, checked pixel by pixel, forward', async () => {
    for (const [start, end] of [[0, 16], [37, 101], [130, 150], [149, 150]]) {
      const clip = await sampleClip(tools, cfr, { start, end, frames: 8, mode: 'center', size: 224, crop: 'center' });
      expect(clip.data.length).toBe(8 * 224 * 224 * 3);
      expect(clip.frameIndices).toEqual(segmentIndices(start, end, 8, 'center'));
      expect(paintedIndices(clip.data, 8, 224)).toEqual(clip.frameIndices);
    }
  });

  it('reversed gives the same frames last to first', async () => {
    const forward = await sampleClip(tools, cfr, { start: 40, end: 120, frames: 8, mode: 'center', size: 112, crop: 'center' });
    const reversed = await sampleClip(tools, cfr, { start: 40, end: 120, frames: 8, mode: 'center', size: 112, crop: 'center', reversed: true });
    expect(reversed.frameIndices).toEqual([...forward.frameIndices].reverse());
    expect(paintedIndices(reversed.data, 8, 112)).toEqual([115, 105, 95, 85, 75, 65, 55, 45]);
  });

  it('is frame-exact on a variable-frame-rate video, where time × fps is wrong', async () => {
    const clip = await sampleClip(tools, vfr, { start: 60, end: 140, frames: 8, mode: 'center', size: 224, crop: 'center' });
    expect(paintedIndices(clip.data, 8, 224)).toEqual([65, 75, 85, 95, 105, 115, 125, 135]);
    const byTimeTimesFps = Math.round(vfr.framePts[65]! * 25);
    expect(byTimeTimesFps).not.toBe(65);
  });

  it('is frame-exact with B-frames and in MPEG-TS, whose timestamps start late and whose seeks land late', async () => {
    for (const name of ['bframes.mp4', 'broadcast.ts']) {
      const probe = await probeVideo(tools, await makeTestVideo(join(dir, name), { frames: 120, size: [SIDE, SIDE], frameIndexCoded: true, bframes: 3, gop: 50, audio: true }));
      for (const start of [0, 9, 48, 51, 97]) {
        const clip = await sampleClip(tools, probe, { start, end: start + 20, frames: 4, mode: 'center', size: 224, crop: 'center' });
        expect(paintedIndices(clip.data, 4, 224)).toEqual(clip.frameIndices);
      }
    }
  });

  it('numbers a transport stream cut mid-GOP from its first decodable frame, the same for clips and windows', async () => {
    const whole = await makeTestVideo(join(dir, 'capture.ts'), { frames: 200, size: [SIDE, SIDE], frameIndexCoded: true, bframes: 3, gop: 50 });
    const bytes = readFileSync(whole);
    const cutAt = Math.floor(bytes.length / 3 / 188) * 188; // TS packets are 188 bytes
    const cut = join(dir, 'capture-cut.ts');
    writeFileSync(cut, bytes.subarray(cutAt));
    const probe = await probeVideo(tools, cut);
    const clip = await sampleClip(tools, probe, { start: 0, end: 40, frames: 4, mode: 'center', size: 224, crop: 'center' });
    const painted = paintedIndices(clip.data, 4, 224);
    const offset = painted[0]! - clip.frameIndices[0]!;
    expect(offset % 50).toBe(0); // frame 0 is the first keyframe
    expect(painted).toEqual(clip.frameIndices.map((i) => i + offset));
    for await (const w of slidingWindows(tools, probe, { window: 40, stride: 40, frames: 4, size: 224 })) {
      expect(paintedIndices(w.data, 4, 224)).toEqual(w.frameIndices.map((i) => i + offset));
    }
  });

  it('random mode and train crop still decode the frames they report', async () => {
    const rng = seededRng(11);
    const clip = await sampleClip(tools, cfr, { start: 20, end: 100, frames: 4, mode: 'random', size: 64, crop: 'train', rng });
    clip.frameIndices.forEach((frame, k) => {
      expect(frame).toBeGreaterThanOrEqual(20 + k * 20);
      expect(frame).toBeLessThan(40 + k * 20);
    });
    // Same seed, same clip: training runs are reproducible.
    const again = await sampleClip(tools, cfr, { start: 20, end: 100, frames: 4, mode: 'random', size: 64, crop: 'train', rng: seededRng(11) });
    expect(again.frameIndices).toEqual(clip.frameIndices);
    expect(Buffer.from(again.data).equals(Buffer.from(clip.data))).toBe(true);
  });

  it('samples a 1-frame video and an odd-sized one', async () => {
    const one = await probeVideo(tools, await makeTestVideo(join(dir, 'one.mp4'), { frames: 1 }));
    const clip = await sampleClip(tools, one, { start: 0, end: 1, frames: 8, mode: 'center', size: 32, crop: 'center' });
    expect(clip.frameIndices).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    const odd = await probeVideo(tools, await makeTestVideo(join(dir, 'odd.mp4'), { frames: 9, size: [161, 97] }));
    const oddClip = await sampleClip(tools, odd, { start: 0, end: 9, frames: 3, mode: 'center', size: 64, crop: 'center' });
    expect(oddClip.data.length).toBe(3 * 64 * 64 * 3);
  });

  it('shows a rotated video the way players do', async () => {
    const probe = await probeVideo(tools, await makeTestVideo(join(dir, 'turned.mp4'), { frames: 4, size: [SIDE, SIDE], frameIndexCoded: true, rotation: 90 }));
    const clip = await sampleClip(tools, probe, { start: 1, end: 2, frames: 1, mode: 'center', size: 224, crop: 'center' });
    const white = (x: number, y: number) => clip.data[(y * 224 + x) * 3]! > 200;
    // Frame 1 lights only the top-left cell; after turning it sits in another corner.
    const corners = { tl: white(20, 20), tr: white(204, 20), bl: white(20, 204), br: white(204, 204) };
    expect(corners).toEqual({ tl: false, tr: probe.rotation === 90, bl: probe.rotation === 270, br: false });
    // Turning only the sampled frames gives the same picture as letting ffmpeg turn every frame.
    const turnedByFfmpeg = await sampleClip(tools, { ...probe, rotation: undefined }, { start: 1, end: 2, frames: 1, mode: 'center', size: 224, crop: 'center' });
    expect(Buffer.from(turnedByFfmpeg.data).equals(Buffer.from(clip.data))).toBe(true);
  });

  it('refuses a span outside the video', async () => {
    await expect(sampleClip(tools, cfr, { start: 140, end: 151, frames: 8, mode: 'center', size: 32, crop: 'center' })).rejects.toThrow(/outside the video's 150 frames/);
  });

  it('names the frame that cannot be decoded when the file was cut short after probing', async () => {
    const path = join(dir, 'shrinking.mp4');
    const whole = await makeTestVideo(join(dir, 'whole-fast.mp4'), { frames: 150, size: [SIDE, SIDE], frameIndexCoded: true, faststart: true });
    truncateCopy(whole, path, 1);
    const probe = await probeVideo(tools, path);
    truncateCopy(whole, path, 0.5);
    const err = await sampleClip(tools, probe, { start: 100, end: 150, frames: 4, mode: 'center', size: 32, crop: 'center' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/shrinking\.mp4: frame \d+ could not be decoded/);
  });
});

describe('sliding windows', () => {
  it('plans windows of a fixed length and stride, or one window for a short video', () => {
    expect(windowSpans(100, 40, 20)).toEqual([[0, 40], [20, 60], [40, 80], [60, 100]]);
    expect(windowSpans(10, 40, 20)).toEqual([[0, 10]]);
  });

  it('hands out every window in order with the right frames, decoding once', async () => {
    for (const video of [cfr, vfr]) {
      const seen: number[] = [];
      for await (const w of slidingWindows(tools, video, { window: 30, stride: 10, frames: 6, size: 112 })) {
        seen.push(w.index);
        expect(w.frameIndices).toEqual(segmentIndices(w.startFrame, w.endFrame, 6, 'center'));
        expect(paintedIndices(w.data, 6, 112)).toEqual(w.frameIndices);
      }
      expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i));
    }
  });

  it('turns seconds into frames with the average rate', async () => {
    const spans: Array<[number, number]> = [];
    for await (const w of slidingWindows(tools, cfr, { window: 2, stride: 1, unit: 'seconds', frames: 8, size: 32 })) spans.push([w.startFrame, w.endFrame]);
    expect(spans).toEqual([[0, 50], [25, 75], [50, 100], [75, 125], [100, 150]]);
  });

  it('stops ffmpeg when the caller stops early', async () => {
    let count = 0;
    for await (const w of slidingWindows(tools, cfr, { window: 10, stride: 10, frames: 2, size: 32 })) {
      count++;
      if (w.index === 1) break;
    }
    expect(count).toBe(2);
  });
});
