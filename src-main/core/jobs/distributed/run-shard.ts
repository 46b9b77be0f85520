/**
 * Runs one shard on a worker: decodes the shard's windows (or labelled clips) exactly as a local predict or
 * probe does, classifies them forward and/or reversed in batches, and returns the probabilities.
 */
import { sampleClip, slidingWindows, type DecodableVideo } from '../../media/decode.ts';
import type { FfmpegTools } from '../../media/locate.ts';
import { reverseFrames } from '../../media/sampling.ts';
import { UserError } from '../../errors.ts';
import type { FileClassifier } from '../inference.ts';
import type { ShardTask, ShardWindowResult } from './shards.ts';

export interface ShardRunContext {
  tools: FfmpegTools;
  classifier: FileClassifier;
  /** The video's path on this machine (after --path-map). */
  localPath: string;
  signal: AbortSignal;
  /** Windows classified so far. */
  progress(done: number): void;
}

interface Pending {
  index: number;
  startFrame: number;
  endFrame: number;
  data: Uint8Array;
}

export async function runShard(task: ShardTask, ctx: ShardRunContext): Promise<ShardWindowResult[]> {
  const { classifier } = ctx;
  const video: DecodableVideo = {
    path: ctx.localPath,
    displayWidth: task.video.displayWidth,
    displayHeight: task.video.displayHeight,
    framePts: Float64Array.from(task.video.framePts),
  };
  const results: ShardWindowResult[] = [];
  let pending: Pending[] = [];
  const flush = async () => {
    if (!pending.length) return;
    const rows: ShardWindowResult[] = pending.map((w) => ({ index: w.index, startFrame: w.startFrame, endFrame: w.endFrame }));
    for (const direction of task.directions) {
      const clips = pending.map((w) => (direction === 'reversed' ? reverseFrames(w.data, classifier.frames) : w.data));
      const probabilities = await classifier.classify(clips);
      rows.forEach((row, i) => (row[direction] = Array.from(probabilities[i])));
    }
    results.push(...rows);
    pending = [];
    ctx.progress(results.length);
  };
  const stopIfAsked = () => {
    if (ctx.signal.aborted) throw new UserError('cancelled', 'The shard was released.');
  };

  if (task.spans.kind === 'windows') {
    const { window, stride, first, count } = task.spans;
    for await (const w of slidingWindows(ctx.tools, video, {
      window, stride, unit: 'frames', frames: classifier.frames, size: classifier.size, range: { first, count }, signal: ctx.signal,
    })) {
      stopIfAsked();
      pending.push(w);
      if (pending.length >= task.batch) await flush();
    }
  } else {
    const clips = task.spans.clips;
    for (let start = 0; start < clips.length; start += task.batch) {
      stopIfAsked();
      const batch = clips.slice(start, start + task.batch);
      const samples = await Promise.all(batch.map((clip) =>
        sampleClip(ctx.tools, video, { start: clip.startFrame, end: clip.endFrame, frames: classifier.frames, size: classifier.size, mode: 'center', crop: 'center', signal: ctx.signal }),
      ));
      pending = batch.map((clip, i) => ({ index: start + i, startFrame: clip.startFrame, endFrame: clip.endFrame, data: samples[i].data }));
      await flush();
    }
  }
  await flush();
  stopIfAsked();
  return results;
}
