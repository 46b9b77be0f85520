import { UserError } from '../errors.ts';
import { parseLayers, resolveStmConfig, STM_VARIANTS, type StmConfig, type StmVariant } from './config.ts';
import { createStmNetwork, type StmNetwork } from './network.ts';
import { networkSpec } from './parameters.ts';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from './safetensors.ts';

/** Per-channel RGB normalisation applied to frames in [0, 1] before the network: (x − mean) / std. */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

export const IMAGENET_NORMALIZATION: Normalization = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** How frames of a clip are picked and sized for this model. */
export interface SamplingSettings {
  /** TSN segments: the span split into T equal segments, one frame each (random in training, centre at test). */
  strategy: 'tsn-segments';
  frames: number;
  /** Square side fed to the network. */
  size: number;
}

/** Everything about a checkpoint except the weights. */
export interface CheckpointInfo {
  config: StmConfig;
  /** Class names in logit order. */
  classNames: string[];
  normalization: Normalization;
  sampling: SamplingSettings;
  /** Free-form string fields (training run, parent model, …) kept with the weights. */
  extra: Record<string, string>;
}

export const CHECKPOINT_FORMAT = 'stm-studio-checkpoint';
const CHECKPOINT_VERSION = '1';
/** Metadata keys this module owns; everything else round-trips through `extra`. */
const OWN_KEYS = new Set(['format', 'format_version', 'variant', 'layers', 'base_width', 'frames', 'classes', 'size', 'dropout', 'class_names', 'normalization', 'sampling']);

/** The `__metadata__` of a checkpoint: the arch keys of the golden file plus names, normalisation and sampling. */
export function checkpointMetadata(info: Omit<CheckpointInfo, 'extra'> & { extra?: Record<string, string> }): Record<string, string> {
  const { config } = info;
  if (info.classNames.length !== config.classes) {
    throw new UserError('invalid_input', `the model has ${config.classes} classes but ${info.classNames.length} class names were given`);
  }
  return {
    ...(info.extra ?? {}),
    format: CHECKPOINT_FORMAT,
    format_version: CHECKPOINT_VERSION,
    variant: config.variant,
    layers: config.layers.join(','),
    base_width: String(config.baseWidth),
    frames: String(config.frames),
    classes: String(config.classes),
    size: String(config.inputSize),
    dropout: String(config.dropout),
    class_names: JSON.stringify(info.classNames),
    normalization: JSON.stringify(info.normalization),
    sampling: JSON.stringify(info.sampling),
  };
}

/**
 * Reads the architecture and settings from a weights file's `__metadata__`. Accepts our checkpoints and
 * plain weight files that carry at least `layers`, `base_width`, `frames` and `classes` (e.g. the golden
 * file); `size` defaults to 224, names to "class 1"…, normalisation to ImageNet's.
 */
export function checkpointInfoFromMetadata(metadata: Record<string, string>, label: string): CheckpointInfo {
  const need = (key: string): string => {
    const value = metadata[key];
    if (value === undefined) throw new UserError('invalid_input', `${label}: the metadata has no "${key}" (not an STM checkpoint?)`);
    return value;
  };
  const integer = (key: string, fallback?: number): number => {
    const text = fallback === undefined ? need(key) : (metadata[key] ?? String(fallback));
    const n = Number(text);
    if (!Number.isInteger(n)) throw new UserError('invalid_input', `${label}: metadata "${key}" must be an integer, got "${text}"`);
    return n;
  };
  const variant = (metadata.variant ?? 'stm') as StmVariant;
  if (!STM_VARIANTS.includes(variant)) throw new UserError('invalid_input', `${label}: unknown variant "${variant}" in the metadata`);
  let config: StmConfig;
  try {
    config = resolveStmConfig({
      variant,
      layers: parseLayers(need('layers')),
      baseWidth: integer('base_width'),
      frames: integer('frames'),
      classes: integer('classes'),
      inputSize: integer('size', 224),
      dropout: metadata.dropout === undefined ? 0 : Number(metadata.dropout),
    });
  } catch (err) {
    if (err instanceof UserError) throw new UserError('invalid_input', `${label}: ${err.message}`);
    throw err;
  }
  const classNames = metadata.class_names
    ? parseJson<string[]>(metadata.class_names, 'class_names', label, (v) => Array.isArray(v) && v.every((s) => typeof s === 'string'))
    : Array.from({ length: config.classes }, (_, i) => `class ${i + 1}`);
  if (classNames.length !== config.classes) {
    throw new UserError('invalid_input', `${label}: metadata lists ${classNames.length} class names for ${config.classes} classes`);
  }
  const normalization = metadata.normalization
    ? parseJson<Normalization>(metadata.normalization, 'normalization', label, (v) => isTriple((v as Normalization)?.mean) && isTriple((v as Normalization)?.std))
    : IMAGENET_NORMALIZATION;
  const sampling = metadata.sampling
    ? parseJson<SamplingSettings>(metadata.sampling, 'sampling', label, (v) => typeof v === 'object' && v !== null)
    : { strategy: 'tsn-segments' as const, frames: config.frames, size: config.inputSize };
  const extra = Object.fromEntries(Object.entries(metadata).filter(([k]) => !OWN_KEYS.has(k)));
  return { config, classNames, normalization, sampling, extra };
}

