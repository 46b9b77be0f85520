/**
 * Training checkpoints on disk: the resumable one (`models/<id>.last.safetensors`: weights, optimizer slots
 * and the run's progress, rewritten after every epoch and removed when the run ends) and the best epoch's
 * weights, which become the model's file. Works on plain tensors so a run whose replicas live in worker
 * threads writes the same files as one that trains in this thread.
 */
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { StmConfig } from '../model/config.ts';
import { checkpointInfoFromMetadata, checkpointMetadata, IMAGENET_NORMALIZATION, type CheckpointInfo } from '../model/checkpoint.ts';
import { encodeSafetensors, readSafetensors, type StoredTensor } from '../model/safetensors.ts';
import { writeFileAtomic } from '../files/atomic-write.ts';

/** Progress of a training run, kept in the resumable checkpoint. */
export interface TrainProgress {
  /** Epochs completed. */
  epoch: number;
  bestEpoch: number;
  bestTop1: number;
  bestLoss: number;
  /** Epochs since the best one (early stopping). */
  stale: number;
}

/** One optimizer accumulator (momentum, Adam's moments), in the order the optimizer keeps them. */
export interface OptimizerSlot {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** What a training run needs to continue: weights (PyTorch names and layouts) and optimizer state. */
export interface TrainingSnapshot {
  weights: Map<string, StoredTensor>;
  optimizer: OptimizerSlot[];
}

export const FRESH_PROGRESS: TrainProgress = { epoch: 0, bestEpoch: 0, bestTop1: -1, bestLoss: Infinity, stale: 0 };

export function lastCheckpointPath(project: Project, modelId: number): string {
  return join(project.modelsDir, `${modelId}.last.safetensors`);
}

/** The best epoch's weights, relative to the project folder (what the model row stores). */
export function bestCheckpointRelative(modelId: number): string {
  return join('models', `${modelId}.safetensors`);
}

function metadataOf(config: StmConfig, classNames: string[], extra: Record<string, string>): Record<string, string> {
  return checkpointMetadata({
    config,
    classNames,
    normalization: IMAGENET_NORMALIZATION,
    sampling: { strategy: 'tsn-segments', frames: config.frames, size: config.inputSize },
    extra,
  });
}

export function writeBestCheckpoint(path: string, config: StmConfig, classNames: string[], weights: Map<string, StoredTensor>, extra: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(weights, metadataOf(config, classNames, extra)), 'checkpoint');
}

export function writeResumable(path: string, config: StmConfig, classNames: string[], snapshot: TrainingSnapshot, progress: TrainProgress): void {
  const tensors = new Map(snapshot.weights);
  snapshot.optimizer.forEach((slot, i) => tensors.set(`optimizer/${i}`, { dtype: 'F32', shape: slot.shape.length ? slot.shape : [1], data: slot.data }));
  const state = JSON.stringify({ ...progress, optimizerNames: snapshot.optimizer.map((s) => s.name) });
  writeFileAtomic(path, encodeSafetensors(tensors, metadataOf(config, classNames, { train_state: state })), 'training checkpoint');
}

export function readResumable(path: string): { info: CheckpointInfo; snapshot: TrainingSnapshot; progress: TrainProgress } {
  const file = readSafetensors(path);
  const info = checkpointInfoFromMetadata(file.metadata, path);
  const state = JSON.parse(info.extra.train_state ?? 'null') as (TrainProgress & { optimizerNames: string[] }) | null;
  if (!state) throw new UserError('invalid_input', `${path} has no training state; it cannot be resumed.`);
  const { optimizerNames, ...progress } = state;
  const optimizer = optimizerNames.map((name, i) => {
    const stored: StoredTensor | undefined = file.tensors.get(`optimizer/${i}`);
    if (!stored) throw new UserError('invalid_input', `${path}: optimizer tensor ${i} ("${name}") is missing`);
    return { name, shape: stored.shape, data: stored.data as Float32Array };
  });
  const weights = new Map([...file.tensors].filter(([n]) => !n.startsWith('optimizer/')));
  return { info, snapshot: { weights, optimizer }, progress };
}
