/**
 * One copy of the network being trained, with its optimizer: the model side of a training step. A run that
 * trains in one thread holds one replica; a data-parallel run holds one per worker thread, each computing the
 * gradients of its shards of the global batch and applying the same averaged update, so they never drift.
 *
 * The loss of a shard is its clips' weighted cross-entropy divided by the weight of the whole global batch,
 * so the shards' gradients add up to the gradient of the global batch's loss; weight decay is added once, to
 * the first shard. BatchNorm sees each shard on its own (per-replica statistics, as PyTorch's
 * DistributedDataParallel without SyncBN).
 */
import * as tf from '@tensorflow/tfjs';
import type { StmNetwork } from '../model/network.ts';
import { inFrozenPrefix, stageInputShape } from '../model/parameters.ts';
import type { FrozenPrefixMode } from './train-bn.ts';
import { argmax } from './metrics.ts';
import type { TrainParams } from './params.ts';
import type { OptimizerSlot, TrainingSnapshot } from './train-checkpoint.ts';

/**
 * Clips of one shard and their class indices: frames [clips·T, S, S, 3] normalised, or, when a frozen prefix
 * ran elsewhere, the feature maps it produced.
 */
export interface Shard {
  x: Float32Array;
  labels: number[];
}

export interface ShardOutcome {
  /** This shard's part of the global batch's loss (the parts add up to the batch's loss). */
  loss: number;
  predicted: number[];
}

export type ReplicaSettings = Pick<TrainParams, 'optimizer' | 'lr' | 'momentum' | 'weightDecay' | 'freeze'>;

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

  constructor(
    readonly network: StmNetwork,
    private readonly settings: ReplicaSettings,
    /** Class weight by class index (all ones when weighting is off). */
    private readonly classWeights: number[],
    /** 0: inputs are frames; N: inputs are stage N's feature maps (the frozen prefix ran elsewhere). */
    fromStage = 0,
  ) {
    this.prefix = { frozenStages: Math.max(settings.freeze, fromStage), fromStage };
    this.inputShape = stageInputShape(network.config, fromStage);
    this.trainable = trainableOf(network, settings.freeze);
    this.decayed = this.trainable.filter((v) => v.shape.length >= 2);
    this.optimizer = makeOptimizer(settings);
  }

  /** The weight of a set of clips' labels (what a shard's loss is divided by). */
  weightOf(labels: readonly number[]): number {
    return labels.reduce((sum, l) => sum + this.classWeights[l], 0);
  }

  /**
   * Gradients of one shard's part of the loss, by variable name (the caller disposes them). `weightSum` is
   * the weight of the whole global batch; `withDecay` adds the weight-decay term (to one shard only).
   */
  gradients(shard: Shard, weightSum: number, withDecay: boolean): ShardOutcome & { grads: tf.NamedTensorMap } {
    const clips = shard.labels.length;
    return tf.tidy(() => {
      const x = this.input(shard.x, clips);
      let logits: tf.Tensor2D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const { clipLogits } = this.network.forward(x, { training: true, ...this.prefix });
        logits = tf.keep(clipLogits);
        let loss = weightedLoss(clipLogits, shard.labels, this.classWeights, weightSum);
        if (withDecay && this.settings.weightDecay > 0 && this.decayed.length) {
          const l2 = tf.addN(this.decayed.map((v) => tf.sum(tf.square(v))));
          loss = tf.add(loss, tf.mul(l2, this.settings.weightDecay / 2)) as tf.Scalar;
        }
        return loss;
      }, this.trainable);
      const kept = logits as unknown as tf.Tensor2D;
      const scores = kept.arraySync();
      kept.dispose();
      for (const g of Object.values(grads)) tf.keep(g);
      return { loss: value.dataSync()[0], predicted: scores.map((row) => argmax(row)), grads };
    });
  }

  /** One optimizer update with the given gradients (by variable name) at learning rate `lr`. */
  apply(grads: tf.NamedTensorMap, lr: number): void {
    this.optimizer.setLearningRate(lr);
    this.optimizer.applyGradients(this.trainable.map((v) => ({ name: v.name, tensor: grads[v.name] })));
  }

  /** A whole step in this thread: every shard's gradients, summed, then one update. */
  step(shards: Shard[], lr: number): ShardOutcome {
    const weightSum = this.weightOf(shards.flatMap((s) => s.labels));
    let sums: tf.NamedTensorMap | null = null;
    let loss = 0;
    const predicted: number[] = [];
    shards.forEach((shard, i) => {
      const part = this.gradients(shard, weightSum, i === 0);
      loss += part.loss;
      predicted.push(...part.predicted);
      if (!sums) sums = part.grads;
      else {
        const previous: tf.NamedTensorMap = sums;
        sums = Object.fromEntries(Object.entries(part.grads).map(([name, g]) => [name, tf.add(previous[name], g)]));
        tf.dispose([...Object.values(previous), ...Object.values(part.grads)]);
      }
    });
    this.apply(sums!, lr);
    tf.dispose(Object.values(sums!));
    return { loss, predicted };
  }

  /** Inference-mode clip logits of `clips` clips. */
  predict(x: Float32Array, clips: number): number[][] {
    return tf.tidy(() => this.network.forward(this.input(x, clips), { training: false, fromStage: this.prefix.fromStage }).clipLogits.arraySync());
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
    return { weights: this.network.stateDict(), optimizer: await this.optimizerSlots() };
  }

  dispose(): void {
    this.network.dispose();
    this.optimizer.dispose();
  }
}
