/**
 * One copy of the network being trained, with its optimizer: the model side of a training step. A run that
 * trains in one thread holds one replica; a data-parallel run holds one per worker thread, each computing the
 * gradients of its shards of the global batch and applying the same averaged update, so they never drift.
 *
 * The loss of a shard is its clips' weighted cross-entropy divided by the weight of the whole global batch,
 * so the shards' gradients add up to the gradient of the global batch's loss; weight decay is added once, to
 * the first shard. BatchNorm sees each shard on its own (per-replica statistics, as PyTorch's
 * DistributedDataParallel without SyncBN).
 *
 * With an OnnxTrainingStep (the ONNX Runtime engine) the gradients, batch statistics, validation logits and
 * precise-BatchNorm statistics come from ONNX Runtime; the weights, the running statistics and the optimizer
 * stay here either way.
 */
import * as tf from '@tensorflow/tfjs';
import type { StmNetwork } from '../model/network.ts';
import { inFrozenPrefix, stageInputShape } from '../model/parameters.ts';
import { recomputeBatchNormStatistics, type FrozenPrefixMode } from './train-bn.ts';
import { recomputePlan } from './recompute-plan.ts';
import { whileDeviceAlive } from '../compute/webgpu-device.ts';
import { argmax } from '../figures/metrics.ts';
import type { TrainParams } from './params.ts';
import type { OptimizerSlot, TrainingSnapshot } from './train-checkpoint.ts';
import { moveRunningStatistics, unbiasedVarianceFactor } from '../model/batch-norm.ts';
import type { OnnxTrainingStep } from './train-onnx.ts';
import { seededRng, type Rng } from '../media/sampling.ts';

/**
 * Clips of one shard and their class indices: frames [clips·T, S, S, 3] normalised, or, when a frozen prefix
 * ran elsewhere, the feature maps it produced.
 */
export interface Shard {
  x: Float32Array;
  labels: number[];
}

export interface ShardOutcome {
  /** This shard's part of the global batch's data loss (the parts add up to the batch's loss). */
  loss: number;
  /** The weight-decay penalty this shard added (only one shard of a batch adds it), kept apart from the loss. */
  penalty: number;
  predicted: number[];
}

export type ReplicaSettings = Pick<TrainParams, 'optimizer' | 'lr' | 'momentum' | 'weightDecay' | 'freeze'> & Partial<Pick<TrainParams, 'seed'>>;

/** Adam whose learning rate can change between steps (SGD with momentum has `setLearningRate` already). */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

type ScheduledOptimizer = tf.Optimizer & { setLearningRate(lr: number): void };

function makeOptimizer(settings: ReplicaSettings): ScheduledOptimizer {
  return settings.optimizer === 'adam' ? new ScheduledAdam(settings.lr, 0.9, 0.999) : new tf.MomentumOptimizer(settings.lr, settings.momentum);
}

/** Variables the optimizer updates: everything trainable except the stem and the first `freeze` stages. */
function trainableOf(network: StmNetwork, freeze: number): tf.Variable[] {
  if (freeze <= 0) return network.trainableVariables();
  const frozen = new Set<tf.Variable>();
  for (const [name, variable] of network.variables()) if (inFrozenPrefix(name, freeze)) frozen.add(variable);
  return network.trainableVariables().filter((v) => !frozen.has(v));
}

/** Mean softmax cross-entropy of clip logits, each clip weighted by its class weight, over `weightSum`. */
function weightedLoss(clipLogits: tf.Tensor2D, labels: number[], weights: number[], weightSum: number): tf.Scalar {
  const k = weights.length;
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
  const perClip = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(clipLogits)), 1));
  const w = tf.tensor1d(labels.map((l) => weights[l]));
  return tf.div(tf.sum(tf.mul(perClip, w)), Math.max(weightSum, 1e-8)) as tf.Scalar;
}

