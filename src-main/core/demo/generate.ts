/**
 * Writes the demo's videos: each one a shot list covering every class once, rendered in JS and encoded to
 * H.264, with the frame span and class of every segment.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRng } from '../media/sampling.ts';
import { planVideoSegments, type SegmentLengths, type SegmentPlan } from './actions.ts';
import { encodeH264 } from './encode.ts';
import { renderSegment } from './render.ts';

export type DemoSplit = 'train' | 'val';

export interface DemoDataOptions {
  trainVideos: number;
  valVideos: number;
  /** Square frame side in pixels (even, for yuv420p). */
  size: number;
  fps: number;
  lengths: SegmentLengths;
  seed: number;
}

export const DEFAULT_DATA_OPTIONS: DemoDataOptions = {
  trainVideos: 24,
  valVideos: 8,
  size: 64,
  fps: 12,
  lengths: { minFrames: 16, maxFrames: 24 },
  seed: 8,
};

export interface DemoVideoPlan {
  name: string;
  split: DemoSplit;
  segments: SegmentPlan[];
}

/** A labelled span: frames [startFrame, endFrame) show one action of the class. */
export interface DemoLabel {
  className: string;
  startFrame: number;
  endFrame: number;
}

export interface GeneratedVideo {
  name: string;
  path: string;
  split: DemoSplit;
  frameCount: number;
  labels: DemoLabel[];
}

/** Deterministic for a seed: video i draws from its own stream, so adding videos keeps earlier ones. */
export function planDemoVideos(options: DemoDataOptions): DemoVideoPlan[] {
  const splits: DemoSplit[] = [...Array<DemoSplit>(options.trainVideos).fill('train'), ...Array<DemoSplit>(options.valVideos).fill('val')];
  const counters = { train: 0, val: 0 };
  return splits.map((split, i) => {
    const random = seededRng(options.seed * 10_007 + i * 7919 + (split === 'val' ? 1 : 0));
    const name = `demo-${split}-${String(++counters[split]).padStart(2, '0')}`;
    return { name, split, segments: planVideoSegments(random, options.size, options.lengths) };
  });
}

/** The labels of a planned video: its segments laid end to end. */
export function labelsOf(plan: DemoVideoPlan): DemoLabel[] {
  let start = 0;
  return plan.segments.map((segment) => {
    const label = { className: segment.className, startFrame: start, endFrame: start + segment.states.length };
    start = label.endFrame;
    return label;
  });
}

export function* renderVideo(plan: DemoVideoPlan, size: number): Generator<Uint8Array> {
  for (const segment of plan.segments) yield* renderSegment(segment, size);
}

export interface GenerateHooks {
  onVideo?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Renders and encodes every planned video into `dir` (created if needed). */
export async function generateDemoVideos(
  ffmpeg: string,
  dir: string,
  options: DemoDataOptions,
  hooks: GenerateHooks = {},
): Promise<GeneratedVideo[]> {
  await mkdir(dir, { recursive: true });
  const plans = planDemoVideos(options);
  const videos: GeneratedVideo[] = [];
  for (const plan of plans) {
    hooks.signal?.throwIfAborted();
    const path = join(dir, `${plan.name}.mp4`);
    const frameCount = await encodeH264(ffmpeg, path, { width: options.size, height: options.size, fps: options.fps }, renderVideo(plan, options.size));
    videos.push({ name: plan.name, path, split: plan.split, frameCount, labels: labelsOf(plan) });
    hooks.onVideo?.(videos.length, plans.length);
  }
  return videos;
}
