import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectState } from '../../../src-main/core/demo/actions.ts';
import { demoClasses, SCENE_CLASSES, TEMPORAL_PAIRS } from '../../../src-main/core/demo/catalogue.ts';
import {
  DEFAULT_DATA_OPTIONS,
  generateDemoVideos,
  labelsOf,
  planDemoVideos,
  renderVideo,
  type DemoDataOptions,
  type GeneratedVideo,
} from '../../../src-main/core/demo/generate.ts';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';

const options: DemoDataOptions = { ...DEFAULT_DATA_OPTIONS, trainVideos: 2, valVideos: 1 };
const frameBytes = options.size * options.size * 3;

let dir: string;
let tools: FfmpegTools;
let videos: GeneratedVideo[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-demo-'));
  tools = await requireFfmpegTools();
  videos = await generateDemoVideos(tools.ffmpeg, dir, options);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function decode(path: string): Buffer {
  const out = spawnSync(tools.ffmpeg, ['-loglevel', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 28 });
  expect(out.status, out.stderr.toString()).toBe(0);
  return out.stdout;
}

function probe(path: string): { codec: string; width: number; height: number; frames: number } {
  const out = spawnSync(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-count_frames', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', path]);
  const stream = JSON.parse(out.stdout.toString()).streams[0];
  return { codec: stream.codec_name, width: stream.width, height: stream.height, frames: Number(stream.nb_read_frames) };
}

/** Per-frame statistics a frame-by-frame classifier could pick up: colour means and a coarse luminance map. */
function frameStats(frame: Uint8Array, size: number): number[] {
  const cells = 4;
  const stats = new Array<number>(3 + cells * cells).fill(0);
  const cell = size / cells;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      stats[0] += frame[i];
      stats[1] += frame[i + 1];
      stats[2] += frame[i + 2];
      stats[3 + Math.floor(y / cell) * cells + Math.floor(x / cell)] += (frame[i] + frame[i + 1] + frame[i + 2]) / 3;
    }
  }
  return stats.map((s, k) => s / (k < 3 ? size * size : cell * cell));
}