function parseJson<T>(text: string, key: string, label: string, valid: (value: unknown) => boolean): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UserError('invalid_input', `${label}: metadata "${key}" is not valid JSON`);
  }
  if (!valid(value)) throw new UserError('invalid_input', `${label}: metadata "${key}" has the wrong form`);
  return value as T;
}

function isTriple(value: unknown): boolean {
  return Array.isArray(value) && value.length === 3 && value.every((n) => typeof n === 'number' && Number.isFinite(n));
}

export interface SaveCheckpointOptions {
  classNames: string[];
  normalization?: Normalization;
  sampling?: SamplingSettings;
  extra?: Record<string, string>;
}

/** Saves weights (PyTorch names and layouts) and settings as one safetensors file, atomically. */
export async function saveCheckpoint(path: string, network: StmNetwork, options: SaveCheckpointOptions): Promise<void> {
  const { config } = network;
  const metadata = checkpointMetadata({
    config,
    classNames: options.classNames,
    normalization: options.normalization ?? IMAGENET_NORMALIZATION,
    sampling: options.sampling ?? { strategy: 'tsn-segments', frames: config.frames, size: config.inputSize },
    extra: options.extra,
  });
  writeSafetensors(path, await network.stateDict(), metadata);
}

/** The settings of a checkpoint without loading its weights (reads the header only). */
export function readCheckpointInfo(path: string): CheckpointInfo {
  return checkpointInfoFromMetadata(readSafetensorsMetadata(path), path);
}

/**
 * Reads a whole checkpoint and checks what a later load would trip over, naming `path`: every tensor the
 * described network needs is there with its shape, in floating point, with finite values. Reads no more
 * than the file; builds no network.
 */
export function validateCheckpoint(path: string): CheckpointInfo {
  const file = readSafetensors(path);
  const info = checkpointInfoFromMetadata(file.metadata, path);
  const missing: string[] = [];
  for (const p of networkSpec(resolveStmConfig(info.config)).params) {
    const tensor = file.tensors.get(p.name);
    if (!tensor) {
      missing.push(p.name);
      continue;
    }
    if (tensor.dtype !== 'F32') throw new UserError('invalid_input', `${path}: tensor "${p.name}" is ${tensor.dtype}, expected floating point`);
    if (tensor.shape.length !== p.torchShape.length || tensor.shape.some((d, i) => d !== p.torchShape[i])) {
      throw new UserError('invalid_input', `${path}: tensor "${p.name}" has shape [${tensor.shape.join(',')}], the model expects [${p.torchShape.join(',')}]`);
    }
    const data = tensor.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new UserError('invalid_input', `${path}: tensor "${p.name}" holds ${data[i]} at element ${i} (a diverged or damaged model)`);
      }
    }
  }
  if (missing.length > 0) {
    throw new UserError('invalid_input', `${path}: ${missing.length} tensor(s) missing, first "${missing[0]}" (an incomplete or different model)`);
  }
  return info;
}

/**
 * Rebuilds the network a checkpoint describes and loads every weight; a missing or mis-shaped tensor is a
 * UserError naming it. `overrides` can change what does not affect weights (frames, input size, dropout).
 */
export function loadCheckpoint(path: string, overrides: Partial<Pick<StmConfig, 'frames' | 'inputSize' | 'dropout'>> = {}): { network: StmNetwork; info: CheckpointInfo } {
  const file = readSafetensors(path);
  const info = checkpointInfoFromMetadata(file.metadata, path);
  const config = resolveStmConfig({ ...info.config, ...overrides });
  const network = createStmNetwork(config, { weights: file.tensors, source: path });
  return { network, info: { ...info, config } };
}
