import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { channelMotion, temporalConv } from '../../../src-main/core/model/ops.ts';

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('CSTM temporal conv', () => {
  it('starts as a shift: first quarter sees x[t−1], last quarter x[t+1], middle half x[t]', () => {
    const frames = 5;
    const network = createStmNetwork({ layers: [1, 1, 1, 1], baseWidth: 16, frames, classes: 3, inputSize: 32 }, { seed: 3 });
    const kernel = network.variables().get('layer1.0.shift.weight')! as tf.Tensor4D;
    const channels = 16;
    // Two clips; value of frame t of clip n is 100·n + t + 1, the same in every channel and pixel.
    const x = tf.tidy(() => {
      const values = Array.from({ length: 2 * frames }, (_, i) => 100 * Math.floor(i / frames) + (i % frames) + 1);
      return tf.tile(tf.reshape(tf.tensor1d(values), [2 * frames, 1, 1, 1]), [1, 2, 2, channels]) as tf.Tensor4D;
    });
    const out = temporalConv(x, kernel, frames).arraySync();
    for (let n = 0; n < 2; n++) {
      for (let t = 0; t < frames; t++) {
        const at = (step: number) => (step < 0 || step >= frames ? 0 : 100 * n + step + 1);
        const pixel = out[n * frames + t][1][0];
        expect(pixel.slice(0, 4)).toEqual(Array(4).fill(at(t - 1)));
        expect(pixel.slice(4, 12)).toEqual(Array(8).fill(at(t)));
        expect(pixel.slice(12)).toEqual(Array(4).fill(at(t + 1)));
      }
    }
    x.dispose();
    network.dispose();
  });
});

function randomCmmWeights(channels: number, seed: number) {
  const reduced = channels / 16;
  return {
    stageConv: tf.randomNormal([1, 1, channels, reduced], 0, 0.5, 'float32', seed) as tf.Tensor4D,
    shift: tf.randomNormal([3, 3, reduced, 1], 0, 0.5, 'float32', seed + 1) as tf.Tensor4D,
    conv1x1: tf.randomNormal([1, 1, reduced, channels], 0, 0.5, 'float32', seed + 2) as tf.Tensor4D,
  };
}

describe('CMM', () => {
  it('is zero at the last step of every clip and not elsewhere', () => {
    const frames = 4;
    const weights = randomCmmWeights(32, 7);
    const x = tf.randomNormal([2 * frames, 8, 8, 32], 0, 1, 'float32', 11) as tf.Tensor4D;
    for (const stride of [1, 2] as const) {
      const out = channelMotion(x, weights, (r) => r, frames, stride);
      expect(out.shape).toEqual([2 * frames, 8 / stride, 8 / stride, 32]);
      const perFrame = tf.max(tf.abs(out), [1, 2, 3]).arraySync() as number[];
      for (let i = 0; i < perFrame.length; i++) {
        if (i % frames === frames - 1) expect(perFrame[i]).toBe(0);
        else expect(perFrame[i]).toBeGreaterThan(0);
      }
    }
  });

  it('subtracts F[t] from the convolved F[t+1] (identity kernel ⇒ F[t+1] − F[t])', () => {
    const frames = 3;
    const identity = tf.tensor4d([0, 0, 0, 0, 1, 0, 0, 0, 0], [3, 3, 1, 1]);
    const weights = { stageConv: tf.ones([1, 1, 16, 1]) as tf.Tensor4D, shift: identity, conv1x1: tf.ones([1, 1, 1, 16]) as tf.Tensor4D };
    // Frame t holds t² in channel 0 and 0 elsewhere, so the reduced map is t² too.
    const x = tf.tidy(() => tf.pad(tf.reshape(tf.tensor1d([0, 1, 4]), [3, 1, 1, 1]), [[0, 0], [0, 0], [0, 0], [0, 15]]) as tf.Tensor4D);
    const out = channelMotion(x, weights, (r) => r, frames, 1).arraySync();
    expect(out.map((frame) => frame[0][0][5])).toEqual([1, 3, 0]);
  });
});

/**
 * Central finite differences at some entries of `at` against the analytic gradient, compared as vectors:
 * ‖numeric − analytic‖ / ‖analytic‖. `output` maps a perturbed `at` to the module's output; the loss is its
 * dot product with `target`, summed in float64 so that float32 rounding of the sum does not swamp the
 * differences. Shapes are tiny to keep float32 noise far below the tolerance.
 */
