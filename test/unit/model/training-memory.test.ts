import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { batchNormTraining } from '../../../src-main/core/model/batch-norm.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';

beforeAll(async () => {
  await selectBackend('cpu');
});

const EPSILON = 1e-5;

/** max |a − b| relative to max |b|. */
function relativeDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / Math.max(tf.max(tf.abs(b)).dataSync()[0]!, 1e-12));
}

/** BatchNorm with batch statistics composed from tfjs ops: the reference whose gradient tf.grads derives. */
function composedBatchNorm(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, relu: boolean): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm4d(x, mean as tf.Tensor1D, variance as tf.Tensor1D, beta, gamma, EPSILON);
  return relu ? tf.relu(y) : y;
}

describe('hand-written BatchNorm gradient', () => {
  const shapes: Array<[number, number, number, number]> = [
    [2, 3, 4, 5],
    [6, 1, 1, 3],
    [1, 7, 5, 8],
    [4, 4, 4, 16],
  ];
  for (const shape of shapes) {
    for (const relu of [false, true]) {
      it(`matches tf.grads of the composed BatchNorm${relu ? ' + ReLU' : ''} for x of shape [${shape.join(',')}]`, () => {
        tf.tidy(() => {
          const channels = shape[3];
          const x = tf.randomNormal(shape, 0.7, 2, 'float32', 11) as tf.Tensor4D;
          const gamma = tf.randomNormal([channels], 1, 0.5, 'float32', 12) as tf.Tensor1D;
          const beta = tf.randomNormal([channels], 0, 0.5, 'float32', 13) as tf.Tensor1D;
          const target = tf.randomNormal(shape, 0, 1, 'float32', 14);
          const loss = (norm: typeof composedBatchNorm) => (...[xi, g, b]: tf.Tensor[]) =>
            tf.sum(tf.mul(norm(xi as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D, relu), target));
          const handWritten = (xi: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D, r: boolean) => batchNormTraining(xi, g, b, { epsilon: EPSILON, relu: r });

          expect(relativeDiff(handWritten(x, gamma, beta, relu), composedBatchNorm(x, gamma, beta, relu))).toBeLessThan(1e-5);
          const expected = tf.grads(loss(composedBatchNorm))([x, gamma, beta]);
          const actual = tf.grads(loss(handWritten))([x, gamma, beta]);
          ['x', 'gamma', 'beta'].forEach((name, i) => {
            expect(actual[i]!.shape, name).toEqual(expected[i]!.shape);
            expect(relativeDiff(actual[i]!, expected[i]!), name).toBeLessThan(1e-4);
          });
        });
      });
    }
  }

  it('hands the batch mean and biased variance to onStatistics', () => {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 2, 2, 4], 1, 3, 'float32', 15) as tf.Tensor4D;
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      const seen: number[][] = [];
      batchNormTraining(x, tf.ones([4]), tf.zeros([4]), { epsilon: EPSILON, onStatistics: (m, v) => seen.push([...m.dataSync()], [...v.dataSync()]) });
      expect(seen).toHaveLength(2);
      expect(relativeDiff(tf.tensor(seen[0]!), mean)).toBeLessThan(1e-6);
      expect(relativeDiff(tf.tensor(seen[1]!), variance)).toBeLessThan(1e-6);
    });
  });
});

describe('gradient checkpointing (recompute in the backward pass)', () => {
  const config = { layers: [2, 1, 1, 1] as const, baseWidth: 16, frames: 4, classes: 5, inputSize: 32 };

  /** Loss gradients of one training forward, the tensor bytes alive at its peak, and bn1's running mean after it. */
  function trainingStep(recompute: boolean | number) {
    const network = createStmNetwork(config, { seed: 3 });
    const x = tf.randomNormal([2 * config.frames, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
    const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 3], 'int32'), config.classes));
    const variables = network.trainableVariables();
    let grads: tf.NamedTensorMap = {};
    const before = tf.memory().numBytes;
    const peak = tf.profile(() => {
      const result = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, network.forward(x, { training: true, recompute }).clipLogits) as tf.Scalar, variables);
      result.value.dispose();
      grads = result.grads;
    });
    return { network, grads, x, labels, peakBytes: peak.then((p) => p.peakBytes - before) };
  }

  it('gives the same gradients and running statistics with far fewer tensor bytes alive, and leaks nothing', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const plain = trainingStep(false);
    const plainPeak = await plain.peakBytes;
    const checkpointed = trainingStep(true);
    const checkpointedPeak = await checkpointed.peakBytes;

    const plainVariables = plain.network.trainableVariables();
    const checkpointedVariables = checkpointed.network.trainableVariables();
    expect(Object.keys(checkpointed.grads)).toHaveLength(plainVariables.length);
    plainVariables.forEach((variable, i) => {
      const name = plain.network.params.filter((p) => p.trainable)[i]!.name;
      expect(relativeDiff(checkpointed.grads[checkpointedVariables[i]!.name]!, plain.grads[variable.name]!), name).toBeLessThan(1e-4);
    });
    // Recomputing only the stem and stage 1 (later stages keep their activations) gives the same gradients too.
    const partial = trainingStep(2);
    const partialPeak = await partial.peakBytes;
    partial.network.trainableVariables().forEach((variable, i) => {
      expect(relativeDiff(partial.grads[variable.name]!, plain.grads[plainVariables[i]!.name]!)).toBeLessThan(1e-4);
    });
    expect(partialPeak).toBeLessThan(plainPeak);
    expect(partialPeak).toBeGreaterThan(checkpointedPeak);
    tf.dispose([partial.x, partial.labels, ...Object.values(partial.grads)]);
    partial.network.dispose();
    // The recomputation does not move the running statistics a second time.
    const runningMean = (n: typeof plain.network) => n.variables().get('layer1.0.bn1.running_mean')!;
    expect(relativeDiff(runningMean(checkpointed.network), runningMean(plain.network))).toBeLessThan(1e-6);
    expect(checkpointedPeak).toBeLessThan(plainPeak * 0.6);

    for (const run of [plain, checkpointed]) {
      tf.dispose([run.x, run.labels, ...Object.values(run.grads)]);
      run.network.dispose();
    }
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, 60_000);
});
