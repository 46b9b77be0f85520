import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { JobKind, JobOutcome, JobProgress, JobStatus } from '../../core/jobs/types.ts';
import { DEFAULT_PREDICT_PARAMS, DEFAULT_PROBE_PARAMS, DEFAULT_TRAIN_PARAMS } from '../../core/jobs/params.ts';
import type { ModelRecord } from '../../core/store/models.ts';
import type { ClipRecord } from '../../core/store/clips.ts';
import type { ProbeSummary } from '../../core/figures/probe-summary.ts';
import type { SplitPreview } from '../../core/jobs/split-preview.ts';
import type { Segment } from '../../core/jobs/segments.ts';
import type { EpochMetrics, MetricsResult } from '../../core/results/training.ts';
import type { WindowPrediction, WindowsResult } from '../../core/results/windows.ts';
import type { ReviewItem } from '../../core/results/review.ts';
import type { ProbeResultView } from '../../core/results/probe.ts';
import type { CsvExportResult } from '../../core/results/csv-exports.ts';

export type {
  JobKind, JobOutcome, JobProgress, JobStatus, ModelRecord, ProbeSummary, Segment, CsvExportResult, EpochMetrics,
  MetricsResult, ProbeResultView, ReviewItem, SplitPreview, WindowPrediction, WindowsResult,
};

/** A job as lists show it (the log is fetched separately with jobs.log). */
export interface JobView {
  id: number;
  kind: JobKind;
  params: Record<string, unknown>;
  status: JobStatus;
  progress: JobProgress | null;
  error: string | null;
  modelId: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** The figures of a job that finished in this session (val top-1, flip rate, ...). */
  figures: JobOutcome['figures'] | null;
}

const id = z.number().int().positive();
const backend = z.enum(['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']).optional();
/** Inference engine for predict/probe: ONNX Runtime on CPU unless tfjs has a GPU (auto), or forced. */
const engine = z.enum(['auto', 'tfjs', 'onnx']).optional();
const windowSpec = z.object({ value: z.number().positive(), unit: z.enum(['seconds', 'frames']) }).strict();
const thresholds = z.record(z.string(), z.number().min(0).max(1)).optional();
/** A Redis URL: redis://[user:password@]host:port[/db], or rediss:// for TLS. */
export const queueUrl = z.string().trim().regex(/^rediss?:\/\/\S+$/i, 'a queue URL starts with redis:// or rediss:// (TLS)');
/** Run on the workers of a Redis queue instead of this machine (see `stm-studio worker`). */
const onQueue = {
  queue: queueUrl.optional(),
  /** Tries per shard before it counts as failed. */
  attempts: z.number().int().min(1).max(20).optional(),
  /** Windows (or clips) per shard; longer videos are split. */
  shardSize: z.number().int().min(1).optional(),
};

const train = DEFAULT_TRAIN_PARAMS;
const positiveInt = z.number().int().min(1);

export const trainStartParams = z
  .object({
    name: z.string().min(1).optional(),
    from: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('scratch') }).strict(),
        z.object({ kind: z.literal('model'), modelId: id }).strict(),
        z.object({ kind: z.literal('weights'), path: z.string().min(1) }).strict(),
        /** Catalogue or custom weights of the per-user cache, by name (`weights.list`); they bring their layout. */
        z.object({ kind: z.literal('pretrained'), name: z.string().min(1) }).strict(),
      ])
      .default(train.from),
    variant: z.enum(['stm', 'cstm', 'cmm', 'tsn']).default(train.variant),
    layers: z.tuple([positiveInt, positiveInt, positiveInt, positiveInt]).default(train.layers),
    width: z.number().int().min(16).multipleOf(16).default(train.width),
    frames: z.number().int().min(2).default(train.frames),
    size: z.number().int().min(32).multipleOf(32).default(train.size),
    dropout: z.number().min(0).lt(1).default(train.dropout),
    epochs: z.number().int().min(1).default(train.epochs),
    batch: z.number().int().min(1).default(train.batch),
    lr: z.number().positive().default(train.lr),
    lrSchedule: z.enum(['constant', 'cosine']).default(train.lrSchedule),
    optimizer: z.enum(['sgd', 'adam']).default(train.optimizer),
    momentum: z.number().min(0).lt(1).default(train.momentum),
    weightDecay: z.number().min(0).default(train.weightDecay),
    classWeighting: z.boolean().default(train.classWeighting),
    patience: z.number().int().min(0).default(train.patience),
    freeze: z.number().int().min(0).max(4).default(train.freeze),
    flip: z.boolean().default(train.flip),
    reverseAugment: z.boolean().default(train.reverseAugment),
    split: z.enum(['video', 'clip', 'fixed']).default(train.split),
    valFraction: z.number().min(0).lt(1).default(train.valFraction),
    seed: z.number().int().default(train.seed),
    preciseBnBatches: z.number().int().min(0).default(train.preciseBnBatches),
    backend,
    /** Threads: ONNX Runtime's for its engine, else data-parallel worker threads (absent: one per core on the CPU backends). */
    workers: z.number().int().min(1).max(256).optional(),
    /** BatchNorm groups per batch (absent: one per worker), so one worker can compute what N workers do. */
    bnGroups: z.number().int().min(1).max(256).optional(),
    /** Where frozen stages run: ONNX Runtime (default on the CPU backends) or tfjs. */
    frozenPrefix: z.enum(['onnx', 'tfjs']).optional(),
    /** What computes the gradients: ONNX Runtime (default on the CPU backends) or the tfjs backend. */
    trainEngine: z.enum(['onnx', 'tfjs']).optional(),
  })
  .strict();

