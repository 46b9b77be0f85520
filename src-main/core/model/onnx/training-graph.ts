/**
 * One training step of an STM network as an ONNX graph, for ONNX Runtime: the forward pass in training mode
 * (BatchNorm on batch statistics), the weighted cross-entropy, and the backward pass written out node by node
 * through a gradient tape, so the convolutions and their gradients run on ONNX Runtime's native kernels.
 *
 * Weights are graph inputs in the tfjs layout (what the network's variables hold), so nothing is rebuilt when
 * they change; the graph converts them to NCHW convolution kernels itself and returns gradients in the same
 * tfjs layout. Inputs: `x` (frames [clips·T, S, S, 3] normalised, or the NHWC feature maps of stage
 * `fromStage` when a frozen prefix ran elsewhere), `target` [clips, classes] (each clip's one-hot label times
 * its class weight over the batch's total weight) and, with dropout, `keep` [clips·T, features] (0 or
 * 1/(1 − p)). Outputs: `loss`, `clip_logits`, `grad:<parameter>` and, for every BatchNorm trained,
 * `mean:<bn>` and `var:<bn>` (the batch's mean and biased variance).
 */
import { BN_EPSILON, type StmConfig } from '../config.ts';
import { tfShapeOf } from '../layout.ts';
import { inFrozenPrefix, networkSpec, stageInputShape, type BlockSpec, type ParamSpec } from '../parameters.ts';
import { OnnxGraphBuilder, type ValueSpec } from './graph-builder.ts';
import { GradientTape } from './gradient-tape.ts';
import { ONNX_OPSET } from './export.ts';

export const TRAINING_INPUTS = { x: 'x', target: 'target', keep: 'keep' } as const;
export const TRAINING_OUTPUTS = { loss: 'loss', clipLogits: 'clip_logits' } as const;
export const gradientOutput = (param: string) => `grad:${param}`;
export const meanOutput = (bn: string) => `mean:${bn}`;
export const varianceOutput = (bn: string) => `var:${bn}`;

/**
 * - `train`: the step — loss, gradients and batch statistics;
 * - `statistics`: the forward pass in training mode, only the batch statistics (precise BatchNorm);
 * - `inference`: clip logits with the running statistics, which become inputs `<bn>.running_mean` and
 *   `<bn>.running_var` (validation during a run).
 */
export type TrainingGraphMode = 'train' | 'statistics' | 'inference';

export interface TrainingGraphOptions {
  /** Clips per run (the graph's shapes are fixed). */
  clips: number;
  /** 0: the input is frames; N: the feature maps of stage N (stem and stages 1–N are not trained). */
  fromStage: number;
  /** Dropout before the classifier: adds the `keep` input (train mode only). */
  dropout: boolean;
  mode?: TrainingGraphMode;
}

export interface TrainingGraph {
  bytes: Uint8Array;
  /**
   * The graph's weight inputs, PyTorch names, tfjs shapes: the trained parameters (in train mode also the
   * `grad:<name>` outputs), without the classifier in statistics mode, with the running statistics in
   * inference mode.
   */
  params: Array<{ name: string; shape: number[] }>;
  /** The BatchNorm layers whose batch statistics are outputs (their running statistics move with them). */
  batchNorms: Array<{ name: string; count: number }>;
}

type Shape = [number, number, number, number];
/** An NCHW tensor of the graph with its static shape. */
interface Feature {
  name: string;
  shape: Shape;
}

export function buildTrainingGraph(config: StmConfig, options: TrainingGraphOptions): TrainingGraph {
  return new TrainingGraphBuilder(config, options).build();
}

class TrainingGraphBuilder {
  private readonly g = new OnnxGraphBuilder();
  private readonly tape = new GradientTape(this.g);
  private readonly params: ParamSpec[];
  private readonly paramShapes = new Map<string, number[]>();
  private readonly batchNorms: TrainingGraph['batchNorms'] = [];
  private readonly statistics: ValueSpec[] = [];
  private readonly runningInputs: Array<{ name: string; shape: number[] }> = [];
  private readonly frames: number;
  private readonly clips: number;
  private readonly mode: TrainingGraphMode;

