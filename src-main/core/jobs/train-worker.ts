/**
 * One replica of a data-parallel training run, inside a worker thread (started by train-parallel.ts through
 * the compute worker pool). It computes the gradients of its shards of each global batch and writes them
 * into its slot of a SharedArrayBuffer; once every replica has written, each one sums all slots in the same
 * order and applies that update, so the replicas stay identical without sending weights around.
 */
import * as tf from '@tensorflow/tfjs';
import type { StmConfig } from '../model/config.ts';
import { createStmNetwork } from '../model/network.ts';
import { elementCount, inFrozenPrefix, networkSpec } from '../model/parameters.ts';
import type { StoredTensor } from '../model/safetensors.ts';
import { BatchNormRecalibration, runningStatisticsOf } from './train-bn.ts';
import type { OptimizerSlot, TrainingSnapshot } from './train-checkpoint.ts';
import { replicaMemoryMiB, TrainReplica, type ReplicaSettings, type Shard } from './train-replica.ts';

export interface ReplicaInit {
  config: StmConfig;
  weights: Map<string, StoredTensor>;
  optimizer: OptimizerSlot[];
  settings: ReplicaSettings;
  classWeights: number[];
  /** `workers` slots of `gradientLength` floats, one per replica. */
  gradients: SharedArrayBuffer;
  workers: number;
  /** 0: tasks carry frames; N: stage N's feature maps (the frozen prefix runs in the coordinating thread). */
  fromStage: number;
}

export type ReplicaTask =
  | { op: 'gradients'; rank: number; shards: Shard[]; weightSum: number; withDecay: boolean[] }
  | { op: 'apply'; lr: number }
  | { op: 'predict'; x: Float32Array; clips: number }
  | { op: 'bn-add'; x: Float32Array }
  | { op: 'bn-finish' }
  | { op: 'running-statistics' }
  | { op: 'set-running-statistics'; values: Record<string, Float32Array> }
  | { op: 'weights' }
  | { op: 'snapshot' }
  | { op: 'memory' };

export interface GradientsDone {
  loss: number;
  penalty: number;
  /** Predicted class of every clip, per shard in the order given. */
  predicted: number[][];
}

export interface ReplicaResults {
  gradients: GradientsDone;
  apply: null;
  predict: number[][];
  'bn-add': null;
  'bn-finish': number;
  'running-statistics': Record<string, Float32Array>;
  'set-running-statistics': null;
  weights: Map<string, StoredTensor>;
  snapshot: TrainingSnapshot;
  memory: number;
}

/** Floats in one replica's gradient slot: every trained variable, in the network's order. */
export function gradientLength(config: StmConfig, freeze: number): number {
  return networkSpec(config).params.filter((p) => p.trainable && !inFrozenPrefix(p.name, freeze)).reduce((n, p) => n + elementCount(p.torchShape), 0);
}

/** Pool factory: builds the replica from the run's weights and optimizer state; the handler serves tasks. */
export async function createTrainReplica(init: ReplicaInit): Promise<(task: ReplicaTask) => unknown> {
  const network = createStmNetwork(init.config, { weights: init.weights });
  const replica = new TrainReplica(network, init.settings, init.classWeights, init.fromStage);
  await replica.restoreOptimizer(init.optimizer);
  const length = replica.trainable.reduce((n, v) => n + v.size, 0);
  const slots = Array.from({ length: init.workers }, (_, rank) => new Float32Array(init.gradients, rank * length * 4, length));
  let recalibration: BatchNormRecalibration | null = null;

  return async (task: ReplicaTask): Promise<ReplicaResults[ReplicaTask['op']]> => {
    switch (task.op) {
      case 'gradients': {
        let loss = 0;
        let penalty = 0;
        const predicted: number[][] = [];
        const slot = slots[task.rank];
        slot.fill(0);
        for (const [i, shard] of task.shards.entries()) {
          const part = await replica.gradients(shard, task.weightSum, task.withDecay[i]);
          loss += part.loss;
          penalty += part.penalty;
          predicted.push(part.predicted);
          try {
            let offset = 0;
            for (const v of replica.trainable) {
              const g = (await part.grads[v.name].data()) as Float32Array;
              for (let j = 0; j < g.length; j++) slot[offset + j] += g[j];
              offset += g.length;
            }
          } finally {
            tf.dispose(Object.values(part.grads));
          }
        }
        return { loss, penalty, predicted };
      }
      case 'apply': {
        // Every replica adds the same slots in the same order: the same update everywhere.
        const sum = Float32Array.from(slots[0]);
        for (let r = 1; r < slots.length; r++) {
          const other = slots[r];
          for (let j = 0; j < length; j++) sum[j] += other[j];
        }
        const grads: tf.NamedTensorMap = {};
        let offset = 0;
        for (const v of replica.trainable) {
          grads[v.name] = tf.tensor(sum.subarray(offset, offset + v.size), v.shape);
          offset += v.size;
        }
        replica.apply(grads, task.lr);
        tf.dispose(Object.values(grads));
        return null;
      }
      case 'predict':
        return replica.predict(task.x, task.clips);
      case 'bn-add':
        recalibration ??= new BatchNormRecalibration(network, replica.prefix);
        recalibration.add(task.x);
        return null;
      case 'bn-finish': {
        const used = recalibration?.finish() ?? 0;
        recalibration?.dispose();
        recalibration = null;
        return used;
      }
      case 'running-statistics':
        return Object.fromEntries(
          await Promise.all(runningStatisticsOf(network, replica.prefix.frozenStages).map(async ([name, v]) => [name, Float32Array.from((await v.data()) as Float32Array)] as const)),
        );
      case 'set-running-statistics':
        for (const [name, v] of runningStatisticsOf(network, replica.prefix.frozenStages)) tf.tidy(() => v.assign(tf.tensor(task.values[name], v.shape)));
        return null;
      case 'weights':
        return network.stateDict();
      case 'snapshot':
        return replica.snapshot();
      case 'memory':
        return replicaMemoryMiB();
    }
  };
}