describe('demo video generator', () => {
  it('writes H.264 videos whose decoded frames match the rendered ones', () => {
    const plans = planDemoVideos(options);
    expect(videos.map((v) => v.name)).toEqual(plans.map((p) => p.name));
    for (const [i, video] of videos.entries()) {
      const info = probe(video.path);
      expect(info).toEqual({ codec: 'h264', width: options.size, height: options.size, frames: video.frameCount });
      const decoded = decode(video.path);
      const rendered = [...renderVideo(plans[i], options.size)];
      expect(decoded.length).toBe(rendered.length * frameBytes);
      let worstPsnr = Infinity;
      let absolute = 0;
      for (const [f, frame] of rendered.entries()) {
        let squared = 0;
        for (let j = 0; j < frameBytes; j++) {
          const gap = decoded[f * frameBytes + j] - frame[j];
          squared += gap * gap;
          absolute += Math.abs(gap);
        }
        worstPsnr = Math.min(worstPsnr, 10 * Math.log10((255 * 255) / (squared / frameBytes)));
      }
      // yuv420p halves the colour resolution, which blurs saturated object edges a little; nothing more.
      expect(worstPsnr).toBeGreaterThan(26);
      expect(absolute / decoded.length).toBeLessThan(5);
    }
  });

  it('labels every frame once, with every class once per video and reverse partners back to back', () => {
    const classNames = demoClasses().map((c) => c.name);
    for (const video of videos) {
      const labels = video.labels;
      expect(labels[0].startFrame).toBe(0);
      expect(labels.at(-1)!.endFrame).toBe(video.frameCount);
      for (let i = 1; i < labels.length; i++) expect(labels[i].startFrame).toBe(labels[i - 1].endFrame);
      for (const label of labels) {
        expect(label.endFrame - label.startFrame).toBeGreaterThanOrEqual(options.lengths.minFrames);
        expect(label.endFrame - label.startFrame).toBeLessThanOrEqual(options.lengths.maxFrames);
      }
      expect(labels.map((l) => l.className).sort()).toEqual([...classNames].sort());
      for (const pair of TEMPORAL_PAIRS) {
        const a = labels.findIndex((l) => l.className === pair.forward);
        const b = labels.findIndex((l) => l.className === pair.backward);
        expect(Math.abs(a - b)).toBe(1);
      }
    }
    expect(videos.map((v) => v.split)).toEqual(['train', 'train', 'val']);
  });

  it('gives each temporal class the motion its name says', () => {
    const change = (states: ObjectState[], key: keyof ObjectState) => states.at(-1)![key] - states[0][key];
    const plans = planDemoVideos({ ...options, trainVideos: 6 });
    for (const segment of plans.flatMap((p) => p.segments)) {
      const s = segment.states;
      const expectation: Record<string, () => void> = {
        'move right': () => expect(change(s, 'x')).toBeGreaterThan(options.size * 0.25),
        'move left': () => expect(change(s, 'x')).toBeLessThan(-options.size * 0.25),
        'move up': () => expect(change(s, 'y')).toBeLessThan(-options.size * 0.25),
        'move down': () => expect(change(s, 'y')).toBeGreaterThan(options.size * 0.25),
        'rotate clockwise': () => expect(change(s, 'angle')).toBeGreaterThan(Math.PI / 2),
        'rotate anticlockwise': () => expect(change(s, 'angle')).toBeLessThan(-Math.PI / 2),
        grow: () => expect(change(s, 'size')).toBeGreaterThan(options.size * 0.1),
        shrink: () => expect(change(s, 'size')).toBeLessThan(-options.size * 0.1),
        appear: () => expect([s[0].alpha, s.at(-1)!.alpha]).toEqual([0, 1]),
        disappear: () => expect([s[0].alpha, s.at(-1)!.alpha]).toEqual([1, 0]),
      };
      if (SCENE_CLASSES.some((c) => c.name === segment.className)) {
        expect(new Set(s.map((state) => JSON.stringify(state))).size).toBe(1);
      } else {
        expectation[segment.className]();
      }
    }
  });

  it('shows a temporal class and its reverse through the same frames, so no single frame tells them apart', () => {
    const plans = planDemoVideos({ ...options, trainVideos: 8 });
    const hash = (frame: Uint8Array) => createHash('sha1').update(frame).digest('hex');
    const rendered = plans.map((plan) => [...renderVideo(plan, options.size)]);
    for (const pair of TEMPORAL_PAIRS) {
      const frames = { forward: [] as Uint8Array[], backward: [] as Uint8Array[], forwardFirst: [] as string[], backwardLast: [] as string[] };
      for (const [v, plan] of plans.entries()) {
        const all = rendered[v];
        for (const label of labelsOf(plan)) {
          const span = all.slice(label.startFrame, label.endFrame);
          if (label.className === pair.forward) {
            frames.forward.push(...span);
            frames.forwardFirst.push(hash(span[0]));
          }
          if (label.className === pair.backward) {
            frames.backward.push(...span);
            frames.backwardLast.push(hash(span.at(-1)!));
          }
        }
      }
      // The same multiset of frames: every per-frame statistic has the same distribution in both classes.
      expect(frames.forward.map(hash).sort()).toEqual(frames.backward.map(hash).sort());
      // A start of one class is exactly an end of the other.
      expect(frames.forwardFirst.sort()).toEqual(frames.backwardLast.sort());
      // And the frames within a class do change (the class is there to be seen in the order).
      const stats = frames.forward.map((f) => frameStats(f, options.size));
      expect(new Set(stats.map((s) => s.map((v) => v.toFixed(1)).join())).size).toBeGreaterThan(stats.length / 2);
    }
  });

  it('keeps the per-frame statistics of a class and its reverse indistinguishable after encoding', () => {
    for (const pair of TEMPORAL_PAIRS) {
      const stats = { forward: [] as number[][], backward: [] as number[][] };
      for (const video of videos) {
        const decoded = decode(video.path);
        for (const label of video.labels) {
          const side = label.className === pair.forward ? 'forward' : label.className === pair.backward ? 'backward' : null;
          if (!side) continue;
          for (let f = label.startFrame; f < label.endFrame; f++) {
            stats[side].push(frameStats(decoded.subarray(f * frameBytes, (f + 1) * frameBytes), options.size));
          }
        }
      }
      expect(stats.forward.length).toBe(stats.backward.length);
      // Each statistic's sorted values (its empirical distribution) agree within a fraction of a grey level.
      for (let k = 0; k < stats.forward[0].length; k++) {
        const a = stats.forward.map((s) => s[k]).sort((x, y) => x - y);
        const b = stats.backward.map((s) => s[k]).sort((x, y) => x - y);
        const meanGap = a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;
        expect(meanGap).toBeLessThan(1.5);
      }
    }
  });
});
