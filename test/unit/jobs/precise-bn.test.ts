import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createStmNetwork, type StmNetwork } from '../../../src-main/core/model/network.ts';
import { seededRng, type Rng } from '../../../src-main/core/media/sampling.ts';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { recomputeBatchNormStatistics } from '../../../src-main/core/jobs/train-bn.ts';

const FRAMES = 4;
const SIZE = 32;
const CLASSES = 3;
const BATCH = 8;

/** Clips whose class is the dominant colour channel, on a noisy grey, normalised around zero. */
function syntheticBatch(rng: Rng): { x: Float32Array; labels: number[] } {
  const labels = Array.from({ length: BATCH }, () => Math.floor(rng() * CLASSES));
  const values = FRAMES * SIZE * SIZE * 3;
  const x = new Float32Array(BATCH * values);
  labels.forEach((label, clip) => {
    for (let p = 0; p < FRAMES * SIZE * SIZE; p++) {
      for (let c = 0; c < 3; c++) x[clip * values + p * 3 + c] = (c === label ? 0.6 : 0) + (rng() - 0.5) * 1.5;
    }
  });
  return { x, labels };
}

function clipLogits(network: StmNetwork, batches: { x: Float32Array }[], training: boolean): number[][] {
  return batches.flatMap((batch) =>
    tf.tidy(() => {
      const input = tf.tensor4d(batch.x, [BATCH * FRAMES, SIZE, SIZE, 3]);
      return network.forward(input, { training, updateStats: false, recompute: false }).clipLogits.arraySync();
    }),
  );
}

function accuracy(logits: number[][], labels: number[]): number {
  return logits.filter((row, i) => row.indexOf(Math.max(...row)) === labels[i]).length / labels.length;
}

function meanAbsDifference(a: number[][], b: number[][]): number {
  const diffs = a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j])));
  return diffs.reduce((s, d) => s + d, 0) / diffs.length;
}

describe('precise BatchNorm', () => {
  it('makes a briefly trained model score with running statistics as it does with batch statistics', async () => {
    await selectBackend('auto');
    const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: FRAMES, classes: CLASSES, inputSize: SIZE, dropout: 0 }, { seed: 3 });
    const optimizer = tf.train.adam(0.003);
    const rng = seededRng(7);
    const trainable = network.trainableVariables();
    for (let step = 0; step < 10; step++) {
      const batch = syntheticBatch(rng);
      tf.tidy(() => {
        const input = tf.tensor4d(batch.x, [BATCH * FRAMES, SIZE, SIZE, 3]);
        const target = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), CLASSES);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(target, network.forward(input, { training: true }).clipLogits) as tf.Scalar, false, trainable);
      });
    }
    const held = Array.from({ length: 6 }, () => syntheticBatch(rng));
    const labels = held.flatMap((b) => b.labels);
    const batchLogits = clipLogits(network, held, true);
    const staleLogits = clipLogits(network, held, false);

    async function* statisticsBatches(): AsyncGenerator<Float32Array> {
      for (let b = 0; b < 10; b++) yield syntheticBatch(rng).x;
    }
    expect(await recomputeBatchNormStatistics(network, statisticsBatches())).toBe(10);
    const preciseLogits = clipLogits(network, held, false);

    const withBatchStatistics = accuracy(batchLogits, labels);
    const staleGap = Math.abs(accuracy(staleLogits, labels) - withBatchStatistics);
    const preciseGap = Math.abs(accuracy(preciseLogits, labels) - withBatchStatistics);
    expect(withBatchStatistics).toBeGreaterThan(0.8);
    expect(preciseGap).toBeLessThanOrEqual(Math.min(staleGap, 0.05));

    // Recomputed over one batch alone, the running statistics are that batch's: it scores as in training mode.
    async function* only(x: Float32Array): AsyncGenerator<Float32Array> {
      yield x;
    }
    await recomputeBatchNormStatistics(network, only(held[0].x));
    const ownStatistics = clipLogits(network, [held[0]], false);
    const inTraining = clipLogits(network, [held[0]], true);
    expect(meanAbsDifference(ownStatistics, inTraining)).toBeLessThan(meanAbsDifference(staleLogits.slice(0, BATCH), inTraining) / 10);
    network.dispose();
    optimizer.dispose();
  });
});
