/**
 * Training steps on ONNX Runtime: the loss, gradients and BatchNorm batch statistics of a shard come from
 * the training graph (model/onnx/training-graph.ts), run with native SIMD on every core, while the weights,
 * the optimizer and the running statistics stay in the tfjs network, so checkpoints, resume and every other
 * part of a run are the same whichever engine computes the gradients.
 */
import { availableParallelism, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors.ts';
import type { StmConfig } from '../model/config.ts';
import { buildTrainingGraph, gradientOutput, meanOutput, TRAINING_INPUTS, TRAINING_OUTPUTS, varianceOutput, type TrainingGraph } from '../model/onnx/training-graph.ts';
import { stageInputShape } from '../model/parameters.ts';

export interface OnnxStepInput {
  /** Frames [clips·T, S, S, 3] normalised, or stage `fromStage`'s NHWC feature maps. */
  x: Float32Array;
  clips: number;
  /** [clips, classes]: each clip's one-hot label times its class weight over the global batch's weight. */
  target: Float32Array;
  /** [clips·T, features] dropout multipliers (0 or 1/(1 − p)); absent without dropout. */
  keep?: Float32Array;
  /** The current value of a trained parameter (PyTorch name, tfjs layout). */
  weight(name: string): Float32Array;
}

export interface OnnxStepResult {
  loss: number;
  /** [clips, classes] row-major. */
  clipLogits: Float32Array;
  /** Gradient of the loss by parameter name, tfjs layout. */
  grads: Map<string, { data: Float32Array; shape: number[] }>;
  /** Per BatchNorm: the batch's mean and biased variance, and how many values each channel had. */
  statistics: Map<string, { mean: Float32Array; variance: Float32Array; count: number }>;
}

/** Resident memory one clip's training step takes on ONNX Runtime (measured: 2.8 GiB at T = 8, 224², width 64). */
export function onnxStepBytesPerClip(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>): number {
  return 7.5 * 1024 * config.frames * config.inputSize ** 2 * (config.baseWidth / 64);
}

/** Clips one step may run at once within half the machine's memory (at least 1, at most the batch). */
export function onnxClipsPerPass(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>, batch: number, memory = totalmem()): number {
  return Math.max(1, Math.min(batch, Math.floor(memory / 2 / onnxStepBytesPerClip(config))));
}

export class OnnxTrainingStep {
  /** One session per shard size (the graph's shapes are fixed); a run usually needs one or two. */
  private readonly sessions = new Map<number, Promise<{ session: ort.InferenceSession; graph: TrainingGraph }>>();

  constructor(
    readonly config: StmConfig,
    readonly fromStage: number,
    private readonly dropout: boolean,
    readonly threads = availableParallelism(),
  ) {}

  /** Floats of one clip's input. */
  get clipValues(): number {
    return this.config.frames * stageInputShape(this.config, this.fromStage).reduce((a, b) => a * b, 1);
  }

  async run(input: OnnxStepInput): Promise<OnnxStepResult> {
    const { session, graph } = await this.sessionFor(input.clips);
    const [h, w, c] = stageInputShape(this.config, this.fromStage);
    const batch = input.clips * this.config.frames;
    const feeds: Record<string, ort.Tensor> = {
      [TRAINING_INPUTS.x]: new ort.Tensor('float32', input.x, [batch, h, w, c]),
      [TRAINING_INPUTS.target]: new ort.Tensor('float32', input.target, [input.clips, this.config.classes]),
    };
    if (this.dropout) {
      if (!input.keep) throw new Error('the training graph has dropout: a keep mask is needed');
      feeds[TRAINING_INPUTS.keep] = new ort.Tensor('float32', input.keep, [batch, input.keep.length / batch]);
    }
    for (const p of graph.params) feeds[p.name] = new ort.Tensor('float32', input.weight(p.name), p.shape);
    const out = await session.run(feeds);
    const grads = new Map(graph.params.map((p) => [p.name, { data: out[gradientOutput(p.name)].data as Float32Array, shape: p.shape }]));
    const statistics = new Map(
      graph.batchNorms.map((bn) => [
        bn.name,
        { mean: out[meanOutput(bn.name)].data as Float32Array, variance: out[varianceOutput(bn.name)].data as Float32Array, count: bn.count },
      ]),
    );
    return { loss: (out[TRAINING_OUTPUTS.loss].data as Float32Array)[0], clipLogits: out[TRAINING_OUTPUTS.clipLogits].data as Float32Array, grads, statistics };
  }

  private sessionFor(clips: number): Promise<{ session: ort.InferenceSession; graph: TrainingGraph }> {
    let made = this.sessions.get(clips);
    if (!made) {
      made = this.open(clips);
      this.sessions.set(clips, made);
    }
    return made;
  }

  private async open(clips: number): Promise<{ session: ort.InferenceSession; graph: TrainingGraph }> {
    const graph = buildTrainingGraph(this.config, { clips, fromStage: this.fromStage, dropout: this.dropout });
    try {
      const session = await ort.InferenceSession.create(graph.bytes, {
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        executionProviders: ['cpu'],
      });
      return { session, graph };
    } catch (err) {
      throw new UserError('unavailable', `ONNX Runtime cannot run the training step: ${(err as Error).message}`);
    }
  }

  async dispose(): Promise<void> {
    const opened = await Promise.allSettled(this.sessions.values());
    this.sessions.clear();
    await Promise.all(opened.map((o) => (o.status === 'fulfilled' ? o.value.session.release() : undefined)));
  }
}
