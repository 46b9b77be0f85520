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
import { inFrozenPrefix, stageInputShape } from '../model/parameters.ts';

/**
 * How the network treats its frozen stages: `frozenStages` run in inference mode (their statistics stay as
 * they are); with `fromStage` > 0 the batches are that stage's feature maps (the prefix ran elsewhere).
 */
export interface FrozenPrefixMode {
  frozenStages: number;
  fromStage: number;
}

export const NO_PREFIX: FrozenPrefixMode = { frozenStages: 0, fromStage: 0 };

const RUNNING_SUFFIXES = ['.running_mean', '.running_var'];

/**
 * Runs each batch (a Float32Array of N·T frames) through the network in training mode and sets every running
 * statistic to the mean of the per-batch statistics. Returns the number of batches used.
 */
export async function recomputeBatchNormStatistics(network: StmNetwork, batches: AsyncIterable<Float32Array>, prefix: FrozenPrefixMode = NO_PREFIX): Promise<number> {
  const recalibration = new BatchNormRecalibration(network, prefix);
  try {
    for await (const x of batches) recalibration.add(x);
    return recalibration.finish();
  } finally {
    recalibration.dispose();
  }
}

/** The same, one batch at a time (a replica in a worker thread is fed its shards by messages). */
export class BatchNormRecalibration {
  private readonly running: tf.Variable[];
  private readonly sums: tf.Tensor[];
  private count = 0;

  constructor(
    private readonly network: StmNetwork,
    private readonly prefix: FrozenPrefixMode = NO_PREFIX,
  ) {
    this.running = runningStatisticsOf(network, prefix.frozenStages).map(([, v]) => v);
    this.sums = this.running.map((v) => tf.zerosLike(v));
  }

  add(x: Float32Array): void {
    const { frames } = this.network.config;
    const [h, w, c] = stageInputShape(this.network.config, this.prefix.fromStage);
    const before: tf.Tensor[] = this.running.map((v) => tf.clone(v));
    tf.tidy(() => {
      const input = tf.tensor4d(x, [x.length / (h * w * c), h, w, c]);
      if (input.shape[0] % frames !== 0) throw new Error(`BatchNorm recalibration batch is not a whole number of ${frames}-frame clips`);
      this.network.forward(input, { training: true, updateStats: true, recompute: false, ...this.prefix });
    });
    // The forward pass moved each statistic to (1 − m)·before + m·batch; recover the batch's own value.
    this.running.forEach((v, i) => {
      const batchValue = tf.tidy(() => tf.div(tf.sub(v, tf.mul(before[i], 1 - BN_MOMENTUM)), BN_MOMENTUM));
      const sum = tf.add(this.sums[i], batchValue);
      this.sums[i].dispose();
      batchValue.dispose();
      this.sums[i] = sum;
      v.assign(before[i]);
    });
    before.forEach((t) => t.dispose());
    this.count += 1;
  }

  /** Sets the running statistics to the mean over the batches added (unchanged when none was); returns their number. */
  finish(): number {
    const { count } = this;
    if (count > 0) this.running.forEach((v, i) => tf.tidy(() => v.assign(tf.div(this.sums[i], count))));
    return count;
  }

  dispose(): void {
    this.sums.forEach((t) => t.dispose());
  }
}

/** The BatchNorm running means and variances of the network by name, but those of the first `frozenStages` stages. */
export function runningStatisticsOf(network: StmNetwork, frozenStages = 0): Array<[string, tf.Variable]> {
  return [...network.variables()].filter(([name]) => RUNNING_SUFFIXES.some((s) => name.endsWith(s)) && !inFrozenPrefix(name, frozenStages));
}
