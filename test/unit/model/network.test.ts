import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { torchConv2d } from '../../../src-main/core/model/ops.ts';
import { UserError } from '../../../src-main/core/errors.ts';

beforeAll(async () => {
  await selectBackend('cpu');
});

const tiny = { layers: [1, 1, 1, 1] as const, baseWidth: 16, classes: 4 };

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Clips reversed in time: frame t of each clip becomes frame T−1−t. */
function reverseFrames(x: tf.Tensor4D, frames: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [nt, h, w, c] = x.shape;
    return tf.reshape(tf.reverse(tf.reshape(x, [nt / frames, frames, h, w, c]), 1), [nt, h, w, c]) as tf.Tensor4D;
  });
}

describe('STM network shapes', () => {
  const cases = [
    { frames: 2, height: 32, width: 32 },
    { frames: 3, height: 64, width: 64 },
    { frames: 5, height: 96, width: 64 },
  ];
  for (const { frames, height, width } of cases) {
    it(`runs T = ${frames} at ${height}×${width}: per-frame logits and their mean per clip`, () => {
      const network = createStmNetwork({ ...tiny, frames }, { seed: 1 });
      const x = tf.randomNormal([2 * frames, height, width, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      const { frameLogits, clipLogits } = network.forward(x);
      expect(frameLogits.shape).toEqual([2 * frames, 4]);
      expect(clipLogits.shape).toEqual([2, 4]);
      expect(frameLogits.dataSync().every(Number.isFinite)).toBe(true);
      const mean = tf.mean(tf.reshape(frameLogits, [2, frames, 4]), 1);
      expect(maxAbsDiff(mean, clipLogits)).toBeLessThan(1e-5);
      tf.dispose([x, frameLogits, clipLogits, mean]);
      network.dispose();
    });
  }

  it('rejects frames that are not multiples of 32 and batches that are not whole clips', () => {
    const network = createStmNetwork({ ...tiny, frames: 4 });
    const odd = tf.zeros([4, 48, 48, 3]) as tf.Tensor4D;
    expect(() => network.forward(odd)).toThrow(UserError);
    expect(() => network.forward(odd)).toThrow(/48×48.*multiples of 32/);
    const partial = tf.zeros([6, 32, 32, 3]) as tf.Tensor4D;
    expect(() => network.forward(partial)).toThrow(/6 frames, not a multiple of T = 4/);
    network.dispose();
  });

  it('rejects T < 2 and sizes that are not multiples of 32 in the config', () => {
    expect(() => createStmNetwork({ ...tiny, frames: 1 })).toThrow(/frames must be an integer ≥ 2/);
    expect(() => createStmNetwork({ ...tiny, inputSize: 100 })).toThrow(/multiple of 32/);
  });
});

describe('temporal modelling', () => {
  it('TSN cannot tell a clip from its reversal; STM, CSTM and CMM can', () => {
    const frames = 4;
    const x = tf.randomNormal([2 * frames, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const reversed = reverseFrames(x, frames);
    for (const variant of ['tsn', 'stm', 'cstm', 'cmm'] as const) {
      const network = createStmNetwork({ ...tiny, frames, variant }, { seed: 4 });
      const forward = network.forward(x).clipLogits;
      const backward = network.forward(reversed).clipLogits;
      if (variant === 'tsn') expect(maxAbsDiff(forward, backward), variant).toBeLessThan(1e-4);
      else expect(maxAbsDiff(forward, backward), variant).toBeGreaterThan(1e-4);
      network.dispose();
    }
  });
});

describe('BatchNorm modes', () => {
  it('training mode normalises with batch statistics and updates running stats with momentum 0.1 (unbiased variance)', () => {
    const frames = 2;
    const network = createStmNetwork({ ...tiny, frames }, { seed: 6 });
    const x = tf.randomNormal([2 * frames, 32, 32, 3], 0.5, 2, 'float32', 7) as tf.Tensor4D;
    const stem = torchConv2d(x, network.variables().get('conv1.weight') as tf.Tensor4D, 2, 3);
    const { mean, variance } = tf.moments(stem, [0, 1, 2]);
    const n = stem.shape[0] * stem.shape[1] * stem.shape[2];
    const inferenceBefore = network.forward(x).frameLogits;

    network.forward(x, { training: true });

    const runningMean = network.variables().get('bn1.running_mean')!;
    const runningVar = network.variables().get('bn1.running_var')!;
    expect(maxAbsDiff(runningMean, tf.mul(mean, 0.1))).toBeLessThan(1e-5);
    expect(maxAbsDiff(runningVar, tf.add(0.9, tf.mul(variance, 0.1 * (n / (n - 1)))))).toBeLessThan(1e-4);
    // Inference now uses the moved running statistics.
    expect(maxAbsDiff(network.forward(x).frameLogits, inferenceBefore)).toBeGreaterThan(1e-4);
    // updateStats: false leaves them where they are.
    const snapshot = runningMean.clone();
    network.forward(x, { training: true, updateStats: false });
    expect(maxAbsDiff(runningMean, snapshot)).toBe(0);
    network.dispose();
  });

  it('dropout acts only in training mode', () => {
    const network = createStmNetwork({ ...tiny, frames: 2, dropout: 0.5 }, { seed: 8 });
    const x = tf.randomNormal([4, 32, 32, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    expect(maxAbsDiff(network.forward(x).frameLogits, network.forward(x).frameLogits)).toBe(0);
    const a = network.forward(x, { training: true, updateStats: false }).frameLogits;
    const b = network.forward(x, { training: true, updateStats: false }).frameLogits;
    expect(maxAbsDiff(a, b)).toBeGreaterThan(0);
    network.dispose();
  });
});

describe('training with tfjs optimizers (wasm, with the compute gradient kernels)', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('forward works inside optimizer.minimize: the loss falls and no tensor leaks', () => {
    const frames = 2;
    const network = createStmNetwork({ ...tiny, frames }, { seed: 10 });
    const x = tf.randomNormal([2 * frames, 32, 32, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([1, 3], 'int32'), 4);
    const optimizer = tf.train.momentum(0.05, 0.9);
    const step = () =>
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, network.forward(x, { training: true }).clipLogits) as tf.Scalar,
        true,
        network.trainableVariables(),
      )!;
    const first = step();
    const firstLoss = first.dataSync()[0];
    first.dispose();
    step().dispose();
    const tensorsBefore = tf.memory().numTensors;
    let last = 0;
    for (let i = 0; i < 6; i++) {
      const loss = step();
      last = loss.dataSync()[0];
      loss.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    expect(last).toBeLessThan(firstLoss);
    // Every trainable variable received a gradient, the temporal kernels and CMM included.
    const { grads } = tf.variableGrads(
      () => tf.losses.softmaxCrossEntropy(labels, network.forward(x, { training: true, updateStats: false }).clipLogits) as tf.Scalar,
      network.trainableVariables(),
    );
    expect(Object.keys(grads)).toHaveLength(network.trainableVariables().length);
    const shift = network.variables().get('layer2.0.shift.weight')!;
    expect(tf.max(tf.abs(grads[shift.name])).dataSync()[0]).toBeGreaterThan(0);
    network.dispose();
  });
});
