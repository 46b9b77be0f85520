import { CMM_REDUCTION, EXPANSION, hasCmm, hasCstm, type StmConfig } from './config.ts';

/**
 * How a parameter is stored. PyTorch and TensorFlow.js lay convolutions out differently; the kind says
 * which transposition maps one to the other (see layout.ts).
 * - conv: dense conv [O,I,kh,kw] ↔ [kh,kw,I,O]
 * - depthwise: grouped 3×3 conv [C,1,kh,kw] ↔ [kh,kw,C,1]
 * - temporal: channel-wise Conv1d over T [C,1,3] ↔ [3,1,C,1]
 * - linear: fc weight [out,in] ↔ [in,out]
 * - vector: biases and BatchNorm parameters, same in both
 */
export type ParamKind = 'conv' | 'depthwise' | 'temporal' | 'linear' | 'vector';

/** How a fresh network initialises a parameter (the paper's init; He init for convolutions). */
export type ParamInit = 'he' | 'temporal-shift' | 'ones' | 'zeros' | 'fc-normal';

export interface ParamSpec {
  /** PyTorch state_dict name, e.g. `layer1.0.mb.stage_conv.weight`. */
  name: string;
  kind: ParamKind;
  torchShape: number[];
  /** BatchNorm running statistics are state, not trainable parameters. */
  trainable: boolean;
  init: ParamInit;
}

/** One bottleneck (STM) block: its channel sizes, stride and the prefix of its parameter names. */
export interface BlockSpec {
  prefix: string;
  inChannels: number;
  planes: number;
  outChannels: number;
  stride: 1 | 2;
  hasDownsample: boolean;
  cstm: boolean;
  cmm: boolean;
}

export interface NetworkSpec {
  blocks: BlockSpec[][];
  params: ParamSpec[];
  /** Channels entering the classifier. */
  featureChannels: number;
}

function conv(name: string, out: number, inCh: number, k: number): ParamSpec {
  return { name, kind: 'conv', torchShape: [out, inCh, k, k], trainable: true, init: 'he' };
}

function batchNorm(prefix: string, channels: number): ParamSpec[] {
  const v = (suffix: string, trainable: boolean, init: ParamInit): ParamSpec => ({
    name: `${prefix}.${suffix}`,
    kind: 'vector',
    torchShape: [channels],
    trainable,
    init,
  });
  return [v('weight', true, 'ones'), v('bias', true, 'zeros'), v('running_mean', false, 'zeros'), v('running_var', false, 'ones')];
}

/** The blocks and every parameter of a network, in PyTorch state_dict order. */
export function networkSpec(config: StmConfig): NetworkSpec {
  const stem = config.baseWidth;
  const params: ParamSpec[] = [conv('conv1.weight', stem, 3, 7), ...batchNorm('bn1', stem)];
  const blocks: BlockSpec[][] = [];
  let inChannels = stem;
  config.layers.forEach((depth, stage) => {
    const planes = config.baseWidth * 2 ** stage;
    const outChannels = planes * EXPANSION;
    const stageBlocks: BlockSpec[] = [];
    for (let i = 0; i < depth; i++) {
      const stride: 1 | 2 = stage > 0 && i === 0 ? 2 : 1;
      const block: BlockSpec = {
        prefix: `layer${stage + 1}.${i}`,
        inChannels,
        planes,
        outChannels,
        stride,
        hasDownsample: i === 0,
        cstm: hasCstm(config.variant),
        cmm: hasCmm(config.variant),
      };
      params.push(...blockParams(block));
      stageBlocks.push(block);
      inChannels = outChannels;
    }
    blocks.push(stageBlocks);
  });
  params.push(
    { name: 'fc.weight', kind: 'linear', torchShape: [config.classes, inChannels], trainable: true, init: 'fc-normal' },
    { name: 'fc.bias', kind: 'vector', torchShape: [config.classes], trainable: true, init: 'zeros' },
  );
  return { blocks, params, featureChannels: inChannels };
}

function blockParams(b: BlockSpec): ParamSpec[] {
  const p = b.prefix;
  const reduced = b.planes / CMM_REDUCTION;
  const list: ParamSpec[] = [
    conv(`${p}.conv1.weight`, b.planes, b.inChannels, 1),
    ...batchNorm(`${p}.bn1`, b.planes),
    conv(`${p}.conv2.weight`, b.planes, b.planes, 3),
    ...batchNorm(`${p}.bn2`, b.planes),
    conv(`${p}.conv3.weight`, b.outChannels, b.planes, 1),
    ...batchNorm(`${p}.bn3`, b.outChannels),
  ];
  if (b.hasDownsample) list.push(conv(`${p}.downsample.0.weight`, b.outChannels, b.inChannels, 1), ...batchNorm(`${p}.downsample.1`, b.outChannels));
  if (b.cstm) list.push({ name: `${p}.shift.weight`, kind: 'temporal', torchShape: [b.planes, 1, 3], trainable: true, init: 'temporal-shift' });
  if (b.cmm) {
    list.push(
      conv(`${p}.mb.stage_conv.weight`, reduced, b.planes, 1),
      ...batchNorm(`${p}.mb.stage_bn`, reduced),
      { name: `${p}.mb.shift.weight`, kind: 'depthwise', torchShape: [reduced, 1, 3, 3], trainable: true, init: 'he' },
      conv(`${p}.mb.conv1x1.weight`, b.planes, reduced, 1),
    );
  }
  return list;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameter count of a spec list (trainable only, like PyTorch's sum of numel over parameters()). */
export function countParameters(params: readonly ParamSpec[]): number {
  return params.filter((p) => p.trainable).reduce((sum, p) => sum + elementCount(p.torchShape), 0);
}

/** Whether a parameter belongs to the stem or the first `stages` stages (a frozen prefix). */
export function inFrozenPrefix(name: string, stages: number): boolean {
  if (stages <= 0) return false;
  return name.startsWith('conv1.') || name.startsWith('bn1.') || Array.from({ length: stages }, (_, i) => `layer${i + 1}.`).some((p) => name.startsWith(p));
}

/**
 * Shape [h, w, c] of one frame's input to stage `stage` + 1: the frames themselves for 0, else the map
 * that stage `stage` (1-based) produces.
 */
export function stageInputShape(config: StmConfig, stage: number): [number, number, number] {
  if (stage <= 0) return [config.inputSize, config.inputSize, 3];
  const blocks = networkSpec(config).blocks.slice(0, stage).flat();
  const side = blocks.reduce((s, b) => s / b.stride, config.inputSize / 4);
  return [side, side, blocks.at(-1)!.outChannels];
}
