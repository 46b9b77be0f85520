/**
 * Where a training run's arithmetic happens. `TrainingEngine` is what the epoch loop asks for — a step on a
 * global batch, inference logits, BatchNorm recalibration, weights and optimizer state — whether the replica
 * lives in this thread (`LocalEngine`) or one replica per worker thread (train-parallel.ts).
 *
 * A global batch is cut into `shards` contiguous shards (BatchNorm groups): one per worker in a data-parallel
 * run. `LocalEngine` with N shards computes exactly what N workers do, one shard after the other.
 */
import type { StoredTensor } from '../model/safetensors.ts';
import type { StmConfig } from '../model/config.ts';
import { stageInputShape } from '../model/parameters.ts';
import type { Batch } from './train-batches.ts';
import type { TrainingSnapshot } from './train-checkpoint.ts';
import { replicaMemoryMiB, type Shard, type ShardOutcome, type TrainReplica } from './train-replica.ts';

export interface TrainingEngine {
  readonly config: StmConfig;
  /** Worker threads that compute (1 for a run in this thread). */
  readonly workers: number;
  /** One optimizer step on a global batch at learning rate `lr`: the batch's loss and each clip's prediction. */
  step(batch: Batch, lr: number): Promise<ShardOutcome>;
  /** Inference-mode clip logits of the batch's clips. */
  predict(batch: Batch): Promise<number[][]>;
  /** Precise BatchNorm over these training batches; returns how many shards were used. */
  recalibrateBatchNorm(batches: AsyncIterable<Float32Array>): Promise<number>;
  /** Makes every replica's BatchNorm running statistics the same (their mean); called after each epoch. */
  syncStatistics(): Promise<void>;
  weights(): Promise<Map<string, StoredTensor>>;
  snapshot(): Promise<TrainingSnapshot>;
  /** Memory each worker's tfjs holds, MiB (wasm: its heap's high-water mark). */
  memoryPerWorker(): Promise<number[]>;
  dispose(): Promise<void>;
}

/** Cuts `clips` clips into at most `count` contiguous, near-equal shards (none empty). */
export function shardRanges(clips: number, count: number): Array<{ from: number; to: number }> {
  const n = Math.max(1, Math.min(count, clips));
  return Array.from({ length: n }, (_, i) => ({ from: Math.floor((i * clips) / n), to: Math.floor(((i + 1) * clips) / n) }));
}

export function shardsOf(batch: Batch, count: number, clipValues: number): Shard[] {
  return shardRanges(batch.labels.length, count).map(({ from, to }) => ({
    x: batch.x.subarray(from * clipValues, to * clipValues),
    labels: batch.labels.slice(from, to),
  }));
}

/** Floats of one clip's input: its T frames (T·S·S·3), or its T feature maps of stage `fromStage`. */
export function clipValuesOf(config: StmConfig, fromStage = 0): number {
  return config.frames * stageInputShape(config, fromStage).reduce((a, b) => a * b, 1);
}

/** Splits each batch of frames into its shards (precise BatchNorm sees the groups training saw). */
export async function* shardedFrames(batches: AsyncIterable<Float32Array>, count: number, clipValues: number): AsyncGenerator<Float32Array> {
  for await (const x of batches) {
    for (const { from, to } of shardRanges(x.length / clipValues, count)) yield x.subarray(from * clipValues, to * clipValues);
  }
}

/** The replica in this thread; with several shards it runs them one after the other and sums their gradients. */
export class LocalEngine implements TrainingEngine {
  readonly workers = 1;
  private readonly clipValues: number;

  constructor(
    private readonly replica: TrainReplica,
    private readonly shards = 1,
  ) {
    this.clipValues = clipValuesOf(replica.network.config, replica.prefix.fromStage);
  }

  get config(): StmConfig {
    return this.replica.network.config;
  }

  async step(batch: Batch, lr: number): Promise<ShardOutcome> {
    return this.replica.step(shardsOf(batch, this.shards, this.clipValues), lr);
  }

  predict(batch: Batch): Promise<number[][]> {
    return this.replica.predict(batch.x, batch.labels.length);
  }

  recalibrateBatchNorm(batches: AsyncIterable<Float32Array>): Promise<number> {
    const shards = this.shards > 1 ? shardedFrames(batches, this.shards, this.clipValues) : batches;
    return this.replica.recalibrate(shards);
  }

  async syncStatistics(): Promise<void> {}

  weights(): Promise<Map<string, StoredTensor>> {
    return this.replica.network.stateDict();
  }

  snapshot(): Promise<TrainingSnapshot> {
    return this.replica.snapshot();
  }

  async memoryPerWorker(): Promise<number[]> {
    return [replicaMemoryMiB()];
  }

  async dispose(): Promise<void> {
    this.replica.dispose();
    await this.replica.onnx?.dispose();
  }
}
