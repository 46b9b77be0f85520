import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { BN_EPSILON, resolveStmConfig, type StmConfig } from './config.ts';
import { networkSpec, type BlockSpec, type NetworkSpec, type ParamSpec } from './parameters.ts';
import { tfShapeOf, tfToTorch, torchToTf } from './layout.ts';
import type { StoredTensor } from './safetensors.ts';
import { channelMotion, temporalConv, torchConv2d } from './ops.ts';
import { batchNormTraining, moveRunningStatistics } from './batch-norm.ts';
import { recomputeInBackward } from './recompute.ts';

export interface ForwardOptions {
  /** Training mode: batch statistics in BatchNorm (and running stats updated), dropout active. */
  training?: boolean;
  /** Update BatchNorm running statistics in training mode (default true). */
  updateStats?: boolean;
  /**
   * Gradient checkpointing in training mode (default true): the backward pass keeps only the stem's and
   * each block's input and runs that part's forward again, about a fifth more time for a fraction of the
   * memory (what lets STM-R50 train at 224² within wasm's 4 GiB). A number checkpoints only the first that
   * many stages (the stem is stage 0): the early stages hold most of the activations, the late ones most
   * of the arithmetic.
   */
  recompute?: boolean | number;
  /**
   * A frozen prefix: the stem and the first N stages run in inference mode (running statistics, nothing
   * recomputed or recorded for the backward pass), as when they are kept fixed while fine-tuning.
   */
  frozenStages?: number;
  /**
   * x is the feature map that the first N stages produce ([N·T, h, w, c], computed elsewhere, e.g. a frozen
   * prefix on ONNX Runtime), not frames: the network runs from stage N + 1.
   */
  fromStage?: number;
}

export interface ForwardResult {
  /** Per-frame logits [N·T, classes]. */
  frameLogits: tf.Tensor2D;
  /** Clip consensus: mean over the T frames of each clip [N, classes]. */
  clipLogits: tf.Tensor2D;
}

/** Feature maps after the stem (conv1, bn, relu, max-pool) and after each stage, NHWC. */
export type FeatureTaps = Record<'stem' | 'layer1' | 'layer2' | 'layer3' | 'layer4', tf.Tensor4D>;

/** What loading a state dict did, by PyTorch name. */
export interface LoadReport {
  matched: string[];
  /** Parameters of the network that the state dict lacks (they keep their current value). */
  missing: string[];
  /** Entries of the state dict that the network has no parameter for (ignored). */
  unexpected: string[];
}

export interface StmNetwork {
  readonly config: StmConfig;
  /** Every parameter and buffer of the network in PyTorch state_dict order. */
  readonly params: readonly ParamSpec[];
  /**
   * Runs clips laid out frame-major in the batch axis: x is [N·T, H, W, 3] with the T frames of each
   * clip contiguous; H and W multiples of 32. Works inside tf.variableGrads / optimizer.minimize.
   */
  forward(x: tf.Tensor4D, options?: ForwardOptions): ForwardResult;
  /** Inference-mode feature maps, to compare a run against a reference stage by stage. */
  features(x: tf.Tensor4D): FeatureTaps;
  /** The trainable variables (not BatchNorm running statistics). */
  trainableVariables(): tf.Variable[];
  /** Every variable by PyTorch name (trainable and running statistics), TF layout. */
  variables(): ReadonlyMap<string, tf.Variable>;
  /** A copy of every parameter and buffer, PyTorch names and layouts, F32 (read asynchronously: GPU backends have no synchronous read in Node). */
  stateDict(): Promise<Map<string, StoredTensor>>;
  /**
   * Assigns the entries whose name is a parameter of the network (PyTorch layout). A shape mismatch
   * is a UserError naming the tensor; with `strict`, missing parameters are an error too.
   */
  loadState(state: ReadonlyMap<string, StoredTensor>, options?: { strict?: boolean; source?: string }): LoadReport;
  dispose(): void;
}

export interface CreateOptions {
  /** Seed for the random initialisation (reproducible weights). */
  seed?: number;
  /**
   * Every weight, PyTorch names and layouts (e.g. a checkpoint's tensors): the network starts from them
   * instead of a random init. Missing or mis-shaped tensors are a UserError naming them; `source` names the file.
   */
  weights?: ReadonlyMap<string, StoredTensor>;
  source?: string;
}

