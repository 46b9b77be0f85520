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

interface PoolCase {
  name: string;
  x: [number, number, number, number];
  size: number;
  stride: number;
  pad: 'same' | 'valid' | number;
  /** Round inputs to one decimal so windows hold ties; shift them so many windows are all negative. */
  ties?: boolean;
  shift: number;
}

const POOLS: PoolCase[] = [
  { name: '2×2/2 valid, negative windows (CMM)', x: [2, 6, 6, 4], size: 2, stride: 2, pad: 'valid', shift: -0.7 },
  { name: '2×2/2 valid, odd size', x: [1, 7, 5, 3], size: 2, stride: 2, pad: 'valid', shift: -0.3 },
  { name: '3×3/2 pad 1 (stem), ties at zero', x: [2, 9, 8, 3], size: 3, stride: 2, pad: 1, ties: true, shift: -0.5 },
  { name: '3×3/1 same, ties', x: [1, 5, 6, 2], size: 3, stride: 1, pad: 'same', ties: true, shift: 0 },
  { name: '3×3/2 valid, all positive', x: [1, 9, 9, 2], size: 3, stride: 2, pad: 'valid', shift: 2 },
];

function poolGrad(c: PoolCase): Float32Array {
  return tf.tidy(() => {
    let values = seeded(c.x.reduce((a, b) => a * b), 17).map((v) => v + c.shift);
    if (c.ties) values = values.map((v) => Math.max(0, Math.round(v * 10) / 10));
    const x = tf.tensor4d(values, c.x);
    const pool = (xi: tf.Tensor4D) => tf.maxPool(xi, c.size, c.stride, c.pad);
    const dy = tf.tensor(seeded(pool(x).size, 19), pool(x).shape);
    return Float32Array.from(tf.grad((xi) => pool(xi as tf.Tensor4D))(x, dy).dataSync());
  });
}

describe('wasm max-pool gradient', () => {
  it.each(POOLS.map((c) => [c.name, c] as const))('%s routes every gradient where the cpu backend does', async (_name, c) => {
    const reference = await onBackend('cpu', () => poolGrad(c));
    const wasm = await onBackend('wasm', () => poolGrad(c));
    // Overlapping windows add in a different order; a misrouted gradient would be off by O(1).
    expect(wasm.length).toBe(reference.length);
    expect(maxDiff(wasm, reference)).toBeLessThan(1e-5);
  });
});

describe('wasm tile', () => {
  const TILES: Array<[string, number[], number[], 'float32' | 'int32']> = [
    ['leading broadcast (BatchNorm gradient)', [1, 1, 1, 5], [2, 3, 4, 1], 'float32'],
    ['inner broadcast', [2, 1, 1, 3], [1, 4, 5, 1], 'float32'],
    ['general repeat', [2, 3], [3, 2], 'float32'],
    ['integers', [1, 3], [4, 1], 'int32'],
  ];
  it.each(TILES)('%s matches the cpu backend', async (_name, shape, reps, dtype) => {
    const values = Array.from(seeded(shape.reduce((a, b) => a * b), 23), (v) => (dtype === 'int32' ? Math.round(v * 100) : v));
    const tile = () => {
      const t = tf.tile(tf.tensor(values, shape, dtype), reps);
      return { shape: t.shape, data: Array.from(t.dataSync()) };
    };
    const reference = await onBackend('cpu', tile);
    expect(await onBackend('wasm', tile)).toEqual(reference);
  });
});

describe('wasm sum and mean', () => {
  const REDUCTIONS: Array<[string, number[], number | number[], boolean]> = [
    ['every axis but the last (BatchNorm statistics)', [3, 5, 4, 6], [0, 1, 2], false],
    ['the same, kept dims, axes unordered and negative', [2, 3, 7], [1, -3], true],
    ['the last axis only', [3, 5, 4, 6], -1, false],
    ['middle axes', [3, 5, 4, 6], [1, 2], false],
  ];
  it.each(REDUCTIONS)('%s matches the cpu backend', async (_name, shape, axis, keepDims) => {
    const values = seeded(shape.reduce((a, b) => a * b), 29);
    const reduce = () =>
      tf.tidy(() => {
        const x = tf.tensor(values, shape);
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims)].map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
      });
    const reference = await onBackend('cpu', reduce);
    const wasm = await onBackend('wasm', reduce);
    wasm.forEach((result, i) => {
      expect(result.shape).toEqual(reference[i]!.shape);
      expect(maxDiff(result.data, reference[i]!.data)).toBeLessThan(1e-5);
    });
  });
});