  constructor(
    private readonly config: StmConfig,
    private readonly options: TrainingGraphOptions,
  ) {
    this.frames = config.frames;
    this.clips = options.clips;
    this.mode = options.mode ?? 'train';
    const withHead = this.mode !== 'statistics';
    this.params = networkSpec(config).params.filter((p) => p.trainable && !inFrozenPrefix(p.name, options.fromStage) && (withHead || !p.name.startsWith('fc.')));
    for (const p of this.params) {
      this.paramShapes.set(p.name, tfShapeOf(p.kind, p.torchShape));
      this.tape.track(p.name);
    }
  }

  build(): TrainingGraph {
    const { fromStage } = this.options;
    const spec = networkSpec(this.config);
    const [h, w, c] = stageInputShape(this.config, fromStage);
    const batch = this.clips * this.frames;
    const input: ValueSpec = { name: TRAINING_INPUTS.x, elementType: 'float', dims: [batch, h, w, c] };
    let x: Feature = { name: this.g.node('Transpose', [input.name], 'x.nchw', { perm: [0, 3, 1, 2] }), shape: [batch, c, h, w] };
    if (fromStage === 0) x = this.stem(x);
    spec.blocks.forEach((stage, i) => {
      if (i + 1 > fromStage) for (const block of stage) x = this.block(x, block);
    });
    const classes = this.config.classes;
    const extra: ValueSpec[] = [];
    const outputs: ValueSpec[] = [];
    if (this.mode === 'train') {
      extra.push({ name: TRAINING_INPUTS.target, elementType: 'float', dims: [this.clips, classes] });
      if (this.options.dropout) extra.push({ name: TRAINING_INPUTS.keep, elementType: 'float', dims: [batch, spec.featureChannels] });
      this.trainingHead(x);
      outputs.push(
        { name: TRAINING_OUTPUTS.loss, elementType: 'float', dims: [] },
        { name: TRAINING_OUTPUTS.clipLogits, elementType: 'float', dims: [this.clips, classes] },
        ...this.params.map((p) => ({ name: gradientOutput(p.name), elementType: 'float' as const, dims: this.paramShapes.get(p.name)! })),
      );
      for (const p of this.params) {
        const grad = this.tape.gradientOf(p.name);
        if (!grad) throw new Error(`training graph: no gradient reaches ${p.name}`);
        this.g.node('Identity', [grad], gradientOutput(p.name));
      }
    } else if (this.mode === 'inference') {
      this.classify(x);
      outputs.push({ name: TRAINING_OUTPUTS.clipLogits, elementType: 'float', dims: [this.clips, classes] });
    }
    if (this.mode !== 'inference') outputs.push(...this.statistics);
    const weights = [...this.params.map((p) => ({ name: p.name, shape: this.paramShapes.get(p.name)! })), ...this.runningInputs];
    const bytes = this.g.encode({
      graphName: `stm_${this.config.variant}_${this.mode}`,
      inputs: [input, ...extra, ...weights.map((p) => ({ name: p.name, elementType: 'float' as const, dims: p.shape }))],
      outputs,
      opset: ONNX_OPSET,
      docString: `STM (${this.config.variant}) ${this.mode === 'train' ? 'training step: loss, gradients and BatchNorm batch statistics' : this.mode === 'statistics' ? 'BatchNorm batch statistics' : 'clip logits with the running statistics'} of ${this.clips} clip(s)`,
      metadata: { variant: this.config.variant, frames: String(this.frames), from_stage: String(fromStage), clips: String(this.clips), mode: this.mode },
    });
    return { bytes, params: weights, batchNorms: this.batchNorms };
  }

  private stem(x: Feature): Feature {
    const h = this.batchNorm(this.conv(x, 'conv1.weight', { stride: 2, pad: 3 }), 'bn1', true);
    return this.maxPool(h, 3, 2, 1);
  }

