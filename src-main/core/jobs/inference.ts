/** Batched inference shared by predict and probe: uint8 clips in, class probabilities out. */
import * as tf from '@tensorflow/tfjs';
import type { StmNetwork } from '../model/network.ts';
import type { Normalization } from '../model/checkpoint.ts';
import { normalizeInto } from './dataset.ts';
import { softmax } from './metrics.ts';

/** Probabilities (softmax of the clip consensus) for clips given as uint8 [T,S,S,3] each. */
export function classify(network: StmNetwork, clips: readonly Uint8Array[], normalization: Normalization): Float32Array[] {
  const { frames, inputSize: size } = network.config;
  const clipValues = frames * size * size * 3;
  const x = new Float32Array(clips.length * clipValues);
  clips.forEach((clip, i) => normalizeInto(clip, x, i * clipValues, normalization));
  const logits = tf.tidy(() =>
    network.forward(tf.tensor4d(x, [clips.length * frames, size, size, 3]), { training: false }).clipLogits.arraySync(),
  );
  return logits.map((row) => softmax(row));
}
