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
import { buildTrainingGraph, gradientOutput, meanOutput, TRAINING_INPUTS, TRAINING_OUTPUTS, varianceOutput, type TrainingGraph, type TrainingGraphMode } from '../model/onnx/training-graph.ts';
import { stageInputShape } from '../model/parameters.ts';
import { nativeWork } from '../model/onnx/native-work.ts';
import { cpuSessionOptions } from '../model/onnx/providers.ts';

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

/** Per BatchNorm: the batch's mean and biased variance, and how many values each channel had. */
export type BatchStatistics = Map<string, { mean: Float32Array; variance: Float32Array; count: number }>;

export interface OnnxStepResult {
  loss: number;
  /** [clips, classes] row-major. */
  clipLogits: Float32Array;
  /** Gradient of the loss by parameter name, tfjs layout. */
  grads: Map<string, { data: Float32Array; shape: number[] }>;
  statistics: BatchStatistics;
}

/** Resident memory one clip's training step takes on ONNX Runtime (measured: 1.6 GiB at T = 8, 224², width 64). */
export function onnxStepBytesPerClip(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>): number {
  return 4.5 * 1024 * config.frames * config.inputSize ** 2 * (config.baseWidth / 64);
}

/** Clips one step may run at once within half the machine's memory (at least 1, at most the batch). */
export function onnxClipsPerPass(config: Pick<StmConfig, 'frames' | 'inputSize' | 'baseWidth'>, batch: number, memory = totalmem()): number {
  return Math.max(1, Math.min(batch, Math.floor(memory / 2 / onnxStepBytesPerClip(config))));
}

/**
 * The training graphs of one run on ONNX Runtime: the step, and for precise BatchNorm and validation the
 * forward pass alone, in training mode (batch statistics) and in inference mode (clip logits).
 */
export class OnnxTrainingStep {
  /**
   * One session per mode, for one shard size at a time (the graphs' shapes are fixed): a session keeps the
   * memory its largest run needed, so a smaller last batch replaces the step's session rather than adding one.
   */
  private readonly sessions = new Map<TrainingGraphMode, { clips: number; made: Promise<{ session: ort.InferenceSession; graph: TrainingGraph }> }>();

  constructor(
    readonly config: StmConfig,
    readonly fromStage: number,
    private readonly dropout: boolean,
    readonly threads = availableParallelism(),
  ) {}

  async run(input: OnnxStepInput): Promise<OnnxStepResult> {
    const feeds = this.feeds(input.x, input.clips);
    feeds[TRAINING_INPUTS.target] = new ort.Tensor('float32', input.target, [input.clips, this.config.classes]);
    if (this.dropout) {
      if (!input.keep) throw new Error('the training graph has dropout: a keep mask is needed');
      const batch = input.clips * this.config.frames;
      feeds[TRAINING_INPUTS.keep] = new ort.Tensor('float32', input.keep, [batch, input.keep.length / batch]);
    }
    const { graph, out } = await this.runGraph('train', input.clips, feeds, input.weight);
    const grads = new Map(graph.params.map((p) => [p.name, { data: out[gradientOutput(p.name)].data as Float32Array, shape: p.shape }]));
    return { loss: (out[TRAINING_OUTPUTS.loss].data as Float32Array)[0], clipLogits: out[TRAINING_OUTPUTS.clipLogits].data as Float32Array, grads, statistics: statisticsOf(graph, out) };
  }

  /** The batch statistics of every BatchNorm trained, for frames (or feature maps) `x` of `clips` clips. */
  async statistics(x: Float32Array, clips: number, weight: (name: string) => Float32Array): Promise<BatchStatistics> {
    const { graph, out } = await this.runGraph('statistics', clips, this.feeds(x, clips), weight);
    return statisticsOf(graph, out);
  }

  /** Inference-mode clip logits [clips, classes]; `weight` also gives the running statistics by name. */
  async predict(x: Float32Array, clips: number, weight: (name: string) => Float32Array): Promise<Float32Array> {
    const { out } = await this.runGraph('inference', clips, this.feeds(x, clips), weight);
    return out[TRAINING_OUTPUTS.clipLogits].data as Float32Array;
  }

  private feeds(x: Float32Array, clips: number): Record<string, ort.Tensor> {
    const [h, w, c] = stageInputShape(this.config, this.fromStage);
    return { [TRAINING_INPUTS.x]: new ort.Tensor('float32', x, [clips * this.config.frames, h, w, c]) };
  }

  private async runGraph(mode: TrainingGraphMode, clips: number, feeds: Record<string, ort.Tensor>, weight: (name: string) => Float32Array) {
    const { session, graph } = await this.sessionFor(mode, clips);
    for (const p of graph.params) feeds[p.name] = new ort.Tensor('float32', weight(p.name), p.shape);
    return { graph, out: await nativeWork(() => session.run(feeds)) };
  }

  private async sessionFor(mode: TrainingGraphMode, clips: number): Promise<{ session: ort.InferenceSession; graph: TrainingGraph }> {
    const current = this.sessions.get(mode);
    if (current?.clips === clips) return current.made;
    this.sessions.delete(mode);
    if (current) await release(current.made);
    const made = this.open(mode, clips);
    this.sessions.set(mode, { clips, made });
    return made;
  }

  private async open(mode: TrainingGraphMode, clips: number): Promise<{ session: ort.InferenceSession; graph: TrainingGraph }> {
    const graph = buildTrainingGraph(this.config, { clips, fromStage: this.fromStage, dropout: this.dropout, mode });
    try {
      const session = await nativeWork(() => ort.InferenceSession.create(graph.bytes, {
        ...cpuSessionOptions(this.threads),
        // Without a precomputed memory pattern the arena reuses freed activations: a step's resident memory
        // falls from 6.2 to 3.5 GiB (STM-R50, 2 clips at 224²), the first runs are faster and the rest as fast.
        enableMemPattern: false,
        executionProviders: ['cpu'],
      }));
      return { session, graph };
    } catch (err) {
      throw new UserError('unavailable', `ONNX Runtime cannot run the training graph (${mode}): ${(err as Error).message}`);
    }
  }

  async dispose(): Promise<void> {
    const opened = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(opened.map((o) => release(o.made)));
  }
}

async function release(made: Promise<{ session: ort.InferenceSession }>): Promise<void> {
  const opened = await made.catch(() => null);
  if (opened) await nativeWork(() => opened.session.release());
}

function statisticsOf(graph: TrainingGraph, out: ort.InferenceSession.OnnxValueMapType): BatchStatistics {
  return new Map(
    graph.batchNorms.map((bn) => [bn.name, { mean: out[meanOutput(bn.name)].data as Float32Array, variance: out[varianceOutput(bn.name)].data as Float32Array, count: bn.count }]),
  );
}