  private block(x: Feature, b: BlockSpec): Feature {
    const p = b.prefix;
    const reduced = this.batchNorm(this.conv(x, `${p}.conv1.weight`, { stride: 1, pad: 0 }), `${p}.bn1`, true);
    const shifted = b.cstm ? this.temporalShift(reduced, `${p}.shift.weight`) : reduced;
    let mixed = this.batchNorm(this.conv(shifted, `${p}.conv2.weight`, { stride: b.stride, pad: 1 }), `${p}.bn2`, true);
    if (b.cmm) mixed = this.add(mixed, this.motion(reduced, b), `${p}.sum`);
    const out = this.batchNorm(this.conv(mixed, `${p}.conv3.weight`, { stride: 1, pad: 0 }), `${p}.bn3`, false);
    const shortcut = b.hasDownsample
      ? this.batchNorm(this.conv(x, `${p}.downsample.0.weight`, { stride: b.stride, pad: 0 }), `${p}.downsample.1`, false)
      : x;
    return this.relu(this.add(out, shortcut, `${p}.residual`));
  }

  /** CMM: 1×1 reduce + BN, depthwise 3×3, conv(F[t+1]) − F[t] (zero at the last step), 1×1 restore, pool at stride 2. */
  private motion(x: Feature, b: BlockSpec): Feature {
    const p = `${b.prefix}.mb`;
    const reduced = this.batchNorm(this.conv(x, `${p}.stage_conv.weight`, { stride: 1, pad: 0 }), `${p}.stage_bn`, false);
    const next = this.conv(reduced, `${p}.shift.weight`, { stride: 1, pad: 1, depthwise: true });
    const restored = this.conv(this.frameDifference(next, reduced, p), `${p}.conv1x1.weight`, { stride: 1, pad: 0 });
    return b.stride === 2 ? this.maxPool(restored, 2, 2, 0) : restored;
  }

  // ——— ops with their gradients ———

