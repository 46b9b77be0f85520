import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type ProjectDataset } from '../../../src-main/core/jobs/dataset.ts';
import { ClipFrameCache } from '../../../src-main/core/jobs/frame-cache.ts';
import { loadBatch, type BatchSampling } from '../../../src-main/core/jobs/train-batches.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { seededRng } from '../../../src-main/core/media/sampling.ts';
import { IMAGENET_NORMALIZATION } from '../../../src-main/core/model/checkpoint.ts';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';

const run = promisify(execFile);
const FRAMES = 4;
const SIZE = 32;

let dir: string;
let project: Project;
let dataset: ProjectDataset;
let classIndex: Map<number, number>;
let ids: { open: number; close: number; wave: number };

/** Frame k of the video is a flat grey of brightness 16 + 6k: any crop of it tells which frame it is. */
async function brightnessRamp(path: string): Promise<string> {
  const tools = await requireFfmpegTools();
  await run(tools.ffmpeg, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=black:size=64x48:rate=10',
    '-vf', "geq=lum='16+6*N':cb=128:cr=128", '-frames:v', '30', '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', path,
  ]);
  return path;
}

/** The mean brightness (0–255) of each of the T frames of clip `i` in a normalised batch. */
function frameBrightness(x: Float32Array, i: number): number[] {
  const values = FRAMES * SIZE * SIZE * 3;
  const { mean, std } = IMAGENET_NORMALIZATION;
  return Array.from({ length: FRAMES }, (_, t) => {
    let sum = 0;
    for (let p = 0; p < SIZE * SIZE; p++) {
      for (let c = 0; c < 3; c++) sum += (x[i * values + (t * SIZE * SIZE + p) * 3 + c]! * std[c]! + mean[c]!) * 255;
    }
    return sum / (SIZE * SIZE * 3);
  });
}

// Random segment sampling may take one frame twice in neighbouring segments, so order is checked loosely.
const rising = (v: number[]) => v.every((b, t) => t === 0 || b >= v[t - 1]! - 1) && v[FRAMES - 1]! > v[0]! + 6;
const falling = (v: number[]) => v.every((b, t) => t === 0 || b <= v[t - 1]! + 1) && v[FRAMES - 1]! < v[0]! - 6;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-batches-'));
  project = openProject(dir, { create: true });
  const [added] = await addVideos(project, await requireFfmpegTools(), [await brightnessRamp(join(dir, 'ramp.mp4'))]);
  if (!added.ok) throw new Error(added.error.message);
  ids = { open: project.classes.add({ name: 'open' }).id, close: project.classes.add({ name: 'close' }).id, wave: project.classes.add({ name: 'wave' }).id };
  project.classes.update(ids.open, { reverseOf: ids.close });
  for (const [name, start] of [['open', 0], ['close', 10], ['wave', 20]] as const) {
    project.clips.create({ videoId: added.video.id, classId: ids[name], startFrame: start, endFrame: start + 10 });
  }
  dataset = loadDataset(project, { log() {} }, { frames: FRAMES, requireTrainable: true });
  classIndex = new Map(dataset.classes.map((c, i) => [c.id, i]));
});
afterAll(() => {
  project.close();
  rmSync(dir, { recursive: true, force: true });
});

function sampling(reverse: boolean): BatchSampling {
  return {
    frames: FRAMES, size: SIZE, flip: false, flipSafe: new Set(), reverse, rng: seededRng(3),
    partnerOf: new Map([[ids.open, ids.close], [ids.close, ids.open]]),
  };
}

describe('training batches', () => {
  it('plays reverse-pair clips backwards half the time, labelled as the partner; other classes never', async () => {
    const clips = Array.from({ length: 8 }, () => dataset.clips).flat();
    const batch = await loadBatch(new ClipFrameCache(await requireFfmpegTools()), dataset, clips, classIndex, { ...sampling(true), training: true });
    const outcomes = clips.map((clip, i) => ({ clip, label: dataset.classes[batch.labels[i]!]!.id, brightness: frameBrightness(batch.x, i) }));
    for (const { clip, label, brightness } of outcomes) {
      if (clip.classId === ids.wave) {
        expect(label).toBe(ids.wave);
        expect(rising(brightness)).toBe(true);
      } else if (label === clip.classId) {
        expect(rising(brightness)).toBe(true);
      } else {
        expect(label).toBe(clip.classId === ids.open ? ids.close : ids.open);
        expect(falling(brightness)).toBe(true);
      }
    }
    const paired = outcomes.filter((o) => o.clip.classId !== ids.wave);
    const reversed = paired.filter((o) => o.label !== o.clip.classId).length;
    expect(reversed).toBeGreaterThan(2);
    expect(reversed).toBeLessThan(paired.length - 2);
  });

  it('never reverses when the option is off, nor for validation', async () => {
    const cache = new ClipFrameCache(await requireFfmpegTools());
    for (const options of [{ ...sampling(false), training: true }, { ...sampling(true), training: false }]) {
      const batch = await loadBatch(cache, dataset, dataset.clips, classIndex, options);
      dataset.clips.forEach((clip, i) => {
        expect(dataset.classes[batch.labels[i]!]!.id).toBe(clip.classId);
        expect(rising(frameBrightness(batch.x, i))).toBe(true);
      });
    }
  });
});