function relativeGradientError(
  output: (value: tf.Tensor) => tf.Tensor,
  target: tf.Tensor,
  at: tf.Tensor,
  analytic: tf.Tensor,
  delta: number,
  maxEntries = 64,
): number {
  const base = at.dataSync() as Float32Array;
  const grad = analytic.dataSync();
  const weights = target.dataSync();
  const loss = (values: Float32Array) => {
    const out = tf.tidy(() => output(tf.tensor(values, at.shape))).dataSync();
    let sum = 0;
    for (let k = 0; k < out.length; k++) sum += out[k] * weights[k];
    return sum;
  };
  const count = Math.min(base.length, maxEntries);
  let diff = 0;
  let norm = 0;
  for (let j = 0; j < count; j++) {
    const i = Math.floor(((j + 0.5) * base.length) / count);
    const shifted = (offset: number) => {
      const values = base.slice();
      values[i] += offset;
      return loss(values);
    };
    const numeric = (shifted(delta) - shifted(-delta)) / (2 * delta);
    diff += (numeric - grad[i]) ** 2;
    norm += grad[i] ** 2;
  }
  expect(norm).toBeGreaterThan(0);
  return Math.sqrt(diff / norm);
}

describe('finite-difference gradient check (tiny modules)', () => {
  const frames = 3;
  const x = tf.randomNormal([2 * frames, 4, 4, 32], 0, 1, 'float32', 21) as tf.Tensor4D;

  it('CSTM: temporal kernel, input and the 3×3 conv after it', () => {
    const kernel = tf.randomNormal([3, 1, 32, 1], 0, 0.5, 'float32', 22) as tf.Tensor4D;
    const conv2 = tf.randomNormal([3, 3, 32, 8], 0, 0.2, 'float32', 23) as tf.Tensor4D;
    const target = tf.randomNormal([2 * frames, 4, 4, 8], 0, 1, 'float32', 24);
    const cstm = (input: tf.Tensor4D, k: tf.Tensor4D, w: tf.Tensor4D) => tf.conv2d(temporalConv(input, k, frames), w, 1, 'same');
    const loss = (...[input, k, w]: tf.Tensor[]) => tf.sum(tf.mul(cstm(input as tf.Tensor4D, k as tf.Tensor4D, w as tf.Tensor4D), target));
    const [dx, dk, dw] = tf.grads(loss)([x, kernel, conv2]);
    expect(relativeGradientError((k) => cstm(x, k as tf.Tensor4D, conv2), target, kernel, dk, 1e-2)).toBeLessThan(1e-2);
    expect(relativeGradientError((input) => cstm(input as tf.Tensor4D, kernel, conv2), target, x, dx, 1e-2)).toBeLessThan(1e-2);
    expect(relativeGradientError((w) => cstm(x, kernel, w as tf.Tensor4D), target, conv2, dw, 1e-2)).toBeLessThan(1e-2);
  });

  // Stride 1 runs through the stage BatchNorm with batch statistics (training mode); stride 2 through the
  // 2×2 max-pool, whose switches need a smaller step.
  const cases = [
    { stride: 1 as const, withBatchNorm: true, delta: 1e-2 },
    { stride: 2 as const, withBatchNorm: false, delta: 1e-3 },
  ];
  for (const { stride, withBatchNorm, delta } of cases) {
    it(`CMM (stride ${stride}${withBatchNorm ? ', batch-statistics BatchNorm' : ''}): reduction, motion kernel, expansion and input`, () => {
      const w = randomCmmWeights(32, 31);
      const target = tf.randomNormal([2 * frames, 4 / stride, 4 / stride, 32], 0, 1, 'float32', 32);
      const [gamma, beta] = [tf.fill([2], 1.5) as tf.Tensor1D, tf.fill([2], 0.1) as tf.Tensor1D];
      const norm = (r: tf.Tensor4D) => {
        if (!withBatchNorm) return r;
        const { mean, variance } = tf.moments(r, [0, 1, 2]);
        return tf.batchNorm4d(r, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, 1e-5);
      };
      const cmm = (input: tf.Tensor4D, stageConv: tf.Tensor4D, shift: tf.Tensor4D, conv1x1: tf.Tensor4D) =>
        channelMotion(input, { stageConv, shift, conv1x1 }, norm, frames, stride);
      const loss = (...[input, stageConv, shift, conv1x1]: tf.Tensor[]) =>
        tf.sum(tf.mul(cmm(input as tf.Tensor4D, stageConv as tf.Tensor4D, shift as tf.Tensor4D, conv1x1 as tf.Tensor4D), target));
      const [dx, dStage, dShift, dExpand] = tf.grads(loss)([x, w.stageConv, w.shift, w.conv1x1]);
      expect(relativeGradientError((v) => cmm(x, v as tf.Tensor4D, w.shift, w.conv1x1), target, w.stageConv, dStage, delta)).toBeLessThan(1e-2);
      expect(relativeGradientError((v) => cmm(x, w.stageConv, v as tf.Tensor4D, w.conv1x1), target, w.shift, dShift, delta)).toBeLessThan(1e-2);
      expect(relativeGradientError((v) => cmm(x, w.stageConv, w.shift, v as tf.Tensor4D), target, w.conv1x1, dExpand, delta)).toBeLessThan(1e-2);
      expect(relativeGradientError((v) => cmm(v as tf.Tensor4D, w.stageConv, w.shift, w.conv1x1), target, x, dx, delta)).toBeLessThan(1e-2);
    });
  }
});
