import { UserError } from '../errors.ts';

/** Which temporal modules each block carries: both (the paper's STM), one of them, or none (TSN baseline). */
export type StmVariant = 'stm' | 'cstm' | 'cmm' | 'tsn';
export const STM_VARIANTS: readonly StmVariant[] = ['stm', 'cstm', 'cmm', 'tsn'];

/** Architecture of one STM network. Everything needed to rebuild it from a checkpoint. */
export interface StmConfig {
  variant: StmVariant;
  /** Blocks per stage (ResNet-50: 3,4,6,3). */
  layers: readonly [number, number, number, number];
  /** Bottleneck width of the first stage (64 = ResNet-50; 16 or 32 for CPU work). */
  baseWidth: number;
  /** Frames per clip (T). Frames of one clip are contiguous in the batch axis. */
  frames: number;
  classes: number;
  /** Square input side in pixels, a multiple of 32 (only used by modelInfo; forward accepts any such size). */
  inputSize: number;
  /** Dropout rate before the classifier, active only in training mode. */
  dropout: number;
}

export const RESNET50_LAYERS = [3, 4, 6, 3] as const;
/** Bottleneck expansion (output channels = 4 × bottleneck width). */
export const EXPANSION = 4;
/** CMM channel reduction r. */
export const CMM_REDUCTION = 16;
export const BN_EPSILON = 1e-5;
/** PyTorch's BatchNorm momentum: running = (1 − m)·running + m·batch. */
export const BN_MOMENTUM = 0.1;

export const DEFAULT_CONFIG: StmConfig = {
  variant: 'stm',
  layers: RESNET50_LAYERS,
  baseWidth: 64,
  frames: 8,
  classes: 174,
  inputSize: 224,
  dropout: 0,
};

/** Fills defaults and checks every field; a bad value is a UserError naming the field. */
export function resolveStmConfig(partial: Partial<StmConfig> = {}): StmConfig {
  const config: StmConfig = { ...DEFAULT_CONFIG, ...partial };
  const bad = (field: string, problem: string): never => {
    throw new UserError('invalid_input', `model ${field} ${problem}`);
  };
  if (!STM_VARIANTS.includes(config.variant)) bad('variant', `must be one of ${STM_VARIANTS.join(', ')}, got "${config.variant}"`);
  if (config.layers.length !== 4 || !config.layers.every((n) => Number.isInteger(n) && n >= 1)) {
    bad('layers', `must be four positive integers (e.g. 3,4,6,3), got ${config.layers.join(',')}`);
  }
  if (!Number.isInteger(config.baseWidth) || config.baseWidth < CMM_REDUCTION || config.baseWidth % CMM_REDUCTION !== 0) {
    bad('base width', `must be a positive multiple of ${CMM_REDUCTION}, got ${config.baseWidth}`);
  }
  if (!Number.isInteger(config.frames) || config.frames < 2) bad('frames', `must be an integer ≥ 2, got ${config.frames}`);
  if (!Number.isInteger(config.classes) || config.classes < 1) bad('classes', `must be a positive integer, got ${config.classes}`);
  if (!Number.isInteger(config.inputSize) || config.inputSize < 32 || config.inputSize % 32 !== 0) {
    bad('input size', `must be a positive multiple of 32, got ${config.inputSize}`);
  }
  if (!(config.dropout >= 0 && config.dropout < 1)) bad('dropout', `must be in [0, 1), got ${config.dropout}`);
  const [a, b, c, d] = config.layers;
  return { ...config, layers: [a, b, c, d] };
}

/** Parses "3,4,6,3" into stage depths. */
export function parseLayers(text: string): StmConfig['layers'] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UserError('invalid_input', `model layers must be four positive integers like "3,4,6,3", got "${text}"`);
  }
  return [parts[0], parts[1], parts[2], parts[3]];
}

export function hasCstm(variant: StmVariant): boolean {
  return variant === 'stm' || variant === 'cstm';
}

export function hasCmm(variant: StmVariant): boolean {
  return variant === 'stm' || variant === 'cmm';
}

/** Named architectures accepted by `model info --arch`. */
export function configForArch(arch: string): Pick<StmConfig, 'layers' | 'baseWidth'> {
  if (arch === 'stm-r50' || arch === 'r50') return { layers: RESNET50_LAYERS, baseWidth: 64 };
  throw new UserError('invalid_input', `unknown architecture "${arch}" (known: stm-r50)`);
}