/** Builds an STM network with the paper's initialisation (temporal conv quarters, He init for convs). */
export function createStmNetwork(config: Partial<StmConfig> = {}, options: CreateOptions = {}): StmNetwork {
  const resolved = resolveStmConfig(config);
  const spec = networkSpec(resolved);
  const vars = new Map<string, tf.Variable>();
  let seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  for (const p of spec.params) {
    // With given weights the init values are overwritten at once: skip drawing random numbers for them.
    const init = options.weights ? (p.init === 'ones' ? 'ones' : 'zeros') : p.init;
    vars.set(p.name, tf.tidy(() => tf.variable(initialValue({ ...p, init }, seed++), p.trainable)));
  }
  const network = new TfStmNetwork(resolved, spec, vars);
  if (options.weights) {
    try {
      network.loadState(options.weights, { strict: true, source: options.source });
    } catch (err) {
      network.dispose();
      throw err;
    }
  }
  return network;
}

function initialValue(p: ParamSpec, seed: number): tf.Tensor {
  const shape = tfShapeOf(p.kind, p.torchShape);
  switch (p.init) {
    case 'ones':
      return tf.ones(shape);
    case 'zeros':
      return tf.zeros(shape);
    case 'fc-normal':
      return tf.randomNormal(shape, 0, 0.001, 'float32', seed);
    case 'he': {
      // Kaiming normal, fan_out mode, as torchvision initialises ResNet convolutions.
      const [out, , kh, kw] = p.torchShape;
      return tf.randomNormal(shape, 0, Math.sqrt(2 / (out * kh * kw)), 'float32', seed);
    }
    case 'temporal-shift':
      return tf.tensor(torchToTf('temporal', temporalShiftKernel(p.torchShape[0]), p.torchShape), shape);
  }
}

/**
 * The paper's temporal init, PyTorch layout [C,1,3]: first quarter [1,0,0] (out[t] = x[t−1]),
 * last quarter [0,0,1] (out[t] = x[t+1]), middle half [0,1,0] (identity).
 */
export function temporalShiftKernel(channels: number): Float32Array {
  const kernel = new Float32Array(channels * 3);
  const quarter = Math.floor(channels / 4);
  for (let c = 0; c < channels; c++) {
    const tap = c < quarter ? 0 : c >= channels - quarter ? 2 : 1;
    kernel[c * 3 + tap] = 1;
  }
  return kernel;
}

class TfStmNetwork implements StmNetwork {
  readonly params: readonly ParamSpec[];
  private disposed = false;
  private readonly paramsBySegment = new Map<string, tf.Variable[]>();

  constructor(
    readonly config: StmConfig,
    private readonly spec: NetworkSpec,
    private readonly vars: Map<string, tf.Variable>,
  ) {
    this.params = spec.params;
  }

  forward(x: tf.Tensor4D, options: ForwardOptions = {}): ForwardResult {
    const training = options.training ?? false;
    const updateStats = training && (options.updateStats ?? true);
    const asked = options.recompute ?? true;
    const recomputedStages = !training || asked === false ? 0 : asked === true ? STAGES : asked;
    const prefix = { frozen: options.frozenStages ?? 0, from: options.fromStage ?? 0 };
    return tf.tidy(() => {
      const features = this.backbone(x, { training, updateStats }, recomputedStages, prefix).layer4;
      let pooled = tf.mean(features, [1, 2]) as tf.Tensor2D;
      if (training && this.config.dropout > 0) pooled = tf.dropout(pooled, this.config.dropout) as tf.Tensor2D;
      const frameLogits = tf.add(tf.matMul(pooled, this.v('fc.weight')), this.v('fc.bias')) as tf.Tensor2D;
      const clips = frameLogits.shape[0] / this.config.frames;
      const clipLogits = tf.mean(tf.reshape(frameLogits, [clips, this.config.frames, this.config.classes]), 1) as tf.Tensor2D;
      return { frameLogits, clipLogits };
    });
  }

  features(x: tf.Tensor4D): FeatureTaps {
    return tf.tidy(() => this.backbone(x, { training: false, updateStats: false }, 0));
  }

