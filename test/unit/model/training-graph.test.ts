import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { stageInputShape } from '../../../src-main/core/model/parameters.ts';
import { OnnxTrainingStep } from '../../../src-main/core/jobs/train-onnx.ts';
import type { StmVariant } from '../../../src-main/core/model/config.ts';
import { relativeError } from '../../helpers/relative-error.ts';

const CLIPS = 2;
const T = 4;
const CLASSES = 5;
const LABELS = [1, 3];
/** Uneven class weights over the batch's total, as a run with class weighting feeds them. */
const WEIGHTS = [0.7, 1.9];

function randomInput(length: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1);
}

/** The tfjs network's loss and gradients for the same weighted cross-entropy, in training mode. */
function tfjsReference(network: ReturnType<typeof createStmNetwork>, x: tf.Tensor4D, fromStage: number, names: string[]) {
  const vars = names.map((n) => network.variables().get(n)!);
  const weightSum = WEIGHTS.reduce((a, b) => a + b, 0);
  const { value, grads } = tf.variableGrads(() => {
    const { clipLogits } = network.forward(x, { training: true, updateStats: false, recompute: false, fromStage, frozenStages: fromStage });
    const oneHot = tf.oneHot(tf.tensor1d(LABELS, 'int32'), CLASSES);
    const perClip = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(clipLogits)), 1));
    return tf.div(tf.sum(tf.mul(perClip, tf.tensor1d(WEIGHTS))), weightSum) as tf.Scalar;
  }, vars);
  return { loss: value.dataSync()[0], grads: new Map(names.map((n, i) => [n, grads[vars[i].name].dataSync() as Float32Array])) };
}

describe('training step on ONNX Runtime', () => {
  // Frames of 64² leave stage 4 at 2×2, so every 3×3 tap meets real values; stage 2's second block has the
  // identity shortcut. The reference is tfjs's plain cpu backend.
  const cases: Array<[StmVariant, number, number]> = [['stm', 0, 64], ['stm', 2, 64], ['cstm', 1, 32], ['tsn', 0, 32]];
  it.each(cases)('%s from stage %i at %i²: the loss, every gradient, the BatchNorm statistics and the inference logits of the tfjs network', async (variant, fromStage, size) => {
    await selectBackend('cpu');
    const config = { variant, layers: [1, 2, 1, 1] as [number, number, number, number], baseWidth: 16, frames: T, inputSize: size, classes: CLASSES, dropout: 0 };
    const network = createStmNetwork(config, { seed: 11 });
    const step = new OnnxTrainingStep(network.config, fromStage, false, 2);
    try {
      const [h, w, c] = stageInputShape(network.config, fromStage);
      const x = randomInput(CLIPS * T * h * w * c, 5 + fromStage);
      const weightSum = WEIGHTS.reduce((a, b) => a + b, 0);
      const target = new Float32Array(CLIPS * CLASSES);
      LABELS.forEach((label, i) => (target[i * CLASSES + label] = WEIGHTS[i] / weightSum));
      const variables = network.variables();
      const result = await step.run({ x, clips: CLIPS, target, weight: (name) => variables.get(name)!.dataSync() as Float32Array });

      const names = [...result.grads.keys()];
      expect(names).toContain('fc.weight');
      expect(names.some((n) => n.startsWith(`layer${fromStage}.`) || n === 'conv1.weight')).toBe(fromStage === 0);
      const reference = tfjsReference(network, tf.tensor4d(x, [CLIPS * T, h, w, c]), fromStage, names);
      expect(Math.abs(result.loss - reference.loss)).toBeLessThan(1e-5);
      for (const name of names) expect(relativeError(result.grads.get(name)!.data, reference.grads.get(name)!), name).toBeLessThan(1e-4);

      // The forward pass alone gives the same batch statistics; in inference mode, the tfjs network's logits.
      const weight = (name: string) => variables.get(name)!.dataSync() as Float32Array;
      const statistics = await step.statistics(x, CLIPS, weight);
      for (const [bn, { mean, variance }] of result.statistics) {
        expect(relativeError(statistics.get(bn)!.mean, mean), bn).toBeLessThan(1e-5);
        expect(relativeError(statistics.get(bn)!.variance, variance), bn).toBeLessThan(1e-5);
      }
      const logits = await step.predict(x, CLIPS, weight);
      const expected = tf.tidy(() => network.forward(tf.tensor4d(x, [CLIPS * T, h, w, c]), { fromStage }).clipLogits.dataSync() as Float32Array);
      expect(relativeError(logits, expected)).toBeLessThan(1e-4);

      // The batch statistics move the running ones exactly as the tfjs forward pass moves them.
      const bn = fromStage === 0 ? 'bn1' : `layer${fromStage + 1}.0.bn2`;
      const before = variables.get(`${bn}.running_mean`)!.dataSync() as Float32Array;
      tf.tidy(() => {
        network.forward(tf.tensor4d(x, [CLIPS * T, h, w, c]), { training: true, recompute: false, fromStage, frozenStages: fromStage });
      });
      const after = variables.get(`${bn}.running_mean`)!.dataSync() as Float32Array;
      const batchMean = Float32Array.from(after, (v, i) => (v - 0.9 * before[i]) / 0.1);
      expect(relativeError(result.statistics.get(bn)!.mean, batchMean)).toBeLessThan(1e-4);
    } finally {
      await step.dispose();
      network.dispose();
    }
  });

  it('applies the dropout multipliers it is given: all ones is no dropout', async () => {
    await selectBackend('cpu');
    const config = { variant: 'stm' as const, layers: [1, 1, 1, 1] as [number, number, number, number], baseWidth: 16, frames: T, inputSize: 32, classes: CLASSES, dropout: 0.5 };
    const network = createStmNetwork(config, { seed: 2 });
    const withDropout = new OnnxTrainingStep(network.config, 0, true, 1);
    const without = new OnnxTrainingStep(network.config, 0, false, 1);
    try {
      const x = randomInput(CLIPS * T * 32 * 32 * 3, 9);
      const target = new Float32Array(CLIPS * CLASSES);
      LABELS.forEach((label, i) => (target[i * CLASSES + label] = 0.5));
      const weight = (name: string) => network.variables().get(name)!.dataSync() as Float32Array;
      const features = network.variables().get('fc.weight')!.shape[0];
      const ones = await withDropout.run({ x, clips: CLIPS, target, weight, keep: new Float32Array(CLIPS * T * features).fill(1) });
      const plain = await without.run({ x, clips: CLIPS, target, weight });
      expect(Math.abs(ones.loss - plain.loss)).toBeLessThan(1e-6);
      const dropped = await withDropout.run({ x, clips: CLIPS, target, weight, keep: Float32Array.from({ length: CLIPS * T * features }, (_, i) => (i % 2 ? 2 : 0)) });
      expect(Math.abs(dropped.loss - plain.loss)).toBeGreaterThan(1e-6);
      expect(relativeError(dropped.grads.get('conv1.weight')!.data, plain.grads.get('conv1.weight')!.data)).toBeGreaterThan(1e-3);
    } finally {
      await Promise.all([withDropout.dispose(), without.dispose()]);
      network.dispose();
    }
  });
});
