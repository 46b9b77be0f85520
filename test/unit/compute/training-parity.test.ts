import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { seeded } from './grad-cases.ts';

const CONFIG = { variant: 'stm' as const, layers: [1, 1, 1, 1] as const, baseWidth: 16, frames: 4, classes: 5, inputSize: 32 };
const CLIPS = 1;
const STEPS = 3;

/** Loss after each of a few SGD-with-momentum steps of the tiny STM on fixed data, on one backend. */
async function lossCurve(backend: 'cpu' | 'wasm'): Promise<number[]> {
  await selectBackend(backend);
  const net = createStmNetwork(CONFIG, { seed: 5 });
  const size = CONFIG.inputSize;
  const x = tf.tensor4d(seeded(CLIPS * CONFIG.frames * size * size * 3, 21), [CLIPS * CONFIG.frames, size, size, 3]);
  const labels = tf.oneHot(tf.tensor1d([3], 'int32'), CONFIG.classes);
  const optimizer = tf.train.momentum(0.05, 0.9);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x, { training: true }).clipLogits) as tf.Scalar, true, net.trainableVariables())!;
    losses.push(loss.dataSync()[0]!);
    loss.dispose();
  }
  optimizer.dispose();
  tf.dispose([x, labels]);
  net.dispose();
  return losses;
}

describe('training on wasm', () => {
  it('follows the cpu backend’s loss curve within 1e-3 on the tiny STM', async () => {
    const cpu = await lossCurve('cpu');
    const wasm = await lossCurve('wasm');
    expect(cpu[STEPS - 1]).not.toBe(cpu[0]);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(wasm[i]! - cpu[i]!)).toBeLessThan(1e-3);
  }, 120_000);
});