  /** Stages before `recomputedStages` (the stem is stage 0) are recomputed in the backward pass, the rest kept. */
  private backbone(x: tf.Tensor4D, base: Omit<Mode, 'recompute'>, recomputedStages: number, prefix = { frozen: 0, from: 0 }): FeatureTaps {
    this.checkInput(x, prefix.from);
    const fixed: Mode = { training: false, updateStats: false, recompute: false };
    const recomputed: Mode = { ...base, recompute: true };
    const kept: Mode = { ...base, recompute: false };
    // Stage 0 is the stem; stage i ≥ 1 is layer i. The first stage that learns needs no input gradient.
    const modeOf = (stage: number) => (stage <= prefix.frozen && prefix.frozen > 0 ? fixed : stage < recomputedStages ? recomputed : kept);
    const firstLearning = Math.max(prefix.frozen, prefix.from) + 1;
    let h = prefix.from > 0 ? x : this.segment(x, 'stem', false, modeOf(0), (input, m) => this.stem(input, m));
    const taps: Partial<FeatureTaps> = prefix.from > 0 ? { [`layer${prefix.from}`]: h } : { stem: h };
    this.spec.blocks.forEach((stage, i) => {
      if (i + 1 <= prefix.from) return;
      stage.forEach((block, b) => {
        const inputGradient = !(i + 1 === firstLearning && b === 0 && firstLearning > 1);
        h = this.segment(h, block.prefix, inputGradient, modeOf(i + 1), (input, m) => this.block(input, block, m));
      });
      taps[`layer${i + 1}` as keyof FeatureTaps] = h;
    });
    return taps as FeatureTaps;
  }

  /** Runs one part of the backbone, checkpointed (recomputed in the backward pass) when the mode asks for it. */
  private segment(x: tf.Tensor4D, name: string, inputGradient: boolean, mode: Mode, body: (x: tf.Tensor4D, mode: Mode) => tf.Tensor4D): tf.Tensor4D {
    if (!mode.recompute) return body(x, mode);
    return recomputeInBackward(x, {
      run: (input) => body(input, mode),
      rerun: (input) => body(input, { ...mode, updateStats: false }),
      params: this.segmentParams(name),
      inputGradient,
    });
  }

  private segmentParams(name: string): tf.Variable[] {
    let params = this.paramsBySegment.get(name);
    if (!params) {
      const owned = name === 'stem' ? (p: ParamSpec) => p.name === 'conv1.weight' || p.name.startsWith('bn1.') : (p: ParamSpec) => p.name.startsWith(`${name}.`);
      params = this.spec.params.filter((p) => p.trainable && owned(p)).map((p) => this.v(p.name));
      this.paramsBySegment.set(name, params);
    }
    return params;
  }