/** Inverted dropout's multipliers: 0 with probability p, else 1/(1 − p). */
function dropoutMask(length: number, p: number, random: Rng): Float32Array {
  const mask = new Float32Array(length);
  const kept = 1 / (1 - p);
  for (let i = 0; i < length; i++) mask[i] = random() >= p ? kept : 0;
  return mask;
}

function networkFeatures(network: StmNetwork): number {
  return network.variables().get('fc.weight')!.shape[0];
}

/**
 * Memory this thread's tfjs holds, MiB: the wasm heap (it only grows, so this is its high-water mark) on
 * wasm, the bytes of live tensors elsewhere.
 */
export function replicaMemoryMiB(): number {
  const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return (heap ? heap.length : tf.memory().numBytes) / 2 ** 20;
}

export class TrainReplica {
  readonly trainable: tf.Variable[];
  private readonly decayed: tf.Variable[];
  private readonly optimizer: ScheduledOptimizer;
  readonly prefix: FrozenPrefixMode;
  private readonly inputShape: [number, number, number];
  /** Dropout masks of the ONNX engine, drawn from the run's seed so a run repeats itself. */
  private readonly dropoutRandom: Rng;

  constructor(
    readonly network: StmNetwork,
    private readonly settings: ReplicaSettings,
    /** Class weight by class index (all ones when weighting is off). */
    private readonly classWeights: number[],
    /** 0: inputs are frames; N: inputs are stage N's feature maps (the frozen prefix ran elsewhere). */
    fromStage = 0,
    /** Computes gradients on ONNX Runtime instead of tfjs (same fromStage); the update stays here. */
    readonly onnx: OnnxTrainingStep | null = null,
  ) {
    this.prefix = { frozenStages: Math.max(settings.freeze, fromStage), fromStage };
    this.inputShape = stageInputShape(network.config, fromStage);
    this.trainable = trainableOf(network, settings.freeze);
    this.decayed = this.trainable.filter((v) => v.shape.length >= 2);
    this.optimizer = makeOptimizer(settings);
    this.dropoutRandom = seededRng((settings.seed ?? 1) * 7919 + 13);
  }

  /** The weight of a set of clips' labels (what a shard's loss is divided by). */
  weightOf(labels: readonly number[]): number {
    return labels.reduce((sum, l) => sum + this.classWeights[l], 0);
  }