  private conv(x: Feature, weight: string, o: { stride: number; pad: number; depthwise?: boolean }): Feature {
    const g = this.g;
    const [kh, kw, inChannels, outMultiplier] = this.paramShapes.get(weight)!;
    const channels = o.depthwise ? inChannels : outMultiplier;
    const [n, c, h, w] = x.shape;
    const { stride: s, pad: p } = o;
    const ho = Math.floor((h + 2 * p - kh) / s) + 1;
    const wo = Math.floor((w + 2 * p - kw) / s) + 1;
    // tfjs [kh, kw, in, out] → ONNX [out, in, kh, kw]; depthwise [kh, kw, C, 1] → [C, 1, kh, kw].
    const kernel = g.node('Transpose', [weight], `${weight}.oihw`, { perm: o.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1] });
    const attributes = { kernel_shape: [kh, kw], strides: [s, s], pads: [p, p, p, p], group: o.depthwise ? c : 1 };
    const y = g.node('Conv', [x.name, kernel], weight.replace(/\.weight$/, ''), attributes);
    this.tape.record(y, [x.name, weight], (dy) => {
      if (this.tape.tracks(x.name)) {
        // What stride drops at the bottom and right edge comes back as output padding.
        const outputPadding = [h - ((ho - 1) * s - 2 * p + kh), w - ((wo - 1) * s - 2 * p + kw)];
        this.tape.accumulate(x.name, g.node('ConvTranspose', [dy, kernel], `${y}.dx`, { ...attributes, output_padding: outputPadding }));
      }
      const taps = { kh, kw, stride: s, pad: p, ho, wo };
      this.tape.accumulate(weight, o.depthwise ? this.depthwiseFilterGradient(x, dy, taps) : this.filterGradient(x, dy, channels, taps));
    });
    return { name: y, shape: [n, channels, ho, wo] };
  }

  /**
   * Dense filter gradient, tfjs layout [kh, kw, C, O]: for each tap, the strided window of the padded input
   * as [C, N·Ho·Wo] times the output gradient as [O, N·Ho·Wo], transposed — one matrix product per tap.
   */
  private filterGradient(x: Feature, dy: string, outChannels: number, t: Taps): string {
    const g = this.g;
    const [n, c] = x.shape;
    const k = n * t.ho * t.wo;
    const dyRows = g.node('Reshape', [g.node('Transpose', [dy], `${dy}.cnhw`, { perm: [1, 0, 2, 3] }), this.shape([outChannels, k])], `${dy}.rows`);
    const padded = this.padSpatially(x.name, t.pad);
    const channelsFirst = g.node('Transpose', [padded], `${x.name}.cnhw`, { perm: [1, 0, 2, 3] });
    const taps: string[] = [];
    for (let i = 0; i < t.kh; i++) {
      for (let j = 0; j < t.kw; j++) {
        const whole = t.kh === 1 && t.kw === 1 && t.stride === 1;
        const window = whole ? channelsFirst : this.window(channelsFirst, i, j, t);
        const rows = g.node('Reshape', [window, this.shape([c, k])], `${x.name}.tap`);
        taps.push(g.node('Gemm', [rows, dyRows], `${dy}.dw_tap`, { transB: 1 }));
      }
    }
    return this.stackTaps(taps, [t.kh, t.kw, c, outChannels], dy);
  }

  /** Depthwise filter gradient [kh, kw, C, 1]: per tap, Σ over N, H, W of the output gradient times the shifted input. */
  private depthwiseFilterGradient(x: Feature, dy: string, t: Taps): string {
    const g = this.g;
    const c = x.shape[1];
    const padded = this.padSpatially(x.name, t.pad);
    const taps: string[] = [];
    for (let i = 0; i < t.kh; i++) {
      for (let j = 0; j < t.kw; j++) {
        const product = g.node('Mul', [dy, this.window(padded, i, j, t)], `${dy}.dw_product`);
        taps.push(g.node('ReduceSum', [product, this.shape([0, 2, 3])], `${dy}.dw_tap`, { keepdims: 0 }));
      }
    }
    return this.stackTaps(taps, [t.kh, t.kw, c, 1], dy);
  }

  /** x with `pad` zeros around H and W (x itself for 0). */
  private padSpatially(x: string, pad: number): string {
    return pad > 0 ? this.g.node('Pad', [x, this.shape([0, 0, pad, pad, 0, 0, pad, pad])], `${x}.padded`) : x;
  }

  /** The input values that tap (i, j) meets at every output position: a strided slice of the last two axes. */
  private window(padded: string, i: number, j: number, t: Taps): string {
    const ends = [i + t.stride * (t.ho - 1) + 1, j + t.stride * (t.wo - 1) + 1];
    return this.g.node('Slice', [padded, this.shape([i, j]), this.shape(ends), this.shape([2, 3]), this.shape([t.stride, t.stride])], `${padded}.window`);
  }

  private stackTaps(taps: string[], shape: number[], label: string): string {
    const g = this.g;
    if (taps.length === 1) return g.node('Reshape', [taps[0], this.shape(shape)], `${label}.dw`);
    const stacked = g.node('Concat', taps.map((t) => g.node('Unsqueeze', [t, this.shape([0])], `${t}.tap`)), `${label}.dw_taps`, { axis: 0 });
    return g.node('Reshape', [stacked, this.shape(shape)], `${label}.dw`);
  }

  /**
   * Training-mode BatchNorm (then ReLU): y = (x − μ)·γσ⁻¹ + β over N, H, W. Keeps x − μ for the backward
   * pass, dx = a·g + b·(x − μ) + c with per-channel a = γσ⁻¹, b = −aσ⁻²·Σg(x − μ)/M, c = −a·Σg/M.
   */
  private batchNorm(x: Feature, bn: string, relu: boolean): Feature {
    if (this.mode === 'inference') return this.runningBatchNorm(x, bn, relu);
    const g = this.g;
    const [n, c, h, w] = x.shape;
    const count = n * h * w;
    const gamma = `${bn}.weight`;
    const beta = `${bn}.bias`;
    const mean = g.node('ReduceMean', [x.name], `${bn}.mean`, { axes: [0, 2, 3], keepdims: 1 });
    const centred = g.node('Sub', [x.name, mean], `${bn}.centred`);
    const variance = g.node('ReduceMean', [g.node('Mul', [centred, centred], `${bn}.squares`)], `${bn}.variance`, { axes: [0, 2, 3], keepdims: 1 });
    const { invStd, scale, y } = this.normalise(centred, variance, bn, c, relu);
    this.statistics.push(
      { name: g.node('Reshape', [mean, this.shape([c])], meanOutput(bn)), elementType: 'float', dims: [c] },
      { name: g.node('Reshape', [variance, this.shape([c])], varianceOutput(bn)), elementType: 'float', dims: [c] },
    );
    this.batchNorms.push({ name: bn, count });
    this.tape.record(y, [x.name, gamma, beta], (dy) => {
      const grad = relu ? g.node('Mul', [dy, g.node('Sign', [y], `${y}.active`)], `${bn}.relu_grad`) : dy;
      const axes = this.shape([0, 2, 3]);
      const sumGrad = g.node('ReduceSum', [grad, axes], `${bn}.sum_grad`, { keepdims: 1 });
      const sumGradCentred = g.node('ReduceSum', [g.node('Mul', [grad, centred], `${bn}.grad_centred`), axes], `${bn}.sum_grad_centred`, { keepdims: 1 });
      this.tape.accumulate(beta, g.node('Reshape', [sumGrad, this.shape([c])], `${beta}.grad`));
      this.tape.accumulate(gamma, g.node('Reshape', [g.node('Mul', [sumGradCentred, invStd], `${gamma}.grad4`), this.shape([c])], `${gamma}.grad`));
      if (!this.tape.tracks(x.name)) return;
      const minusOverCount = g.scalar(`${bn}.minus_inv_count`, -1 / count);
      const b = g.node('Mul', [g.node('Mul', [scale, g.node('Mul', [invStd, invStd], `${bn}.inv_var`)], `${bn}.b0`), g.node('Mul', [sumGradCentred, minusOverCount], `${bn}.b1`)], `${bn}.b`);
      const cTerm = g.node('Mul', [scale, g.node('Mul', [sumGrad, minusOverCount], `${bn}.c0`)], `${bn}.c`);
      const dx = g.node('Add', [g.node('Add', [g.node('Mul', [grad, scale], `${bn}.ga`), g.node('Mul', [centred, b], `${bn}.xb`)], `${bn}.gaxb`), cTerm], `${bn}.dx`);
      this.tape.accumulate(x.name, dx);
    });
    return { name: y, shape: x.shape };
  }

  /** Inference-mode BatchNorm (then ReLU) with the running statistics, which are graph inputs. */
  private runningBatchNorm(x: Feature, bn: string, relu: boolean): Feature {
    const c = x.shape[1];
    const [mean, variance] = ['running_mean', 'running_var'].map((stat) => {
      this.runningInputs.push({ name: `${bn}.${stat}`, shape: [c] });
      return this.g.node('Reshape', [`${bn}.${stat}`, this.shape([1, c, 1, 1])], `${bn}.${stat}.nchw`);
    });
    const centred = this.g.node('Sub', [x.name, mean], `${bn}.centred`);
    return { name: this.normalise(centred, variance, bn, c, relu).y, shape: x.shape };
  }

  /** (x − μ)·γσ⁻¹ + β (then ReLU) from x − μ and the variance, both [N|1, C, H|1, W|1]; σ⁻¹ and γσ⁻¹ too. */
  private normalise(centred: string, variance: string, bn: string, channels: number, relu: boolean): { invStd: string; scale: string; y: string } {
    const g = this.g;
    const perChannel = this.shape([1, channels, 1, 1]);
    const invStd = g.node('Reciprocal', [g.node('Sqrt', [g.node('Add', [variance, g.scalar(`${bn}.epsilon`, BN_EPSILON)], `${bn}.var_eps`)], `${bn}.std`)], `${bn}.inv_std`);
    const scale = g.node('Mul', [invStd, g.node('Reshape', [`${bn}.weight`, perChannel], `${bn}.weight.nchw`)], `${bn}.scale`);
    const shift = g.node('Reshape', [`${bn}.bias`, perChannel], `${bn}.bias.nchw`);
    const normalised = g.node('Add', [g.node('Mul', [centred, scale], `${bn}.scaled`), shift], bn);
    return { invStd, scale, y: relu ? g.node('Relu', [normalised], `${bn}.relu`) : normalised };
  }

  private relu(x: Feature): Feature {
    const g = this.g;
    const y = g.node('Relu', [x.name], `${x.name}.relu`);
    this.tape.record(y, [x.name], (dy) => this.tape.accumulate(x.name, g.node('Mul', [dy, g.node('Sign', [y], `${y}.active`)], `${y}.grad`)));
    return { name: y, shape: x.shape };
  }

  private add(a: Feature, b: Feature, label: string): Feature {
    const y = this.g.node('Add', [a.name, b.name], label);
    this.tape.record(y, [a.name, b.name], (dy) => {
      this.tape.accumulate(a.name, dy);
      this.tape.accumulate(b.name, dy);
    });
    return { name: y, shape: a.shape };
  }

  /** Max-pool; the gradient goes to each window's maximum, through the indices the forward pass returns. */
  private maxPool(x: Feature, kernel: number, stride: number, pad: number): Feature {
    const g = this.g;
    const [n, c, h, w] = x.shape;
    const [y, indices] = g.nodeWithOutputs('MaxPool', [x.name], [`${x.name}.pool`, `${x.name}.pool_indices`], {
      kernel_shape: [kernel, kernel],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
    });
    this.tape.record(y, [x.name], (dy) => {
      const flat = this.shape([-1]);
      const zeros = g.node('ConstantOfShape', [this.shape([n * c * h * w])], `${y}.zeros`);
      const scattered = g.node('ScatterElements', [zeros, g.node('Reshape', [indices, flat], `${indices}.flat`), g.node('Reshape', [dy, flat], `${dy}.flat`)], `${y}.dx_flat`, {
        axis: 0,
        reduction: 'add',
      });
      this.tape.accumulate(x.name, g.node('Reshape', [scattered, this.shape(x.shape)], `${y}.dx`));
    });
    const ho = Math.floor((h + 2 * pad - kernel) / stride) + 1;
    const wo = Math.floor((w + 2 * pad - kernel) / stride) + 1;
    return { name: y, shape: [n, c, ho, wo] };
  }

  /**
   * CSTM's channel-wise temporal conv, out[t] = w₀·x[t−1] + w₁·x[t] + w₂·x[t+1] per channel (zero beyond
   * the clip), on the [clips, T, C, H·W] view; the weight is tfjs [3, 1, C, 1].
   */
  private temporalShift(x: Feature, weight: string): Feature {
    const g = this.g;
    const [n, c, h, w] = x.shape;
    const series = g.node('Reshape', [x.name, this.seriesShape(c, h * w)], `${x.name}.series`);
    const taps = [0, 1, 2].map((k) =>
      g.node('Reshape', [g.node('Slice', [weight, this.shape([k]), this.shape([k + 1]), this.shape([0])], `${weight}.tap`), this.shape([1, 1, c, 1])], `${weight}.tap${k}`),
    );
    const shifted = [this.fromPrevious(series), series, this.fromNext(series)];
    const terms = shifted.map((v, k) => g.node('Mul', [v, taps[k]], `${weight}.term${k}`));
    const sum = g.node('Sum', terms, `${weight}.sum`);
    const y = g.node('Reshape', [sum, this.shape(x.shape)], weight.replace(/\.weight$/, ''));
    this.tape.record(y, [x.name, weight], (dy) => {
      const grad = g.node('Reshape', [dy, this.seriesShape(c, h * w)], `${dy}.series`);
      if (this.tape.tracks(x.name)) {
        // The transpose of the shift: tap 0 reads x[t−1], so its gradient flows back from t + 1.
        const back = [this.fromNext(grad), grad, this.fromPrevious(grad)].map((v, k) => g.node('Mul', [v, taps[k]], `${y}.dx_term${k}`));
        this.tape.accumulate(x.name, g.node('Reshape', [g.node('Sum', back, `${y}.dx_series`), this.shape([n, c, h, w])], `${y}.dx`));
      }
      const dw = shifted.map((v) => g.node('ReduceSum', [g.node('Mul', [grad, v], `${y}.dw_product`), this.shape([0, 1, 3])], `${y}.dw_tap`, { keepdims: 0 }));
      this.tape.accumulate(weight, this.stackTaps(dw, [3, 1, c, 1], y));
    });
    return { name: y, shape: x.shape };
  }

  /** CMM's H[t] = next[t+1] − reduced[t] for t < T − 1 and zero at T − 1, per frame. */
  private frameDifference(next: Feature, reduced: Feature, label: string): Feature {
    const g = this.g;
    const [, c, h, w] = reduced.shape;
    const t = this.frames;
    const later = this.timeSlice(g.node('Reshape', [next.name, this.seriesShape(c, h * w)], `${next.name}.series`), 1, t);
    const earlier = this.timeSlice(g.node('Reshape', [reduced.name, this.seriesShape(c, h * w)], `${reduced.name}.series`), 0, t - 1);
    const diff = g.node('Sub', [later, earlier], `${label}.diff`);
    const padded = g.node('Pad', [diff, this.shape([0, 0, 0, 0, 0, 1, 0, 0])], `${label}.diff_padded`);
    const y = g.node('Reshape', [padded, this.shape(reduced.shape)], `${label}.diff_frames`);
    this.tape.record(y, [next.name, reduced.name], (dy) => {
      const steps = this.timeSlice(g.node('Reshape', [dy, this.seriesShape(c, h * w)], `${dy}.series`), 0, t - 1);
      const toNext = g.node('Pad', [steps, this.shape([0, 1, 0, 0, 0, 0, 0, 0])], `${y}.dnext`);
      const toReduced = g.node('Pad', [g.node('Neg', [steps], `${y}.neg`), this.shape([0, 0, 0, 0, 0, 1, 0, 0])], `${y}.dreduced`);
      this.tape.accumulate(next.name, g.node('Reshape', [toNext, this.shape(next.shape)], `${y}.dnext_frames`));
      this.tape.accumulate(reduced.name, g.node('Reshape', [toReduced, this.shape(reduced.shape)], `${y}.dreduced_frames`));
    });
    return { name: y, shape: reduced.shape };
  }

  /** Mean over H, W, the classifier and the clip consensus: the `clip_logits` output. */
  private classify(x: Feature): void {
    const g = this.g;
    const pooled = g.node('ReduceMean', [x.name], 'head.pool', { axes: [2, 3], keepdims: 0 });
    const frameLogits = g.node('Gemm', [pooled, 'fc.weight', 'fc.bias'], 'head.fc');
    const perClip = g.node('Reshape', [frameLogits, this.shape([this.clips, this.frames, this.config.classes])], 'head.per_clip');
    g.node('ReduceMean', [perClip], TRAINING_OUTPUTS.clipLogits, { axes: [1], keepdims: 0 });
  }

  /**
   * Mean over H, W, dropout, the classifier and the clip consensus, then the weighted cross-entropy
   * −Σ target·log softmax(clip logits); its gradient seeds the tape.
   */
  private trainingHead(x: Feature): void {
    const g = this.g;
    const [batch, features, h, w] = x.shape;
    const classes = this.config.classes;
    const t = this.frames;
    const pooled = g.node('ReduceMean', [x.name], 'head.pool', { axes: [2, 3], keepdims: 0 });
    const dropped = this.options.dropout ? g.node('Mul', [pooled, TRAINING_INPUTS.keep], 'head.dropout') : pooled;
    const frameLogits = g.node('Gemm', [dropped, 'fc.weight', 'fc.bias'], 'head.fc');
    const clipLogits = g.node('ReduceMean', [g.node('Reshape', [frameLogits, this.shape([this.clips, t, classes])], 'head.per_clip')], TRAINING_OUTPUTS.clipLogits, {
      axes: [1],
      keepdims: 0,
    });
    const logProbabilities = g.node('LogSoftmax', [clipLogits], 'head.log_softmax', { axis: 1 });
    const weighted = g.node('Mul', [TRAINING_INPUTS.target, logProbabilities], 'head.weighted');
    g.node('Neg', [g.node('ReduceSum', [weighted], 'head.sum', { keepdims: 0 })], TRAINING_OUTPUTS.loss);

    // d loss / d clip logits = softmax·Σ target − target, row by row; each frame gets a T-th of its clip's.
    const rowWeight = g.node('ReduceSum', [TRAINING_INPUTS.target, this.shape([1])], 'head.row_weight', { keepdims: 1 });
    const dClip = g.node('Sub', [g.node('Mul', [g.node('Softmax', [clipLogits], 'head.softmax', { axis: 1 }), rowWeight], 'head.expected'), TRAINING_INPUTS.target], 'head.dclip');
    const perFrame = g.node('Mul', [g.node('Unsqueeze', [dClip, this.shape([1])], 'head.dclip3'), g.scalar('head.inv_frames', 1 / t)], 'head.dframe3');
    const dFrame = g.node('Reshape', [g.node('Expand', [perFrame, this.shape([this.clips, t, classes])], 'head.dframe_expanded'), this.shape([batch, classes])], 'head.dframe');
    this.tape.accumulate('fc.weight', g.node('Gemm', [dropped, dFrame], 'fc.weight.grad', { transA: 1 }));
    this.tape.accumulate('fc.bias', g.node('ReduceSum', [dFrame, this.shape([0])], 'fc.bias.grad', { keepdims: 0 }));
    const dDropped = g.node('Gemm', [dFrame, 'fc.weight'], 'head.ddropped', { transB: 1 });
    const dPooled = this.options.dropout ? g.node('Mul', [dDropped, TRAINING_INPUTS.keep], 'head.dpooled') : dDropped;
    const spread = g.node('Mul', [g.node('Unsqueeze', [dPooled, this.shape([2, 3])], 'head.dpooled4'), g.scalar('head.inv_area', 1 / (h * w))], 'head.dmean');
    const dx = g.node('Expand', [spread, this.shape([batch, features, h, w])], 'head.dx');
    this.tape.backward([{ tensor: x.name, grad: dx }]);
  }

  // ——— helpers ———

  private shape(values: readonly number[]): string {
    return this.g.int64s('const', values);
  }

  private seriesShape(channels: number, area: number): string {
    return this.shape([this.clips, this.frames, channels, area]);
  }

  private timeSlice(series: string, from: number, to: number): string {
    return this.g.node('Slice', [series, this.shape([from]), this.shape([to]), this.shape([1])], `${series}.t${from}_${to}`);
  }

  /** v[t−1] along T, zero at t = 0. */
  private fromPrevious(series: string): string {
    return this.g.node('Pad', [this.timeSlice(series, 0, this.frames - 1), this.shape([0, 1, 0, 0, 0, 0, 0, 0])], `${series}.previous`);
  }

  /** v[t+1] along T, zero at t = T − 1. */
  private fromNext(series: string): string {
    return this.g.node('Pad', [this.timeSlice(series, 1, this.frames), this.shape([0, 0, 0, 0, 0, 1, 0, 0])], `${series}.next`);
  }
}

interface Taps {
  kh: number;
  kw: number;
  stride: number;
  pad: number;
  ho: number;
  wo: number;
}
