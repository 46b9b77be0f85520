/**
 * Precise BatchNorm: before a validation pass (and the checkpoint that follows it) the running statistics are
 * replaced by the plain average of batch statistics over several training batches, run in training mode with
 * the current weights and no weight update. The running averages kept during training lag behind weights that
 * move fast (Adam, few steps), so a model scored with them can be far worse than the same weights with batch
 * statistics; recomputing them takes only forward passes.
 */
import * as tf from '@tensorflow/tfjs';
import { BN_MOMENTUM } from '../model/config.ts';
import type { StmNetwork } from '../model/network.ts';

const RUNNING_SUFFIXES = ['.running_mean', '.running_var'];

/**
 * Runs each batch (a Float32Array of N·T frames) through the network in training mode and sets every running
 * statistic to the mean of the per-batch statistics. Returns the number of batches used.
 */
export async function recomputeBatchNormStatistics(network: StmNetwork, batches: AsyncIterable<Float32Array>): Promise<number> {
  const running = [...network.variables()].filter(([name]) => RUNNING_SUFFIXES.some((s) => name.endsWith(s))).map(([, v]) => v);
  const sums: tf.Tensor[] = running.map((v) => tf.zerosLike(v));
  const { frames, inputSize: size } = network.config;
  let count = 0;
  try {
    for await (const x of batches) {
      const before: tf.Tensor[] = running.map((v) => tf.clone(v));
      tf.tidy(() => {
        const input = tf.tensor4d(x, [x.length / (size * size * 3), size, size, 3]);
        if (input.shape[0] % frames !== 0) throw new Error(`BatchNorm recalibration batch is not a whole number of ${frames}-frame clips`);
        network.forward(input, { training: true, updateStats: true, recompute: false });
      });
      // The forward pass moved each statistic to (1 − m)·before + m·batch; recover the batch's own value.
      running.forEach((v, i) => {
        const batchValue = tf.tidy(() => tf.div(tf.sub(v, tf.mul(before[i], 1 - BN_MOMENTUM)), BN_MOMENTUM));
        const sum = tf.add(sums[i], batchValue);
        sums[i].dispose();
        batchValue.dispose();
        sums[i] = sum;
        v.assign(before[i]);
      });
      before.forEach((t) => t.dispose());
      count += 1;
    }
    if (count > 0) running.forEach((v, i) => tf.tidy(() => v.assign(tf.div(sums[i], count))));
    return count;
  } finally {
    sums.forEach((t) => t.dispose());
  }
}