export const predictStartParams = z
  .object({
    modelId: id,
    videoIds: z.array(id).min(1).optional(),
    window: windowSpec.default(DEFAULT_PREDICT_PARAMS.window),
    stride: windowSpec.default(DEFAULT_PREDICT_PARAMS.stride),
    direction: z.enum(['forward', 'reversed', 'both']).default(DEFAULT_PREDICT_PARAMS.direction),
    batch: z.number().int().min(1).default(DEFAULT_PREDICT_PARAMS.batch),
    backend,
    engine,
    ...onQueue,
  })
  .strict();

export const probeStartParams = z
  .object({
    modelId: id,
    /** `windows`: every sliding window of the videos, the forward prediction standing in for a label. */
    clips: z.enum(['all', 'val', 'windows']).default(DEFAULT_PROBE_PARAMS.clips),
    videoIds: z.array(id).min(1).optional(),
    window: windowSpec.optional(),
    stride: windowSpec.optional(),
    batch: z.number().int().min(1).default(DEFAULT_PROBE_PARAMS.batch),
    backend,
    engine,
    ...onQueue,
  })
  .strict();

const segmentOptions = {
  thresholds,
  defaultThreshold: z.number().min(0).max(1).optional(),
  minDurationS: z.number().min(0).optional(),
};

export const jobsRequests = {
  'jobs.list': request(z.object({ status: z.enum(['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted']).optional(), kind: z.enum(['train', 'predict', 'probe']).optional() }).strict()).returns<JobView[]>(),
  'jobs.get': request(z.object({ id }).strict()).returns<JobView>(),
  /** Cancels a queued or running job (a running one stops at its next step). */
  'jobs.cancel': request(z.object({ id }).strict()).returns<JobView>(),
  /** Queues an interrupted or failed job again; training continues from its last checkpoint. */
  'jobs.resume': request(z.object({ id }).strict()).returns<JobView>(),
  /** Resolves when the job has finished (done, failed, cancelled or interrupted). */
  'jobs.wait': request(z.object({ id }).strict()).returns<JobView>(),
  'jobs.log': request(z.object({ id }).strict()).returns<{ id: number; log: string }>(),

  'train.start': request(trainStartParams).returns<JobView>(),
  /** The train/validation split a run would make now (before starting one). */
  'train.splitPreview': request(
    z.object({ split: z.enum(['video', 'clip', 'fixed']), valFraction: z.number().min(0).lt(1), seed: z.number().int().default(1) }).strict(),
  ).returns<SplitPreview>(),
  'predict.start': request(predictStartParams).returns<JobView>(),
  'probe.start': request(probeStartParams).returns<JobView>(),

  'models.list': request(z.object({}).strict()).returns<ModelRecord[]>(),
  'models.get': request(z.object({ id }).strict()).returns<ModelRecord>(),
  /** Adds a model file (exported from another project or machine) to this project. */
  'models.import': request(z.object({ file: z.string().min(1), name: z.string().min(1).optional() }).strict()).returns<ModelRecord>(),
  /** Writes a model as one self-contained file (weights, architecture, classes, normalisation). */
  'models.export': request(z.object({ id, file: z.string().min(1) }).strict()).returns<{ file: string; model: ModelRecord }>(),

  /** Per-epoch curves and confusion matrices of a training job, or of the job that trained a model. */
  'metrics.get': request(z.object({ jobId: id.optional(), modelId: id.optional() }).strict()).returns<MetricsResult>(),

  /** Window probabilities of one video for the timeline's heat tracks. */
  'predictions.windows': request(z.object({ videoId: id, modelId: id, direction: z.enum(['forward', 'reversed']).default('forward') }).strict()).returns<WindowsResult>(),
  /** Segments (thresholds + minimum duration) of one video's forward predictions. */
  'predictions.segments': request(z.object({ videoId: id, modelId: id, ...segmentOptions }).strict()).returns<Segment[]>(),
  /** Unlabelled windows across videos, most uncertain first, without the ones rejected in review. */
  'predictions.reviewQueue': request(z.object({ modelId: id, limit: z.number().int().min(1).max(10_000).default(100) }).strict()).returns<ReviewItem[]>(),
  /** Turns a predicted window into a label (source "prediction"); `classId` overrides the top-1 class. */
  'predictions.accept': request(z.object({ modelId: id, videoId: id, windowIndex: z.number().int().min(0), classId: id.optional() }).strict()).returns<ClipRecord>(),

  'probe.results': request(z.object({ jobId: id.optional(), modelId: id.optional() }).strict()).returns<ProbeResultView[]>(),
  'probe.summary': request(z.object({ jobId: id.optional(), modelId: id.optional() }).strict()).returns<ProbeSummary & { jobId: number | null }>(),

  /**
   * CSV as docs/formats.md describes; predictions/segments/probe are of a model (the newest one when omitted), from its
   * latest job per video, or only from `jobId` (one predict or probe run).
   */
  /** `download`: in the browser host, the id under which the written file can be downloaded (/download/<id>). */
  'export.csv': request(
    z.object({ kind: z.enum(['labels', 'predictions', 'segments', 'probe']), file: z.string().min(1), modelId: id.optional(), jobId: id.optional(), ...segmentOptions }).strict(),
  ).returns<CsvExportResult & { download: string | null }>(),
} satisfies RequestMap;

export const jobsEvents = {
  /** A running job moved on (rate and ETA included). */
  'job.progress': event<{ job: JobView; progress: JobProgress }>(),
  /** A job was queued, started, finished, failed, was cancelled or interrupted. */
  'job.updated': event<{ job: JobView }>(),
} satisfies EventMap;