  private stem(x: tf.Tensor4D, mode: Mode): tf.Tensor4D {
    const h = this.batchNorm(torchConv2d(x, this.v4('conv1.weight'), 2, 3), 'bn1', mode, true);
    // Zero padding equals PyTorch's −∞ padding here: the values are ReLU outputs (≥ 0).
    return tf.maxPool(tf.pad(h, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid');
  }

  private block(x: tf.Tensor4D, b: BlockSpec, mode: Mode): tf.Tensor4D {
    const p = b.prefix;
    const reduced = this.batchNorm(torchConv2d(x, this.v4(`${p}.conv1.weight`), 1, 0), `${p}.bn1`, mode, true);
    const shifted = b.cstm ? temporalConv(reduced, this.v4(`${p}.shift.weight`), this.config.frames) : reduced;
    let mixed = this.batchNorm(torchConv2d(shifted, this.v4(`${p}.conv2.weight`), b.stride, 1), `${p}.bn2`, mode, true);
    if (b.cmm) mixed = tf.add(mixed, this.motion(reduced, b, mode));
    const out = this.batchNorm(torchConv2d(mixed, this.v4(`${p}.conv3.weight`), 1, 0), `${p}.bn3`, mode);
    const shortcut = b.hasDownsample
      ? this.batchNorm(torchConv2d(x, this.v4(`${p}.downsample.0.weight`), b.stride, 0), `${p}.downsample.1`, mode)
      : x;
    return tf.relu(tf.add(out, shortcut));
  }

  private motion(x: tf.Tensor4D, b: BlockSpec, mode: Mode): tf.Tensor4D {
    const p = `${b.prefix}.mb`;
    const weights = { stageConv: this.v4(`${p}.stage_conv.weight`), shift: this.v4(`${p}.shift.weight`), conv1x1: this.v4(`${p}.conv1x1.weight`) };
    return channelMotion(x, weights, (reduced) => this.batchNorm(reduced, `${p}.stage_bn`, mode), this.config.frames, b.stride);
  }

  /** BatchNorm (then ReLU when `relu`): running statistics in inference, batch statistics in training. */
  private batchNorm(x: tf.Tensor4D, prefix: string, mode: Mode, relu = false): tf.Tensor4D {
    const gamma = this.v(`${prefix}.weight`) as tf.Tensor1D;
    const beta = this.v(`${prefix}.bias`) as tf.Tensor1D;
    const runningMean = this.v(`${prefix}.running_mean`);
    const runningVar = this.v(`${prefix}.running_var`);
    if (!mode.training) {
      const normalised = tf.batchNorm4d(x, runningMean as tf.Tensor1D, runningVar as tf.Tensor1D, beta, gamma, BN_EPSILON);
      return relu ? tf.relu(normalised) : normalised;
    }
    const count = x.shape[0] * x.shape[1] * x.shape[2];
    const running = { mean: runningMean, variance: runningVar };
    const onStatistics = (mean: tf.Tensor1D, variance: tf.Tensor1D) => moveRunningStatistics(running, mean, variance, count);
    return batchNormTraining(x, gamma, beta, { epsilon: BN_EPSILON, relu, onStatistics: mode.updateStats ? onStatistics : undefined });
  }

  private checkInput(x: tf.Tensor4D, fromStage: number): void {
    if (this.disposed) throw new Error('STM network used after dispose()');
    const [nt, height, width, channels] = x.shape;
    const t = this.config.frames;
    if (fromStage > 0) {
      if (x.rank !== 4 || nt === 0 || nt % t !== 0) throw new UserError('invalid_input', `stage ${fromStage} features must be [N·T, h, w, c] with N·T a multiple of T = ${t}, got [${x.shape.join(', ')}]`);
      return;
    }
    if (x.rank !== 4 || channels !== 3) throw new UserError('invalid_input', `model input must be [N·T, H, W, 3], got [${x.shape.join(', ')}]`);
    if (nt === 0 || nt % t !== 0) throw new UserError('invalid_input', `model input has ${nt} frames, not a multiple of T = ${t}`);
    if (height % 32 !== 0 || width % 32 !== 0 || height === 0 || width === 0) {
      throw new UserError('invalid_input', `model input frames are ${height}×${width}; both sides must be multiples of 32`);
    }
  }

  private v4(name: string): tf.Tensor4D {
    return this.v(name) as tf.Tensor4D;
  }

  private v(name: string): tf.Variable {
    const variable = this.vars.get(name);
    if (!variable) throw new Error(`STM network has no parameter ${name}`);
    return variable;
  }

  trainableVariables(): tf.Variable[] {
    return this.spec.params.filter((p) => p.trainable).map((p) => this.v(p.name));
  }

  variables(): ReadonlyMap<string, tf.Variable> {
    return this.vars;
  }

  async stateDict(): Promise<Map<string, StoredTensor>> {
    const state = new Map<string, StoredTensor>();
    for (const p of this.spec.params) {
      const data = (await this.v(p.name).data()) as Float32Array;
      state.set(p.name, { dtype: 'F32', shape: [...p.torchShape], data: tfToTorch(p.kind, data, p.torchShape).slice() });
    }
    return state;
  }

  loadState(state: ReadonlyMap<string, StoredTensor>, options: { strict?: boolean; source?: string } = {}): LoadReport {
    const source = options.source ? `${options.source}: ` : '';
    const byName = new Map(this.spec.params.map((p) => [p.name, p]));
    const report: LoadReport = { matched: [], missing: [], unexpected: [] };
    const values = new Map<string, Float32Array>();
    for (const [name, tensor] of state) {
      const p = byName.get(name);
      if (!p) {
        report.unexpected.push(name);
        continue;
      }
      if (tensor.dtype !== 'F32') throw new UserError('invalid_input', `${source}tensor "${name}" is ${tensor.dtype}, expected floating point`);
      if (tensor.shape.length !== p.torchShape.length || tensor.shape.some((d, i) => d !== p.torchShape[i])) {
        throw new UserError(
          'invalid_input',
          `${source}tensor "${name}" has shape [${tensor.shape.join(',')}], the model expects [${p.torchShape.join(',')}]`,
        );
      }
      values.set(name, torchToTf(p.kind, tensor.data as Float32Array, p.torchShape));
      report.matched.push(name);
    }
    report.missing = this.spec.params.filter((p) => !values.has(p.name)).map((p) => p.name);
    if (options.strict && report.missing.length > 0) {
      throw new UserError('invalid_input', `${source}missing ${report.missing.length} tensors, first "${report.missing[0]}"`);
    }
    // Assign only after every check passed, so a bad file leaves the network unchanged.
    for (const [name, data] of values) {
      const p = byName.get(name)!;
      tf.tidy(() => this.v(name).assign(tf.tensor(data, tfShapeOf(p.kind, p.torchShape))));
    }
    return report;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.vars.values()) variable.dispose();
  }
}

/** The stem and the four stages of layers. */
const STAGES = 5;

interface Mode {
  training: boolean;
  updateStats: boolean;
  recompute: boolean;
}