  /**
   * Gradients of one shard's part of the loss, by variable name (the caller disposes them). `weightSum` is
   * the weight of the whole global batch; `withDecay` adds the weight-decay term (to one shard only).
   */
  async gradients(shard: Shard, weightSum: number, withDecay: boolean): Promise<ShardOutcome & { grads: tf.NamedTensorMap }> {
    if (this.onnx) return this.onnxGradients(this.onnx, shard, weightSum, withDecay);
    const clips = shard.labels.length;
    let decay: tf.Scalar | null = null;
    const [value, logits, grads] = tf.tidy((): [tf.Scalar, tf.Tensor2D, tf.NamedTensorMap] => {
      const x = this.input(shard.x, clips);
      let kept: tf.Tensor2D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const recompute = recomputePlan(this.network.config, clips, tf.getBackend(), this.prefix.frozenStages);
        const { clipLogits } = this.network.forward(x, { training: true, recompute, ...this.prefix });
        kept = tf.keep(clipLogits);
        let loss = weightedLoss(clipLogits, shard.labels, this.classWeights, weightSum);
        if (withDecay && this.settings.weightDecay > 0 && this.decayed.length) {
          // Added in pairs: tf.addN binds one buffer per input, beyond WebGPU's 8 storage buffers per shader.
          const l2 = this.decayed.map((v) => tf.sum(tf.square(v))).reduce((a, b) => tf.add(a, b));
          decay = tf.keep(tf.mul(l2, this.settings.weightDecay / 2) as tf.Scalar);
          loss = tf.add(loss, decay) as tf.Scalar;
        }
        return loss;
      }, this.trainable);
      return [value, kept as unknown as tf.Tensor2D, grads];
    });
    try {
      // Read back asynchronously: a GPU backend has no synchronous read in Node.
      const decayTensor = decay as tf.Scalar | null;
      const [loss, scores, decayValue] = await whileDeviceAlive(Promise.all([value.data(), logits.array(), decayTensor?.data()]));
      // The loss reported is the data loss alone, comparable with validation; the weight-decay penalty apart.
      const penalty = decayValue ? decayValue[0] : 0;
      return { loss: loss[0] - penalty, penalty, predicted: scores.map((row) => argmax(row)), grads };
    } catch (err) {
      tf.dispose(Object.values(grads));
      throw err;
    } finally {
      tf.dispose([value, logits]);
      if (decay) (decay as tf.Scalar).dispose();
    }
  }

  /**
   * The same on ONNX Runtime: the graph gets the variables' current values and returns the data loss's
   * gradients and each BatchNorm's batch statistics, which move the running statistics here as tfjs would.
   */
  private async onnxGradients(onnx: OnnxTrainingStep, shard: Shard, weightSum: number, withDecay: boolean): Promise<ShardOutcome & { grads: tf.NamedTensorMap }> {
    const { classes, dropout, frames } = this.network.config;
    const clips = shard.labels.length;
    const target = new Float32Array(clips * classes);
    shard.labels.forEach((label, i) => (target[i * classes + label] = this.classWeights[label] / Math.max(weightSum, 1e-8)));
    const variables = this.network.variables();
    // Each weight is read out of tfjs once: the graph's input, and the weight-decay penalty below.
    const values = new Map<string, Float32Array>();
    const valueOf = (name: string) => {
      let value = values.get(name);
      if (!value) values.set(name, (value = this.valueOf(name)));
      return value;
    };
    const keep = dropout > 0 ? dropoutMask(clips * frames * networkFeatures(this.network), dropout, this.dropoutRandom) : undefined;
    const result = await onnx.run({ x: shard.x, clips, target, keep, weight: valueOf });
    tf.tidy(() => {
      for (const [bn, { mean, variance, count }] of result.statistics) {
        const running = { mean: variables.get(`${bn}.running_mean`)!, variance: variables.get(`${bn}.running_var`)! };
        moveRunningStatistics(running, tf.tensor1d(mean), tf.tensor1d(variance), count);
      }
    });
    const decays = withDecay && this.settings.weightDecay > 0;
    const decayed = new Set(this.decayed);
    let penalty = 0;
    const grads: tf.NamedTensorMap = {};
    tf.tidy(() => {
      for (const [name, { data, shape }] of result.grads) {
        const variable = variables.get(name)!;
        let grad = tf.tensor(data, shape);
        if (decays && decayed.has(variable)) {
          // The gradient of weightDecay/2·Σw², what the tfjs path adds to its loss.
          const value = valueOf(name);
          for (let i = 0; i < value.length; i++) penalty += value[i] * value[i];
          grad = tf.add(grad, tf.mul(variable, this.settings.weightDecay));
        }
        grads[variable.name] = tf.keep(grad);
      }
    });
    const scores = result.clipLogits;
    const predicted = shard.labels.map((_, i) => argmax(Array.from(scores.subarray(i * classes, (i + 1) * classes))));
    return { loss: result.loss, penalty: (penalty * this.settings.weightDecay) / 2, predicted, grads };
  }

  /** One optimizer update with the given gradients (by variable name) at learning rate `lr`. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.optimizer.setLearningRate(lr);
    this.optimizer.applyGradients(this.trainable.map((v) => ({ name: v.name, tensor: grads[v.name] })));
  }

  /** A whole step in this thread: every shard's gradients, summed, then one update. */
  async step(shards: Shard[], lr: number): Promise<ShardOutcome> {
    const weightSum = this.weightOf(shards.flatMap((s) => s.labels));
    let sums: tf.NamedTensorMap | null = null;
    let loss = 0;
    let penalty = 0;
    const predicted: number[] = [];
    try {
      for (const [i, shard] of shards.entries()) {
        const part = await this.gradients(shard, weightSum, i === 0);
        loss += part.loss;
        penalty += part.penalty;
        predicted.push(...part.predicted);
        if (!sums) sums = part.grads;
        else {
          const previous: tf.NamedTensorMap = sums;
          sums = tf.tidy(() => Object.fromEntries(Object.entries(part.grads).map(([name, g]) => [name, tf.add(previous[name], g)])));
          tf.dispose([...Object.values(previous), ...Object.values(part.grads)]);
        }
      }
      this.apply(sums!, lr);
      return { loss, penalty, predicted };
    } finally {
      if (sums) tf.dispose(Object.values(sums));
    }
  }

  /** Inference-mode clip logits of `clips` clips. */
  async predict(x: Float32Array, clips: number): Promise<number[][]> {
    if (this.onnx) {
      const logits = await this.onnx.predict(x, clips, (name) => this.valueOf(name));
      const k = this.network.config.classes;
      return Array.from({ length: clips }, (_, i) => Array.from(logits.subarray(i * k, (i + 1) * k)));
    }
    const logits = tf.tidy(() => this.network.forward(this.input(x, clips), { training: false, fromStage: this.prefix.fromStage }).clipLogits);
    return whileDeviceAlive(logits.array()).finally(() => logits.dispose());
  }

  /**
   * Precise BatchNorm over these batches (frames, or the frozen prefix's maps): every running statistic
   * trained becomes the mean of the batches' own (the variance unbiased, as PyTorch keeps it).
   */
  async recalibrate(batches: AsyncIterable<Float32Array>): Promise<number> {
    if (!this.onnx) return recomputeBatchNormStatistics(this.network, batches, this.prefix);
    const clipValues = this.network.config.frames * this.inputShape.reduce((a, b) => a * b, 1);
    const sums = new Map<string, { mean: Float64Array; variance: Float64Array }>();
    let count = 0;
    for await (const x of batches) {
      const statistics = await this.onnx.statistics(x, x.length / clipValues, (name) => this.valueOf(name));
      for (const [bn, { mean, variance, count: values }] of statistics) {
        let sum = sums.get(bn);
        if (!sum) sums.set(bn, (sum = { mean: new Float64Array(mean.length), variance: new Float64Array(mean.length) }));
        const unbiased = unbiasedVarianceFactor(values);
        for (let c = 0; c < mean.length; c++) {
          sum.mean[c] += mean[c];
          sum.variance[c] += variance[c] * unbiased;
        }
      }
      count += 1;
    }
    const variables = this.network.variables();
    for (const [bn, sum] of sums) {
      variables.get(`${bn}.running_mean`)!.assign(tf.tensor1d(Float32Array.from(sum.mean, (v) => v / count)));
      variables.get(`${bn}.running_var`)!.assign(tf.tensor1d(Float32Array.from(sum.variance, (v) => v / count)));
    }
    return count;
  }

  /** A variable's current value by PyTorch name (synchronous: the ONNX engine runs on the CPU backends). */
  private valueOf(name: string): Float32Array {
    return this.network.variables().get(name)!.dataSync() as Float32Array;
  }

  private input(x: Float32Array, clips: number): tf.Tensor4D {
    return tf.tensor4d(x, [clips * this.network.config.frames, ...this.inputShape]);
  }

  async optimizerSlots(): Promise<OptimizerSlot[]> {
    const slots = await this.optimizer.getWeights();
    return Promise.all(
      slots.map(async (slot) => ({ name: slot.name, shape: slot.tensor.shape, data: Float32Array.from((await slot.tensor.data()) as Float32Array) })),
    );
  }

  async restoreOptimizer(slots: readonly OptimizerSlot[]): Promise<void> {
    if (slots.length) await this.optimizer.setWeights(slots.map((s) => ({ name: s.name, tensor: tf.tensor(s.data, s.shape) })));
  }

  async snapshot(): Promise<TrainingSnapshot> {
    return { weights: await this.network.stateDict(), optimizer: await this.optimizerSlots() };
  }

  dispose(): void {
    this.network.dispose();
    this.optimizer.dispose();
  }
}
