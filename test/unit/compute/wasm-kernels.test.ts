import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { convGrads, maxDiff, seeded, type ConvCase } from './grad-cases.ts';

const PADS: ConvCase['pad'][] = ['same', 'valid', [[0, 0], [1, 2], [0, 1], [0, 0]]];
const KERNELS: Array<[number, number]> = [[3, 3], [1, 1], [2, 3], [7, 7], [3, 1]];
const INPUTS: Array<[number, number, number, number]> = [[2, 7, 9, 3], [1, 8, 8, 5]];

function cases(depthwise: boolean): ConvCase[] {
  const out: ConvCase[] = [];
  for (const stride of [1, 2]) {
    for (const pad of PADS) {
      for (const kernel of KERNELS) {
        for (const x of INPUTS) {
          if (pad === 'valid' && (kernel[0] > x[1] || kernel[1] > x[2])) continue;
          const name = `x ${x.join('×')} k ${kernel.join('×')} stride ${stride} pad ${JSON.stringify(pad)}`;
          out.push({ name, x, kernel, outChannels: 4, stride, pad, depthwise, multiplier: depthwise && x[3] === 3 ? 2 : 1 });
        }
      }
    }
  }
  return out;
}

async function onBackend<T>(name: 'cpu' | 'wasm', fn: () => T): Promise<T> {
  await selectBackend(name);
  return fn();
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe.each([
  ['conv2d', false],
  ['depthwise conv2d', true],
])('wasm %s gradients match the cpu backend', (_label, depthwise) => {
  it.each(cases(depthwise).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const reference = await onBackend('cpu', () => convGrads(c));
    const wasm = await onBackend('wasm', () => convGrads(c));
    expect(wasm.dx.length).toBe(reference.dx.length);
    expect(wasm.dw.length).toBe(reference.dw.length);
    expect(maxDiff(wasm.dx, reference.dx)).toBeLessThan(1e-4 * reference.maxAbs);
    expect(maxDiff(wasm.dw, reference.dw)).toBeLessThan(1e-4 * reference.maxAbs);
  });
});

describe('wasm training kernels', () => {
  it('train a small conv net with stable tensor and buffer counts over many steps', async () => {
    await selectBackend('wasm');
    const conv1 = tf.variable(tf.tensor4d(seeded(3 * 3 * 3 * 8, 1), [3, 3, 3, 8]).mul(0.3) as tf.Tensor4D);
    const depthwise = tf.variable(tf.tensor4d(seeded(3 * 3 * 8, 2), [3, 3, 8, 1]).mul(0.3) as tf.Tensor4D);
    const conv2 = tf.variable(tf.tensor4d(seeded(3 * 3 * 8 * 4, 3), [3, 3, 8, 4]).mul(0.3) as tf.Tensor4D);
    const x = tf.tensor4d(seeded(4 * 12 * 12 * 3, 4), [4, 12, 12, 3]);
    const target = tf.tensor2d(seeded(4 * 4, 5), [4, 4]);
    const optimizer = tf.train.sgd(0.05);
    const loss = () =>
      tf.tidy(() => {
        const h = tf.relu(tf.conv2d(x, conv1, 1, 'same'));
        const d = tf.depthwiseConv2d(h, depthwise, 2, 'same');
        const y = tf.conv2d(d, conv2, 2, 'valid').mean([1, 2]);
        return tf.losses.meanSquaredError(target, y) as tf.Scalar;
      });
    const losses: number[] = [];
    let baseline: { numTensors: number; numBytes: number } | null = null;
    for (let step = 0; step < 30; step++) {
      const value = optimizer.minimize(loss, true)!;
      losses.push(value.dataSync()[0]!);
      value.dispose();
      if (step === 1) baseline = { numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes };
    }
    expect(tf.memory().numTensors).toBe(baseline!.numTensors);
    expect(tf.memory().numBytes).toBe(baseline!.numBytes);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.9);
    tf.dispose([conv1, depthwise, conv2, x, target]);
    optimizer.dispose();
  });
});
