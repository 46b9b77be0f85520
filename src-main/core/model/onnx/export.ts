import { UserError } from '../../errors.ts';
import { CMM_REDUCTION, type StmConfig } from '../config.ts';
import type { Normalization } from '../checkpoint.ts';
import { networkSpec, type BlockSpec } from '../parameters.ts';
import type { StoredTensor } from '../safetensors.ts';
import { foldBatchNorm } from './fold.ts';
import { OnnxGraphBuilder, type ValueSpec } from './graph-builder.ts';

/**
 * What the exported graph takes as input:
 * - `float-nchw`: normalised float32 frames `[clips·T, 3, S, S]` (PyTorch layout), the T frames of each clip
 *   contiguous, i.e. exactly what the PyTorch reference network takes.
 * - `uint8-nhwc`: raw RGB bytes `[clips·T, S, S, 3]` as decoders produce them; the graph scales to [0, 1],
 *   normalises with the model's mean/std and transposes.
 */
export type OnnxInputFormat = 'float-nchw' | 'uint8-nhwc';

export const ONNX_OPSET = 17;
export const ONNX_INPUT_NAME = 'frames';
export const ONNX_OUTPUTS = { frameLogits: 'frame_logits', clipLogits: 'clip_logits' } as const;
/** Name of the symbolic batch dimension (clips × T). */
const BATCH_DIM = 'clips_x_frames';

export interface OnnxExportOptions {
  input?: OnnxInputFormat;
  /** Needed for `uint8-nhwc` (the graph normalises); stored in the model metadata either way. */
  normalization?: Normalization;
  classNames?: string[];
  /** Square input side; defaults to the config's input size. A multiple of 32. */
  inputSize?: number;
  /**
   * Clips per run, fixed in the graph. Omitted: a dynamic batch (`clips_x_frames`). A fixed batch runs
   * faster in ONNX Runtime: with every shape known, it fuses the residual Add and ReLU into the convolutions.
   */
  clips?: number;
}

export interface OnnxExportSummary {
  input: ValueSpec;
  outputs: ValueSpec[];
  opset: number;
  nodes: number;
}

/**
 * Builds the ONNX graph of an STM network from a PyTorch-named state dict: BatchNorm folded into the
 * convolutions, CSTM's temporal conv and CMM as plain ONNX ops, the clip consensus (mean of the T
 * per-frame logits) inside the graph. Outputs `frame_logits [clips·T, classes]` and `clip_logits [clips, classes]`.
 */
