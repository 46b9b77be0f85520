/**
 * Model weight files of a project: loading a project model, building the network a fine-tune starts from
 * (new head mapped by class name), writing checkpoints so that a full disk never spoils the previous one,
 * and moving a model between projects as one file.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { UserError } from '../errors.ts';
import { copyFileAtomic, writeFileAtomic } from '../files/atomic-write.ts';
import type { Project } from '../store/project.ts';
import type { ModelRecord } from '../store/models.ts';
import { resolveStmConfig, type StmConfig } from '../model/config.ts';
import { createStmNetwork, type StmNetwork } from '../model/network.ts';
import {
  checkpointInfoFromMetadata, checkpointMetadata, IMAGENET_NORMALIZATION, validateCheckpoint, CHECKPOINT_FORMAT,
} from '../model/checkpoint.ts';
import { encodeSafetensors, readSafetensors, type StoredTensor } from '../model/safetensors.ts';
import { importPretrained, readWeightsFile } from '../model/pretrained.ts';
import { loadCatalogue } from '../weights/catalogue.ts';
import { resolveCachedWeights } from '../weights/starting-points.ts';
import type { JobHooks } from './types.ts';
import type { TrainParams } from './params.ts';

export function weightsFileOf(project: Project, model: ModelRecord): string {
  if (!model.weightsPath) throw new UserError('not_found', `Model ${model.id} ("${model.name}") has no weights file yet.`);
  const path = isAbsolute(model.weightsPath) ? model.weightsPath : join(project.dir, model.weightsPath);
  if (!existsSync(path)) throw new UserError('not_found', `The weights of model ${model.id} ("${model.name}") are missing: ${path}`);
  return path;
}

export async function saveCheckpointAtomically(
  path: string,
  network: StmNetwork,
  classNames: string[],
  extra: Record<string, string> = {},
): Promise<void> {
  const metadata = checkpointMetadata({
    config: network.config,
    classNames,
    normalization: IMAGENET_NORMALIZATION,
    sampling: { strategy: 'tsn-segments', frames: network.config.frames, size: network.config.inputSize },
    extra,
  });
  writeFileAtomic(path, encodeSafetensors(await network.stateDict(), metadata), 'checkpoint');
}

/**
 * Copies the head rows of classes present in both lists (by name); other rows keep their fresh init.
 * Returns the names that were carried over.
 */
async function mapHead(
  network: StmNetwork,
  source: ReadonlyMap<string, StoredTensor>,
  sourceClasses: readonly string[],
  targetClasses: readonly string[],
): Promise<string[]> {
  const weight = source.get('fc.weight');
  const bias = source.get('fc.bias');
  if (!weight || !bias) return [];
  const current = await network.stateDict();
  const w = current.get('fc.weight')!;
  const b = current.get('fc.bias')!;
  const features = w.shape[1];
  if (weight.shape[1] !== features) return [];
  const wData = Float32Array.from(w.data as Float32Array);
  const bData = Float32Array.from(b.data as Float32Array);
  const carried: string[] = [];
  targetClasses.forEach((name, row) => {
    const from = sourceClasses.indexOf(name);
    if (from < 0) return;
    wData.set((weight.data as Float32Array).subarray(from * features, (from + 1) * features), row * features);
    bData[row] = (bias.data as Float32Array)[from];
    carried.push(name);
  });
  network.loadState(new Map([
    ['fc.weight', { dtype: 'F32', shape: w.shape, data: wData }],
    ['fc.bias', { dtype: 'F32', shape: b.shape, data: bData }],
  ]));
  return carried;
}

function isOurCheckpoint(metadata: Record<string, string>): boolean {
  return metadata.format === CHECKPOINT_FORMAT || (metadata.layers !== undefined && metadata.base_width !== undefined && metadata.classes !== undefined);
}

/** The weights a model started from, as its card shows them: a catalogue name or a file, with the file's sha256. */
export interface StartedFrom {
  name: string;
  file: string;
  sha256: string;
}

/** Checkpoint metadata keys that record where a model started (`model describe`). */
export function startedFromMetadata(startedFrom: StartedFrom | null | undefined): Record<string, string> {
  return startedFrom ? { started_from: startedFrom.name, started_from_file: startedFrom.file, started_from_sha256: startedFrom.sha256 } : {};
}

/**
 * The network a fine-tune starts from, with one output per project class. A start whose classes differ
 * gets a new head; rows of classes with the same name keep their trained weights. Pretrained weights of
 * the cache bring their own backbone layout (stage depths and width) whatever the form said.
 */
