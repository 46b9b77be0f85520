import * as tf from '@tensorflow/tfjs';
import { BN_MOMENTUM } from './config.ts';

/** What turns a batch's biased variance over `count` values into the unbiased one PyTorch's running statistics keep. */
export function unbiasedVarianceFactor(count: number): number {
  return count / Math.max(count - 1, 1);
}

/**
 * Moves BatchNorm running statistics towards a batch's mean and biased variance over `count` values per
 * channel, with PyTorch's momentum (the variance kept unbiased, as PyTorch keeps it).
 */
export function moveRunningStatistics(running: { mean: tf.Variable; variance: tf.Variable }, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
  tf.tidy(() => {
    running.mean.assign(tf.add(tf.mul(running.mean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
    running.variance.assign(tf.add(tf.mul(running.variance, 1 - BN_MOMENTUM), tf.mul(tf.mul(variance, unbiasedVarianceFactor(count)), BN_MOMENTUM)));
  });
}

export interface BatchNormTrainingOptions {
  epsilon: number;
  /** Apply ReLU to the normalised output (its gradient then reuses the saved output as the mask). */
  relu?: boolean;
  /** Receives the batch mean and biased variance while they exist (e.g. to move running statistics). */
  onStatistics?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
}

/**
 * Training-mode BatchNorm over the N, H and W axes of an NHWC tensor, optionally followed by ReLU, with a
 * hand-written gradient. Composed from tfjs ops, the tape would keep every intermediate of the moments and
 * the normalisation (several copies of x); this keeps x, the batch statistics and, with ReLU, the output.
 */
export function batchNormTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: BatchNormTrainingOptions): tf.Tensor4D {
  const { epsilon, relu = false, onStatistics } = options;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, offset] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(input, [0, 1, 2]) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    onStatistics?.(mean, variance);
    const normalised = tf.batchNorm4d(input, mean, variance, offset, scale, epsilon);
    const value = relu ? tf.relu(normalised) : normalised;
    save(relu ? [input, mean, variance, value] : [input, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.tidy(() => batchNormGradients(dy, saved, scale, epsilon, relu)),
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/**
 * With x̂ = (x − μ)·σ⁻¹ and g the gradient reaching the normalised output: dβ = Σg, dγ = Σg·x̂ and
 * dx = γσ⁻¹·(g − dβ/M − x̂·dγ/M) over the M = N·H·W values of a channel, evaluated as g·a + x·b + c with
 * per-channel a, b, c so that only a few full-size temporaries exist at once.
 */
function batchNormGradients(dy: tf.Tensor4D, saved: tf.Tensor[], gamma: tf.Tensor1D, epsilon: number, relu: boolean): tf.Tensor[] {
  const [x, mean, variance, output] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D | undefined];
  const g = relu && output ? tf.mul(dy, tf.step(output)) : dy;
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  const invStd = tf.rsqrt(tf.add(variance, epsilon));
  const sumG = tf.sum(g, [0, 1, 2]);
  const sumGX = tf.sum(tf.mul(g, x), [0, 1, 2]);
  const dGamma = tf.mul(tf.sub(sumGX, tf.mul(mean, sumG)), invStd);
  const a = tf.mul(gamma, invStd);
  const b = tf.mul(tf.mul(a, invStd), tf.div(dGamma, -count));
  const c = tf.sub(tf.mul(a, tf.div(sumG, -count)), tf.mul(b, mean));
  const dx = tf.add(tf.mul(g, a), tf.add(tf.mul(x, b), c));
  return [dx, dGamma, sumG];
}
