import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClipFrameCache } from '../../../src-main/core/jobs/frame-cache.ts';
import { sampleClip } from '../../../src-main/core/media/decode.ts';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo, type VideoProbe } from '../../../src-main/core/media/probe.ts';
import { seededRng } from '../../../src-main/core/media/sampling.ts';
import { frameIndexOf, makeTestVideo } from '../../helpers/videos.ts';

const SIDE = 256;
let dir: string;
let tools: FfmpegTools;
let cfr: VideoProbe;
let vfr: VideoProbe;
let broadcast: VideoProbe;
let picture: VideoProbe;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-frame-cache-'));
  tools = await requireFfmpegTools();
  const coded = { frames: 120, fps: 25, size: [SIDE, SIDE] as [number, number], frameIndexCoded: true };
  cfr = await probeVideo(tools, await makeTestVideo(join(dir, 'index.mp4'), coded));
  vfr = await probeVideo(tools, await makeTestVideo(join(dir, 'index-vfr.mp4'), { ...coded, vfr: true }));
  broadcast = await probeVideo(tools, await makeTestVideo(join(dir, 'broadcast.ts'), { ...coded, bframes: 3, gop: 50 }));
  picture = await probeVideo(tools, await makeTestVideo(join(dir, 'picture.mp4'), { frames: 60, size: [320, 240] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The frame index painted into each of the T frames of a [T, S, S, 3] clip. */
function paintedIndices(data: Uint8Array, frames: number, size: number): Array<number | null> {
  const bytes = size * size * 3;
  return Array.from({ length: frames }, (_, t) => frameIndexOf(data.subarray(t * bytes, (t + 1) * bytes), size, [SIDE, SIDE]));
}

/** Mean colour of every 4×4 block of every frame of a [T, S, S, 3] clip. */
function blockMeans(data: Uint8Array, size: number): number[] {
  const means: number[] = [];
  const blocks = size / 4;
  for (let base = 0; base < data.length; base += size * size * 3) {
    for (let by = 0; by < blocks; by++) {
      for (let bx = 0; bx < blocks; bx++) {
        for (let ch = 0; ch < 3; ch++) {
          let sum = 0;
          for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) sum += data[base + ((by * 4 + y) * size + bx * 4 + x) * 3 + ch]!;
          means.push(sum / 16);
        }
      }
    }
  }
  return means;
}

function meanAbsoluteDifference(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('the training frame cache', () => {
  it('serves exactly the frames it names, on constant and variable frame rates and in MPEG-TS', async () => {
    const cache = new ClipFrameCache(tools);
    for (const video of [cfr, vfr, broadcast]) {
      for (const [start, end] of [[0, 16], [37, 101], [100, 120]] as const) {
        const clip = await cache.sample(video, { start, end, frames: 8, mode: 'random', size: 224, crop: 'center', rng: seededRng(start) });
        expect(paintedIndices(clip.data, 8, 224)).toEqual(clip.frameIndices);
      }
    }
    expect(cache.use).toMatchObject({ spans: 9, overflow: 0 });
  });

  it('draws the same frames and crops as sampling with ffmpeg, and the pictures agree', async () => {
    const cache = new ClipFrameCache(tools);
    const cachedRng = seededRng(5);
    const directRng = seededRng(5);
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const [start, end] of [[0, 20], [20, 60]] as const) {
        const options = { start, end, frames: 4, mode: 'random' as const, size: 112, crop: 'train' as const };
        const cached = await cache.sample(picture, { ...options, rng: cachedRng });
        const direct = await sampleClip(tools, picture, { ...options, rng: directRng });
        expect(cached.frameIndices).toEqual(direct.frameIndices);
        // ffmpeg crops the source (at even offsets, for 4:2:0 chroma) and resizes once; the cache resizes its
        // scaled picture. Sharp test-pattern edges differ by a fraction of a pixel, so compare 4×4 block
        // means: a crop one pixel off already differs by more than 5 levels on this pattern.
        expect(meanAbsoluteDifference(blockMeans(cached.data, 112), blockMeans(direct.data, 112))).toBeLessThan(5);
      }
    }
    expect(cache.use.spans).toBe(2);
  });

  it('decodes a span once: later samples come from memory even when the file has gone', async () => {
    const video = await probeVideo(tools, await makeTestVideo(join(dir, 'moving.mp4'), { frames: 40, size: [SIDE, SIDE], frameIndexCoded: true }));
    const cache = new ClipFrameCache(tools);
    const options = { start: 4, end: 36, frames: 4, mode: 'center' as const, size: 224, crop: 'center' as const };
    const first = await cache.sample(video, options);
    renameSync(video.path, `${video.path}.moved`);
    const again = await cache.sample(video, { ...options, reversed: true });
    expect(again.frameIndices).toEqual([...first.frameIndices].reverse());
    expect(paintedIndices(again.data, 4, 224)).toEqual(again.frameIndices);
  });

  it('decodes spans beyond its memory budget at every use, with the same draws', async () => {
    const cache = new ClipFrameCache(tools, 0);
    const options = { start: 10, end: 90, frames: 8, mode: 'random' as const, size: 224, crop: 'train' as const };
    const viaCache = await cache.sample(cfr, { ...options, rng: seededRng(9) });
    const direct = await sampleClip(tools, cfr, { ...options, rng: seededRng(9) });
    expect(viaCache.frameIndices).toEqual(direct.frameIndices);
    expect(Buffer.from(viaCache.data).equals(Buffer.from(direct.data))).toBe(true);
    expect(cache.use).toEqual({ spans: 0, bytes: 0, overflow: 1 });
  });

  it('names the file when a span cannot be decoded, and keeps nothing of it', async () => {
    const cache = new ClipFrameCache(tools);
    const missing = { ...cfr, path: join(dir, 'gone.mp4') };
    await expect(cache.sample(missing, { start: 0, end: 10, frames: 4, mode: 'center', size: 224, crop: 'center' })).rejects.toThrow(/gone\.mp4/);
    expect(cache.use).toMatchObject({ spans: 0, bytes: 0 });
  });
});