export async function buildStartingNetwork(
  project: Project,
  params: TrainParams,
  classNames: string[],
  hooks: Pick<JobHooks, 'log'>,
): Promise<{ network: StmNetwork; parentModelId: number | null; startedFrom: StartedFrom | null }> {
  const archFromParams = (layout: { layers: TrainParams['layers']; width: number } = { layers: params.layers, width: params.width }): StmConfig =>
    resolveStmConfig({
      variant: params.variant, layers: layout.layers, baseWidth: layout.width, frames: params.frames,
      classes: classNames.length, inputSize: params.size, dropout: params.dropout,
    });
  const from = params.from;
  if (from.kind === 'scratch') {
    hooks.log(`starting from scratch (${params.variant}, layers ${params.layers.join(',')}, width ${params.width})`);
    return { network: createStmNetwork(archFromParams(), { seed: params.seed }), parentModelId: null, startedFrom: null };
  }
  if (from.kind === 'pretrained') {
    const { weights, layers, width } = resolveCachedWeights(from.name, loadCatalogue());
    const file = readWeightsFile(weights.path);
    const network = createStmNetwork(archFromParams({ layers, width }), { seed: params.seed });
    const report = importPretrained(network, file, { label: weights.path });
    hooks.log(
      `starting from ${from.name} (sha256 ${weights.sha256}), layout ${layers.join(',')} width ${width}: ` +
        `${report.matched.length} tensors loaded, ${report.missing.length} kept their init (temporal modules, head)`,
    );
    return { network, parentModelId: null, startedFrom: { name: from.name, file: weights.path, sha256: weights.sha256 } };
  }
  const path = from.kind === 'model' ? weightsFileOf(project, project.models.require(from.modelId)) : from.path;
  const label = from.kind === 'model' ? `model ${from.modelId}` : path;
  const file = readWeightsFile(path);
  // A model fine-tuned from a project model keeps the pretrained weights at the root of its lineage.
  const startedFrom =
    from.kind === 'weights' ? { name: basename(path), file: path, sha256: sha256Of(path) } : ((project.models.require(from.modelId).arch.startedFrom as StartedFrom | undefined) ?? null);
  if (isOurCheckpoint(file.metadata)) {
    const info = checkpointInfoFromMetadata(file.metadata, label);
    const config = resolveStmConfig({ ...info.config, classes: classNames.length, frames: params.frames, inputSize: params.size, dropout: params.dropout });
    const network = createStmNetwork(config, { seed: params.seed });
    const backbone = new Map([...file.tensors].filter(([name]) => !name.startsWith('fc.')));
    network.loadState(backbone, { strict: false, source: label });
    const carried = await mapHead(network, file.tensors, info.classNames, classNames);
    const fresh = classNames.filter((c) => !carried.includes(c));
    hooks.log(`starting from ${label} (${info.config.variant}); head: ${carried.length} class(es) kept by name${fresh.length ? `, new: ${fresh.join(', ')}` : ''}`);
    return { network, parentModelId: from.kind === 'model' ? from.modelId : null, startedFrom };
  }
  const network = createStmNetwork(archFromParams(), { seed: params.seed });
  const report = importPretrained(network, file, { label });
  hooks.log(`imported ${report.source} weights from ${label}: ${report.matched.length} tensors matched, ${report.missing.length} kept their init, ${report.unexpected.length} unused`);
  return { network, parentModelId: null, startedFrom };
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Writes a project model as one self-contained checkpoint (weights, arch, classes, its name and figures). */
export function exportModelFile(project: Project, modelId: number, out: string): { file: string; model: ModelRecord } {
  const model = project.models.require(modelId);
  const file = readSafetensors(weightsFileOf(project, model));
  const metadata = { ...file.metadata, model_name: model.name, ...(model.metrics ? { metrics: JSON.stringify(model.metrics) } : {}) };
  writeFileAtomic(out, encodeSafetensors(file.tensors, metadata), 'model file');
  return { file: out, model };
}

/**
 * Adds a checkpoint file (from another project or machine) to the project as a new model. The whole file is
 * checked first, so a broken one is refused here, naming the user's file, not later at predict time.
 */
export function importModelFile(project: Project, file: string, name?: string): ModelRecord {
  if (!existsSync(file)) throw new UserError('not_found', `No such model file: ${file}`);
  const info = validateCheckpoint(file);
  const fields = {
    name: name ?? info.extra.model_name ?? basename(file).replace(/\.safetensors$/i, ''),
    arch: archOf(info.config),
    classes: info.classNames,
    metrics: metricsOf(file, info.extra.metrics),
  };
  return project.models.insertWithWeights(fields, (id) => {
    const relative = join('models', `${id}.safetensors`);
    try {
      copyFileAtomic(file, join(project.dir, relative), 'model file');
    } catch (err) {
      throw new UserError('unavailable', `Cannot copy ${file} into the project: ${(err as Error).message}`);
    }
    return relative;
  });
}

function metricsOf(file: string, text: string | undefined): Record<string, unknown> | null {
  if (!text) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UserError('invalid_input', `${file}: metadata "metrics" is not a JSON object`);
}

/** The arch JSON stored with a model row. */
export function archOf(config: StmConfig): Record<string, unknown> {
  return {
    variant: config.variant, layers: [...config.layers], baseWidth: config.baseWidth, frames: config.frames,
    inputSize: config.inputSize, dropout: config.dropout,
  };
}
