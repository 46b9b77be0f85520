/**
 * What travels through the queue: a shard is one video (or a chunk of a long video's windows, or of its
 * labelled clips) for one model, and its result is the class probabilities of each window, forward and/or
 * reversed. Shards carry data only (paths, frame numbers, settings); workers validate them against the
 * contract's schemas before touching anything.
 */
import type { BackendName } from '../../compute/backends.ts';
import type { InferenceEngine } from '../params.ts';

/** The kinds of job a worker runs; anything else on the queue is refused. */
export const SHARD_KINDS = ['predict', 'probe'] as const;
export type ShardKind = (typeof SHARD_KINDS)[number];

export type ShardDirection = 'forward' | 'reversed';

/** A model published to the queue once, by the sha256 of its weights file. */
export interface ModelRef {
  sha256: string;
  bytes: number;
  name: string;
}

export interface ShardVideo {
  /** The path on the coordinating machine (a worker maps it with --path-map). */
  path: string;
  name: string;
  displayWidth: number;
  displayHeight: number;
  /** Frame timestamps, up to the last frame the shard needs. */
  framePts: number[];
}

export type ShardSpans =
  /** Sliding windows `first` … `first + count − 1` of the video (window and stride in frames). */
  | { kind: 'windows'; window: number; stride: number; first: number; count: number }
  /** Labelled clips [startFrame, endFrame), sampled at their centre. */
  | { kind: 'clips'; clips: Array<{ startFrame: number; endFrame: number }> };

export interface ShardTask {
  version: 1;
  model: ModelRef;
  video: ShardVideo;
  spans: ShardSpans;
  directions: ShardDirection[];
  batch: number;
  backend?: BackendName | 'auto';
  engine?: InferenceEngine;
}

/** One classified window or clip: `index` is the window index (windows) or the position in `clips`. */
export interface ShardWindowResult {
  index: number;
  startFrame: number;
  endFrame: number;
  forward?: number[];
  reversed?: number[];
}

export interface ShardResult {
  windows: ShardWindowResult[];
  /** The worker that ran the shard, and on what. */
  worker: string;
  engine: string;
  seconds: number;
}

/** How many windows or clips a shard covers. */
export function shardSize(spans: ShardSpans): number {
  return spans.kind === 'windows' ? spans.count : spans.clips.length;
}

/** A one-line description for logs: `predict "a.mp4" windows 0–255`. */
export function describeShard(kind: ShardKind, task: ShardTask): string {
  const what = task.spans.kind === 'windows'
    ? `windows ${task.spans.first}–${task.spans.first + task.spans.count - 1}`
    : `${task.spans.clips.length} clip(s)`;
  return `${kind} "${task.video.name}" ${what} (${task.directions.join('+')}, model ${task.model.sha256.slice(0, 12)})`;
}
