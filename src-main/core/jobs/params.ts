/**
 * Parameters of each job kind, as stored in the job row, and their defaults: the one source of them for the
 * contract's zod schemas, the CLI's options and the Train form. Imports types only, so the contract (bundled
 * for the preload and the renderer) can use the defaults.
 */
import type { StmVariant } from '../model/config.ts';
import type { BackendName, PreferenceOrigin } from '../compute/backends.ts';
import type { SplitMode } from './split.ts';
import type { JobKind, JobRecord } from '../store/jobs.ts';

/**
 * Where fine-tuning starts: a model of the project, a weights file (ImageNet ResNet-50, TSM, our checkpoint),
 * pretrained weights of the per-user cache by name (catalogue or custom), or scratch.
 */
export type TrainSource =
  | { kind: 'scratch' }
  | { kind: 'model'; modelId: number }
  | { kind: 'weights'; path: string }
  | { kind: 'pretrained'; name: string };

export interface TrainParams {
  name?: string;
  from: TrainSource;
  /** Architecture for scratch and ImageNet/TSM starts (a project model or our checkpoint brings its own). */
  variant: StmVariant;
  layers: [number, number, number, number];
  width: number;
  frames: number;
  size: number;
  dropout: number;
  epochs: number;
  batch: number;
  lr: number;
  /** Learning rate over the run: constant, or cosine decay from `lr` to zero by the last step. */
  lrSchedule: 'constant' | 'cosine';
  optimizer: 'sgd' | 'adam';
  momentum: number;
  weightDecay: number;
  /** Weight each class's loss by inverse frequency (imbalanced labels). */
  classWeighting: boolean;
  /** Stop after this many epochs without a better validation score (0: never). */
  patience: number;
  /** Keep the stem and the first N residual stages fixed (0: train everything). */
  freeze: number;
  /** Horizontal flip for classes marked flip-safe (never for the others). */
  flip: boolean;
  /** Play clips of classes with a reverse partner backwards half the time, labelled as the partner. */
  reverseAugment: boolean;
  split: SplitMode;
  valFraction: number;
  seed: number;
  /** Precise BatchNorm: training batches whose statistics replace the running ones before each validation (0: off). */
  preciseBnBatches: number;
  backend?: BackendName | 'auto';
  /** Where `backend` came from (recorded when the job is submitted). */
  backendSource?: PreferenceOrigin;
  /**
   * Worker threads that train data-parallel, one replica each. Absent: one per core on the wasm and cpu
   * backends (one thread each), one on the others (already parallel); never more than the batch's clips.
   */
  workers?: number;
  /**
   * BatchNorm groups per batch (absent: one per worker). Each group is normalised with its own statistics,
   * so a one-worker run with N groups computes what N workers compute.
   */
  bnGroups?: number;
  /**
   * Where frozen stages (`freeze` > 0) run: as an ONNX graph on ONNX Runtime, the rest training on tfjs
   * (absent: onnx on the wasm and cpu backends), or inside the tfjs network.
   */
  frozenPrefix?: 'onnx' | 'tfjs';
  /**
   * What computes the training step's gradients: ONNX Runtime (native SIMD, every core inside each
   * operation; absent: on the wasm and cpu backends) or the tfjs backend itself (GPU backends; data-parallel
   * worker threads on wasm and cpu).
   */
  trainEngine?: 'onnx' | 'tfjs';
}

export interface WindowSpec {
  value: number;
  unit: 'seconds' | 'frames';
}

/** `auto`: ONNX Runtime unless tfjs has a GPU backend; `tfjs` / `onnx` force one. */
export type InferenceEngine = 'auto' | 'tfjs' | 'onnx';

/** Running a predict or probe on the worker queue instead of this machine. */
export interface QueueParams {
  /** redis:// or rediss:// URL of the queue; absent: run here. */
  queue?: string;
  /** Tries per shard before it counts as failed (default 3). */
  attempts?: number;
  /** Windows (or clips) per shard; a longer video is split (default 256). */
  shardSize?: number;
}

export interface PredictParams extends QueueParams {
  modelId: number;
  /** Videos to run over; all videos of the project when absent. */
  videoIds?: number[];
  window: WindowSpec;
  stride: WindowSpec;
  direction: 'forward' | 'reversed' | 'both';
  batch: number;
  backend?: BackendName | 'auto';
  /** Where `backend` came from (recorded when the job is submitted). */
  backendSource?: PreferenceOrigin;
  engine?: InferenceEngine;
}

export interface ProbeParams extends QueueParams {
  modelId: number;
  /** All labelled clips, those the model was validated on, or every sliding window of the videos. */
  clips: 'all' | 'val' | 'windows';
  /** For `windows`: which videos (all when absent), window length and stride. */
  videoIds?: number[];
  window?: WindowSpec;
  stride?: WindowSpec;
  batch: number;
  backend?: BackendName | 'auto';
  /** Where `backend` came from (recorded when the job is submitted). */
  backendSource?: PreferenceOrigin;
  engine?: InferenceEngine;
}

/** What a job of each kind is submitted with: `JobQueue.submit(kind, params: JobParams[kind])`. */
export interface JobParams {
  train: TrainParams;
  predict: PredictParams;
  probe: ProbeParams;
}

/** Every training parameter that has a default (all but the name, the backend and the automatic choices). */
export const DEFAULT_TRAIN_PARAMS: Required<Omit<TrainParams, 'name' | 'backend' | 'backendSource' | 'workers' | 'bnGroups' | 'frozenPrefix' | 'trainEngine'>> = {
  from: { kind: 'scratch' },
  variant: 'stm',
  layers: [3, 4, 6, 3],
  width: 64,
  frames: 8,
  size: 224,
  dropout: 0.5,
  epochs: 10,
  batch: 4,
  lr: 0.01,
  lrSchedule: 'cosine',
  optimizer: 'sgd',
  momentum: 0.9,
  weightDecay: 5e-4,
  classWeighting: true,
  patience: 0,
  freeze: 0,
  flip: false,
  reverseAugment: false,
  split: 'video',
  valFraction: 0.2,
  seed: 1,
  preciseBnBatches: 20,
};

export const DEFAULT_PREDICT_PARAMS: Required<Pick<PredictParams, 'window' | 'stride' | 'direction' | 'batch'>> = {
  window: { value: 2, unit: 'seconds' },
  stride: { value: 1, unit: 'seconds' },
  direction: 'forward',
  batch: 8,
};

export const DEFAULT_PROBE_PARAMS: Required<Pick<ProbeParams, 'clips' | 'batch'>> = { clips: 'all', batch: 8 };

const DEFAULTS: { [K in JobKind]: Partial<JobParams[K]> } = {
  train: DEFAULT_TRAIN_PARAMS,
  predict: DEFAULT_PREDICT_PARAMS,
  probe: DEFAULT_PROBE_PARAMS,
};

/**
 * A stored job's parameters. The queue stored them typed (see JobQueue.submit); a row written by an older
 * version may lack a parameter added since, which gets its default.
 */
export function jobParamsOf<K extends JobKind>(job: JobRecord, kind: K): JobParams[K] {
  if (job.kind !== kind) throw new Error(`job ${job.id} is a ${job.kind} job, not ${kind}`);
  return { ...DEFAULTS[kind], ...job.params } as JobParams[K];
}
