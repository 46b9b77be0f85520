/**
 * Training's input batches: clips sampled through the frame cache (TSN segments, corner crops while training),
 * augmented as the user allowed — a horizontal flip for flip-safe classes, and playback reversal for classes
 * with a reverse partner, labelled as the partner (a door opening played backwards is a door closing) —
 * then normalised into one float tensor buffer.
 */
import { IMAGENET_NORMALIZATION } from '../model/checkpoint.ts';
import type { Rng } from '../media/sampling.ts';
import { decodable, flipHorizontal, normalizeInto, type LabelledClip, type ProjectDataset } from './dataset.ts';
import type { ClipFrameCache } from './frame-cache.ts';
import type { TrainParams } from './params.ts';
import { shuffled } from './split.ts';
import type { JobHooks } from './types.ts';

export interface Batch {
  x: Float32Array;
  /** Class index of every clip, after augmentation (a reversed clip carries its partner's index). */
  labels: number[];
}

export interface BatchSampling {
  frames: number;
  size: number;
  flip: boolean;
  /** Class ids a horizontal flip keeps. */
  flipSafe: Set<number>;
  /** Whether clips of classes with a reverse partner are played backwards half the time. */
  reverse: boolean;
  /** Class id → its reverse partner's class id, for partners that are among the trained classes. */
  partnerOf: Map<number, number>;
  rng: Rng;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function loadBatch(
  frameCache: ClipFrameCache,
  dataset: ProjectDataset,
  clips: readonly LabelledClip[],
  classIndex: Map<number, number>,
  options: BatchSampling & { training: boolean },
): Promise<Batch> {
  const clipValues = options.frames * options.size * options.size * 3;
  const x = new Float32Array(clips.length * clipValues);
  const labels: number[] = [];
  // The whole batch at once: first-time decodes of the clips' spans run side by side. Each clip's coin is
  // drawn before its sampling draws, so a seeded run is reproducible.
  const samples = await Promise.all(
    clips.map((clip) => {
      const partner = options.partnerOf.get(clip.classId);
      const reversed = options.training && options.reverse && partner !== undefined && options.rng() < 0.5;
      labels.push(classIndex.get(reversed ? partner! : clip.classId)!);
      return frameCache.sample(decodable(dataset.videos.get(clip.videoId)!), {
        start: clip.startFrame,
        end: clip.endFrame,
        frames: options.frames,
        size: options.size,
        mode: options.training ? 'random' : 'center',
        crop: options.training ? 'train' : 'center',
        reversed,
        rng: options.rng,
      });
    }),
  );
  samples.forEach((sample, i) => {
    const mirrored = options.training && options.flip && options.flipSafe.has(clips[i].classId) && options.rng() < 0.5;
    normalizeInto(mirrored ? flipHorizontal(sample.data, options.size) : sample.data, x, i * clipValues, IMAGENET_NORMALIZATION);
  });
  return { x, labels };
}

/**
 * Training-mode batches for precise BatchNorm: full batches of shuffled training clips (a partial last batch
 * would weigh its few clips as much as a full one), at most `preciseBnBatches` of them, decoded one ahead.
 */
export async function* statisticsBatches(
  frameCache: ClipFrameCache,
  dataset: ProjectDataset,
  clips: readonly LabelledClip[],
  classIndex: Map<number, number>,
  params: TrainParams,
  sampleOptions: BatchSampling,
  hooks: JobHooks,
): AsyncGenerator<Float32Array> {
  const groups = chunks(shuffled(clips, sampleOptions.rng), params.batch);
  const full = groups.filter((g) => g.length === params.batch);
  const order = (full.length ? full : groups).slice(0, params.preciseBnBatches);
  let next = order.length ? loadBatch(frameCache, dataset, order[0], classIndex, { ...sampleOptions, training: true }) : null;
  for (let b = 0; b < order.length && next; b++) {
    hooks.throwIfCancelled();
    const batch = await next;
    next = b + 1 < order.length ? loadBatch(frameCache, dataset, order[b + 1], classIndex, { ...sampleOptions, training: true }) : null;
    yield batch.x;
  }
}