export function buildStmOnnx(
  state: ReadonlyMap<string, StoredTensor>,
  config: StmConfig,
  options: OnnxExportOptions = {},
  source = 'weights',
): { bytes: Uint8Array; summary: OnnxExportSummary } {
  const size = options.inputSize ?? config.inputSize;
  if (!Number.isInteger(size) || size < 32 || size % 32 !== 0) {
    throw new UserError('invalid_input', `ONNX input size must be a positive multiple of 32, got ${size}`);
  }
  const clips = options.clips;
  if (clips !== undefined && !(Number.isInteger(clips) && clips >= 1)) {
    throw new UserError('invalid_input', `ONNX clips per run must be a positive integer, got ${clips}`);
  }
  const format = options.input ?? 'float-nchw';
  if (format === 'uint8-nhwc' && !options.normalization) {
    throw new UserError('invalid_input', 'a uint8-nhwc ONNX export needs the model normalisation (mean/std)');
  }
  const weights = new WeightReader(state, config, source);
  const g = new OnnxGraphBuilder();
  const t = config.frames;
  const batch = clips === undefined ? BATCH_DIM : clips * t;

  const input: ValueSpec =
    format === 'float-nchw'
      ? { name: ONNX_INPUT_NAME, elementType: 'float', dims: [batch, 3, size, size] }
      : { name: ONNX_INPUT_NAME, elementType: 'uint8', dims: [batch, size, size, 3] };
  let h = format === 'float-nchw' ? input.name : normalizeBytes(g, input.name, options.normalization!);

  h = g.node('Relu', [convBn(g, weights, h, 'conv1', 'bn1', 2, 3)], 'stem.relu');
  h = g.node('MaxPool', [h], 'stem.maxpool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let side = size / 4;
  for (const stage of networkSpec(config).blocks) {
    for (const block of stage) {
      h = stmBlock(g, weights, h, block, t, side);
      side /= block.stride;
    }
  }
  const pooled = g.node('GlobalAveragePool', [h], 'head.pool');
  const flat = g.node('Flatten', [pooled], 'head.flatten', { axis: 1 });
  const fc = g.floats('fc.weight', weights.shape('fc.weight'), weights.get('fc.weight'));
  const fcBias = g.floats('fc.bias', [config.classes], weights.get('fc.bias'));
  const frameLogits = g.rename(g.node('Gemm', [flat, fc, fcBias], 'head.fc', { transB: 1 }), ONNX_OUTPUTS.frameLogits);
  const perClip = g.node('Reshape', [frameLogits, g.int64s('head.clip_shape', [-1, t, config.classes])], 'head.per_clip');
  g.rename(g.node('ReduceMean', [perClip], 'head.consensus', { axes: [1], keepdims: 0 }), ONNX_OUTPUTS.clipLogits);

  const outputs: ValueSpec[] = [
    { name: ONNX_OUTPUTS.frameLogits, elementType: 'float', dims: [batch, config.classes] },
    { name: ONNX_OUTPUTS.clipLogits, elementType: 'float', dims: [clips ?? 'clips', config.classes] },
  ];
  const metadata: Record<string, string> = {
    variant: config.variant,
    layers: config.layers.join(','),
    base_width: String(config.baseWidth),
    frames: String(t),
    classes: String(config.classes),
    size: String(size),
    input_format: format,
  };
  if (options.classNames) metadata.class_names = JSON.stringify(options.classNames);
  if (options.normalization) metadata.normalization = JSON.stringify(options.normalization);
  const docString =
    format === 'float-nchw'
      ? `STM (${config.variant}) — input "${ONNX_INPUT_NAME}": float32 [clips·${t}, 3, ${size}, ${size}], normalised RGB, the ${t} frames of each clip contiguous`
      : `STM (${config.variant}) — input "${ONNX_INPUT_NAME}": uint8 RGB [clips·${t}, ${size}, ${size}, 3], the ${t} frames of each clip contiguous`;
  const bytes = g.encode({ graphName: `stm_${config.variant}`, inputs: [input], outputs, opset: ONNX_OPSET, docString, metadata });
  return { bytes, summary: { input, outputs, opset: ONNX_OPSET, nodes: g.nodeCount } };
}

export const ONNX_FEATURES_OUTPUT = 'features';

/**
 * The frozen prefix of an STM network — stem and the first `stages` stages, BatchNorm folded, as in
 * inference — for training the rest elsewhere: input `frames` float32 NHWC `[clips·T, S, S, 3]` (normalised,
 * the tfjs layout), output `features` float32 NHWC, the map the network's stage `stages` produces.
 * `clips` fixes the batch (faster in ONNX Runtime); omitted, the batch is dynamic.
 */
export function buildStmPrefixOnnx(
  state: ReadonlyMap<string, StoredTensor>,
  config: StmConfig,
  stages: number,
  options: { clips?: number } = {},
  source = 'weights',
): { bytes: Uint8Array; featureShape: [number, number, number] } {
  const spec = networkSpec(config);
  if (!Number.isInteger(stages) || stages < 1 || stages > spec.blocks.length) {
    throw new UserError('invalid_input', `a frozen prefix has 1 to ${spec.blocks.length} stages, got ${stages}`);
  }
  const weights = new WeightReader(state, config, source);
  const g = new OnnxGraphBuilder();
  const t = config.frames;
  const size = config.inputSize;
  const batch = options.clips === undefined ? BATCH_DIM : options.clips * t;
  let h = g.node('Transpose', [ONNX_INPUT_NAME], 'input.nchw', { perm: [0, 3, 1, 2] });
  h = g.node('Relu', [convBn(g, weights, h, 'conv1', 'bn1', 2, 3)], 'stem.relu');
  h = g.node('MaxPool', [h], 'stem.maxpool', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let side = size / 4;
  let channels = config.baseWidth;
  for (const stage of spec.blocks.slice(0, stages)) {
    for (const block of stage) {
      h = stmBlock(g, weights, h, block, t, side);
      side /= block.stride;
      channels = block.outChannels;
    }
  }
  g.rename(g.node('Transpose', [h], 'output.nhwc', { perm: [0, 2, 3, 1] }), ONNX_FEATURES_OUTPUT);
  const bytes = g.encode({
    graphName: `stm_${config.variant}_prefix${stages}`,
    inputs: [{ name: ONNX_INPUT_NAME, elementType: 'float', dims: [batch, size, size, 3] }],
    outputs: [{ name: ONNX_FEATURES_OUTPUT, elementType: 'float', dims: [batch, side, side, channels] }],
    opset: ONNX_OPSET,
    docString: `STM (${config.variant}) stem and stages 1–${stages}, inference mode, NHWC in and out`,
    metadata: { variant: config.variant, frames: String(t), size: String(size), prefix_stages: String(stages) },
  });
  return { bytes, featureShape: [side, side, channels] };
}

/** uint8 NHWC bytes → normalised float NCHW: x·(1/255σ) − μ/σ per channel, then a transpose. */
function normalizeBytes(g: OnnxGraphBuilder, input: string, norm: Normalization): string {
  const scale = Float32Array.from(norm.std, (s) => 1 / (255 * s));
  const shift = Float32Array.from(norm.mean, (m, c) => -m / norm.std[c]);
  const asFloat = g.node('Cast', [input], 'input.float', { to: 1 });
  const scaled = g.node('Mul', [asFloat, g.floats('input.scale', [3], scale)], 'input.scaled');
  const shifted = g.node('Add', [scaled, g.floats('input.shift', [3], shift)], 'input.normalised');
  return g.node('Transpose', [shifted], 'input.nchw', { perm: [0, 3, 1, 2] });
}

function stmBlock(g: OnnxGraphBuilder, w: WeightReader, x: string, b: BlockSpec, frames: number, side: number): string {
  const p = b.prefix;
  const reduced = g.node('Relu', [convBn(g, w, x, `${p}.conv1`, `${p}.bn1`, 1, 0)], `${p}.relu1`);
  const shifted = b.cstm ? temporalConv(g, w, reduced, p, b.planes, frames, side) : reduced;
  let mixed = g.node('Relu', [convBn(g, w, shifted, `${p}.conv2`, `${p}.bn2`, b.stride, 1)], `${p}.relu2`);
  if (b.cmm) mixed = g.node('Add', [mixed, motion(g, w, reduced, b, frames, side)], `${p}.sum`);
  const out = convBn(g, w, mixed, `${p}.conv3`, `${p}.bn3`, 1, 0);
  const shortcut = b.hasDownsample ? convBn(g, w, x, `${p}.downsample.0`, `${p}.downsample.1`, b.stride, 0) : x;
  return g.node('Relu', [g.node('Add', [out, shortcut], `${p}.residual`)], `${p}.out`);
}

/**
 * CSTM's channel-wise temporal conv (kernel 3 along T, zero padding): [clips·T, C, H, W] is viewed as
 * [clips, T, C, H·W], transposed to [clips, C, T, H·W] and convolved with a depthwise [3, 1] kernel.
 */
function temporalConv(g: OnnxGraphBuilder, w: WeightReader, x: string, p: string, channels: number, frames: number, side: number): string {
  const series = g.node('Reshape', [x, g.int64s(`${p}.shift.series_shape`, [-1, frames, channels, side * side])], `${p}.shift.series`);
  const channelsFirst = g.node('Transpose', [series], `${p}.shift.channels_first`, { perm: [0, 2, 1, 3] });
  const kernel = g.floats(`${p}.shift.weight`, [channels, 1, 3, 1], w.get(`${p}.shift.weight`));
  const conv = g.node('Conv', [channelsFirst, kernel], `${p}.shift`, { group: channels, kernel_shape: [3, 1], pads: [1, 0, 1, 0] });
  const framesFirst = g.node('Transpose', [conv], `${p}.shift.frames_first`, { perm: [0, 2, 1, 3] });
  return g.node('Reshape', [framesFirst, g.int64s(`${p}.shift.frame_shape`, [-1, channels, side, side])], `${p}.shift.frames`);
}

/** CMM: 1×1 reduce + BN, depthwise 3×3 on every frame, conv(F[t+1]) − F[t] (zero at the last step), 1×1 restore. */
function motion(g: OnnxGraphBuilder, w: WeightReader, x: string, b: BlockSpec, frames: number, side: number): string {
  const p = `${b.prefix}.mb`;
  const channels = b.planes / CMM_REDUCTION;
  const reduced = convBn(g, w, x, `${p}.stage_conv`, `${p}.stage_bn`, 1, 0);
  const kernel = g.floats(`${p}.shift.weight`, [channels, 1, 3, 3], w.get(`${p}.shift.weight`));
  const next = g.node('Conv', [reduced, kernel], `${p}.shift`, { group: channels, kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  const seriesShape = g.int64s(`${p}.series_shape`, [-1, frames, channels, side * side]);
  const axis = g.int64s(`${p}.time_axis`, [1]);
  const later = g.node(
    'Slice',
    [g.node('Reshape', [next, seriesShape], `${p}.shift.series`), g.int64s(`${p}.from_second`, [1]), g.int64s(`${p}.to_end`, [frames]), axis],
    `${p}.later`,
  );
  const earlier = g.node(
    'Slice',
    [g.node('Reshape', [reduced, seriesShape], `${p}.series`), g.int64s(`${p}.from_first`, [0]), g.int64s(`${p}.to_last`, [frames - 1]), axis],
    `${p}.earlier`,
  );
  const diff = g.node('Sub', [later, earlier], `${p}.diff`);
  const padded = g.node('Pad', [diff, g.int64s(`${p}.pad_last_step`, [0, 0, 0, 0, 0, 1, 0, 0])], `${p}.diff_padded`);
  const perFrame = g.node('Reshape', [padded, g.int64s(`${p}.frame_shape`, [-1, channels, side, side])], `${p}.diff_frames`);
  const restore = g.floats(`${p}.conv1x1.weight`, w.shape(`${p}.conv1x1.weight`), w.get(`${p}.conv1x1.weight`));
  const restored = g.node('Conv', [perFrame, restore], `${p}.conv1x1`, { kernel_shape: [1, 1] });
  return b.stride === 2 ? g.node('MaxPool', [restored], `${p}.maxpool`, { kernel_shape: [2, 2], strides: [2, 2] }) : restored;
}

/** A conv followed by inference BatchNorm, emitted as one Conv with bias. */
function convBn(g: OnnxGraphBuilder, w: WeightReader, x: string, conv: string, bn: string, stride: number, pad: number): string {
  const shape = w.shape(`${conv}.weight`);
  const folded = foldBatchNorm(w.get(`${conv}.weight`), {
    gamma: w.get(`${bn}.weight`),
    beta: w.get(`${bn}.bias`),
    mean: w.get(`${bn}.running_mean`),
    variance: w.get(`${bn}.running_var`),
  });
  const weight = g.floats(`${conv}.weight`, shape, folded.weight);
  const bias = g.floats(`${conv}.bias`, [shape[0]], folded.bias);
  return g.node('Conv', [x, weight, bias], conv, {
    kernel_shape: [shape[2], shape[3]],
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
  });
}

/** The state dict checked against the architecture: every parameter present, float, and of the expected shape. */
class WeightReader {
  private readonly shapes = new Map<string, number[]>();

  constructor(
    private readonly state: ReadonlyMap<string, StoredTensor>,
    config: StmConfig,
    source: string,
  ) {
    for (const p of networkSpec(config).params) {
      const tensor = state.get(p.name);
      if (!tensor) throw new UserError('invalid_input', `${source}: missing tensor "${p.name}" needed by the ${config.variant} architecture`);
      if (tensor.dtype !== 'F32') throw new UserError('invalid_input', `${source}: tensor "${p.name}" is ${tensor.dtype}, expected floating point`);
      if (tensor.shape.length !== p.torchShape.length || tensor.shape.some((d, i) => d !== p.torchShape[i])) {
        throw new UserError('invalid_input', `${source}: tensor "${p.name}" has shape [${tensor.shape.join(',')}], the model expects [${p.torchShape.join(',')}]`);
      }
      this.shapes.set(p.name, p.torchShape);
    }
  }

  get(name: string): Float32Array {
    return this.state.get(name)!.data as Float32Array;
  }

  shape(name: string): number[] {
    const shape = this.shapes.get(name);
    if (!shape) throw new Error(`ONNX export asked for "${name}", which the architecture does not have`);
    return shape;
  }
}
