/**
 * Data-parallel training on the CPU: one replica per worker thread (wasm runs one thread per worker, so this
 * is how a run uses every core). Each step cuts the global batch into shards, every replica computes the
 * gradients of its shards into its slot of a SharedArrayBuffer, then every replica sums the slots in the same
 * order and applies the same update — the replicas stay bit-identical and only frames and a few numbers
 * cross threads. BatchNorm normalises each shard with its own statistics (PyTorch DDP without SyncBN); after
 * each epoch the replicas' running statistics are averaged so the checkpoint holds one set.
 *
 * A replica that fails or whose thread dies fails the step with its reason; the run stops there and the last
 * checkpoint (written at the end of the previous epoch) stays as it was.
 */
import { UserError } from '../errors.ts';
import type { BackendName } from '../compute/backends.ts';
import { createWorkerPool, WorkerExited, type WorkerPool } from '../compute/worker-pool.ts';
import type { StmConfig } from '../model/config.ts';
import type { StoredTensor } from '../model/safetensors.ts';
import type { Batch } from './train-batches.ts';
import type { TrainingSnapshot } from './train-checkpoint.ts';
import { clipValuesOf, shardRanges, type TrainingEngine } from './train-engine.ts';
import type { ShardOutcome } from './train-replica.ts';
import { gradientLength, type ReplicaInit, type ReplicaResults, type ReplicaTask } from './train-worker.ts';

const REPLICA_MODULE = new URL('./train-worker.ts', import.meta.url);

export interface ParallelOptions extends Omit<ReplicaInit, 'gradients'> {
  /** BatchNorm groups per global batch (≥ workers); shard s runs on worker s mod workers. */
  shards: number;
  backend: BackendName;
}

export async function startParallelEngine(options: ParallelOptions): Promise<TrainingEngine> {
  const length = gradientLength(options.config, options.settings.freeze);
  const { shards, backend, ...rest } = options;
  const init: ReplicaInit = { ...rest, gradients: new SharedArrayBuffer(options.workers * length * 4) };
  const pool = await createWorkerPool<ReplicaTask, unknown>({ moduleUrl: REPLICA_MODULE, exportName: 'createTrainReplica', args: init, backend, workers: options.workers });
  return new ParallelEngine(pool, options.config, options.workers, Math.max(shards, options.workers), options.classWeights, options.fromStage);
}

class ParallelEngine implements TrainingEngine {
  private readonly clipValues: number;

  constructor(
    private readonly pool: WorkerPool<ReplicaTask, unknown>,
    readonly config: StmConfig,
    readonly workers: number,
    private readonly shards: number,
    private readonly classWeights: number[],
    fromStage: number,
  ) {
    this.clipValues = clipValuesOf(config, fromStage);
  }

  private async on<Op extends ReplicaTask['op']>(rank: number, task: Extract<ReplicaTask, { op: Op }>): Promise<ReplicaResults[Op]> {
    try {
      return (await this.pool.run(task, { worker: rank })) as ReplicaResults[Op];
    } catch (err) {
      if (err instanceof UserError) throw err;
      const reason = err instanceof WorkerExited ? `it ${err.how}` : err instanceof Error ? err.message : String(err);
      throw new Error(`Training worker ${rank + 1} of ${this.workers} stopped: ${reason}`);
    }
  }

  private everywhere<Op extends ReplicaTask['op']>(task: (rank: number) => Extract<ReplicaTask, { op: Op }>): Promise<Array<ReplicaResults[Op]>> {
    return Promise.all(Array.from({ length: this.workers }, (_, rank) => this.on(rank, task(rank))));
  }

  /** The shards of `clips` clips each worker runs, as shard indices (shard s on worker s mod workers). */
  private assignment(clips: number): { ranges: Array<{ from: number; to: number }>; byWorker: number[][] } {
    const ranges = shardRanges(clips, this.shards);
    const byWorker = Array.from({ length: this.workers }, (_, rank) => ranges.map((_, s) => s).filter((s) => s % this.workers === rank));
    return { ranges, byWorker };
  }

  async step(batch: Batch, lr: number): Promise<ShardOutcome> {
    const { ranges, byWorker } = this.assignment(batch.labels.length);
    const weightSum = batch.labels.reduce((sum, l) => sum + this.classWeights[l], 0);
    const done = await this.everywhere<'gradients'>((rank) => ({
      op: 'gradients',
      rank,
      // slice, not subarray: a view would carry its whole buffer to the worker.
      shards: byWorker[rank].map((s) => ({ x: batch.x.slice(ranges[s].from * this.clipValues, ranges[s].to * this.clipValues), labels: batch.labels.slice(ranges[s].from, ranges[s].to) })),
      weightSum,
      withDecay: byWorker[rank].map((s) => s === 0),
    }));
    await this.everywhere<'apply'>(() => ({ op: 'apply', lr }));
    const predicted: number[][] = [];
    byWorker.forEach((shardIds, rank) => shardIds.forEach((s, i) => (predicted[s] = done[rank].predicted[i])));
    return { loss: done.reduce((sum, d) => sum + d.loss, 0), penalty: done.reduce((sum, d) => sum + d.penalty, 0), predicted: predicted.flat() };
  }

  async predict(batch: Batch): Promise<number[][]> {
    const ranges = shardRanges(batch.labels.length, this.workers);
    const parts = await Promise.all(
      ranges.map(({ from, to }, rank) => this.on<'predict'>(rank, { op: 'predict', x: batch.x.slice(from * this.clipValues, to * this.clipValues), clips: to - from })),
    );
    return parts.flat();
  }

  async recalibrateBatchNorm(batches: AsyncIterable<Float32Array>): Promise<number> {
    for await (const x of batches) {
      const { ranges, byWorker } = this.assignment(x.length / this.clipValues);
      await Promise.all(
        byWorker.map(async (shardIds, rank) => {
          for (const s of shardIds) await this.on<'bn-add'>(rank, { op: 'bn-add', x: x.slice(ranges[s].from * this.clipValues, ranges[s].to * this.clipValues) });
        }),
      );
    }
    const used = await this.everywhere<'bn-finish'>(() => ({ op: 'bn-finish' }));
    await this.averageStatistics(used.map((n) => n > 0));
    return used.reduce((a, b) => a + b, 0);
  }

  syncStatistics(): Promise<void> {
    return this.averageStatistics(Array(this.workers).fill(true));
  }

  /** Sets every replica's running statistics to the mean of those of the replicas in `from`. */
  private async averageStatistics(from: boolean[]): Promise<void> {
    const all = await this.everywhere<'running-statistics'>(() => ({ op: 'running-statistics' }));
    const sources = all.filter((_, rank) => from[rank]);
    if (sources.length === 0) return;
    const values: Record<string, Float32Array> = {};
    for (const name of Object.keys(sources[0])) {
      const mean = new Float32Array(sources[0][name].length);
      for (const s of sources) for (let i = 0; i < mean.length; i++) mean[i] += s[name][i] / sources.length;
      values[name] = mean;
    }
    await this.everywhere<'set-running-statistics'>(() => ({ op: 'set-running-statistics', values }));
  }

  weights(): Promise<Map<string, StoredTensor>> {
    return this.on<'weights'>(0, { op: 'weights' });
  }

  snapshot(): Promise<TrainingSnapshot> {
    return this.on<'snapshot'>(0, { op: 'snapshot' });
  }

  memoryPerWorker(): Promise<number[]> {
    return this.everywhere<'memory'>(() => ({ op: 'memory' }));
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
