/**
 * Fine-tuning job: TSN-sampled clips (random offsets, corner crop + scale jitter, flip only for flip-safe
 * classes, optional reversal of reverse-pair classes as their partner), SGD with momentum or Adam, class
 * weighting, early stopping, frozen early stages. Every epoch stores loss, top-1, per-class P/R/F1 and the
 * confusion matrix, writes a resumable checkpoint (weights + optimizer state) and keeps the best weights as
 * the model's file.
 *
 * `TrainingRun` owns one run: what it trains on (dataset, split, class weights, sampling), where it stands
 * (epoch, best score) and the engine that does the arithmetic (train-engine.ts); checkpoint files are
 * train-checkpoint.ts's, input batches train-batches.ts's.
 */
import { existsSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { toErrorPayload, UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ModelRecord } from '../store/models.ts';
import { selectBackend, type BackendSelection } from '../compute/backends.ts';
import { clipsPerRun, watchGpuDevice } from '../compute/webgpu-device.ts';
import { requireFfmpegTools } from '../media/locate.ts';
import { ClipFrameCache } from './frame-cache.ts';
import { seededRng } from '../media/sampling.ts';
import { createStmNetwork, type StmNetwork } from '../model/network.ts';
import { evaluate, softmax, argmax, type Evaluation } from '../figures/metrics.ts';
import { splitClips, shuffled, type ClipSplit } from './split.ts';
import { loadDataset, type LabelledClip, type ProjectDataset } from './dataset.ts';
import { chunks, loadBatch, statisticsBatches, type Batch, type BatchSampling } from './train-batches.ts';
import { archOf, buildStartingNetwork, startedFromMetadata, type StartedFrom } from './model-files.ts';
import { jobParamsOf, type TrainParams } from './params.ts';
import { clearTrainStepsFrom, recordTrainStep, StepCurve, type TrainStepPoint } from './train-steps.ts';
import {
  bestCheckpointRelative, FRESH_PROGRESS, lastCheckpointPath, readResumable, writeBestCheckpoint, writeResumable,
  type OptimizerSlot, type TrainProgress,
} from './train-checkpoint.ts';
import { TrainReplica } from './train-replica.ts';
import { clipValuesOf, LocalEngine, type TrainingEngine } from './train-engine.ts';
import { startParallelEngine } from './train-parallel.ts';
import { OnnxPrefix } from './train-prefix.ts';
import { onnxClipsPerPass, OnnxTrainingStep } from './train-onnx.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

export { lastCheckpointPath } from './train-checkpoint.ts';

export function trainParamsOf(job: JobRecord): TrainParams {
  return jobParamsOf(job, 'train');
}

/** The learning rate of step `step` (0-based) of `steps`. */
export function learningRateAt(params: TrainParams, step: number, steps: number): number {
  return params.lrSchedule === 'cosine' ? params.lr * 0.5 * (1 + Math.cos((Math.PI * step) / steps)) : params.lr;
}

/** Inverse-frequency class weights normalised to mean 1 (all ones when weighting is off). */
function classWeights(clips: readonly LabelledClip[], classIndex: Map<number, number>, k: number, enabled: boolean): number[] {
  if (!enabled) return new Array<number>(k).fill(1);
  const counts = new Array<number>(k).fill(0);
  for (const c of clips) counts[classIndex.get(c.classId)!] += 1;
  const present = counts.filter((n) => n > 0).length;
  return counts.map((n) => (n > 0 ? clips.length / (present * n) : 0));
}

function frameCacheNote(cache: ClipFrameCache): string {
  const { spans, bytes, overflow } = cache.use;
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
  return `frame cache: ${spans} clip spans decoded once and held in memory (${mb(bytes)})${overflow ? `; ${overflow} over the ${mb(cache.budgetBytes)} budget are decoded at every use` : ''}`;
}

function prefixCacheNote(prefix: OnnxPrefix): string {
  const kept = `frozen-prefix cache: feature maps of ${prefix.cachedClips} validation clip(s) kept across epochs (${prefix.cachedMiB.toFixed(0)} MB)`;
  const over = prefix.overflow ? `; ${prefix.overflow} over the ${(prefix.budgetBytes / 2 ** 20).toFixed(0)} MB budget are recomputed` : '';
  return `${kept}${over}; training clips get new random offsets and crops every epoch, so their maps are computed anew`;
}

/** The project's classes as training sees them: names, index by id, and which augmentations apply to which. */
interface ClassSetup {
  names: string[];
  index: Map<number, number>;
  flipSafe: Set<number>;
  partnerOf: Map<number, number>;
}

function classSetupOf(dataset: ProjectDataset): ClassSetup {
  const index = new Map(dataset.classes.map((c, i) => [c.id, i]));
  return {
    names: dataset.classes.map((c) => c.name),
    index,
    flipSafe: new Set(dataset.classes.filter((c) => c.flipSafe).map((c) => c.id)),
    partnerOf: new Map(dataset.classes.flatMap((c) => (c.reverseOf !== null && index.has(c.reverseOf) ? [[c.id, c.reverseOf] as const] : []))),
  };
}

/** The network a run starts from, its model row and where it stands: fresh, or resumed from its last checkpoint. */
interface RunStart {
  network: StmNetwork;
  model: ModelRecord;
  progress: TrainProgress;
  optimizer: OptimizerSlot[];
}

async function startOrResume(project: Project, job: JobRecord, params: TrainParams, classNames: string[], hooks: JobHooks): Promise<RunStart> {
  const resumeFrom = job.modelId !== null ? lastCheckpointPath(project, job.modelId) : null;
  if (job.modelId !== null && resumeFrom && existsSync(resumeFrom)) {
    const model = project.models.require(job.modelId);
    const { info, snapshot, progress } = readResumable(resumeFrom);
    if (info.config.classes !== classNames.length || model.classes.join('\n') !== classNames.join('\n')) {
      throw new UserError('conflict', `The classes changed since job ${job.id} started (${model.classes.join(', ')} → ${classNames.join(', ')}); start a new training instead.`);
    }
    const network = createStmNetwork(info.config, { weights: snapshot.weights, source: resumeFrom });
    hooks.log(`resuming from the checkpoint after epoch ${progress.epoch} (best so far: epoch ${progress.bestEpoch})`);
    return { network, model, progress, optimizer: snapshot.optimizer };
  }
  const start = await buildStartingNetwork(project, params, classNames, hooks);
  const model = project.models.insert({
    name: params.name ?? `${start.network.config.variant} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    arch: { ...archOf(start.network.config), ...(start.startedFrom ? { startedFrom: start.startedFrom } : {}) },
    classes: classNames,
    parentModelId: start.parentModelId,
  });
  project.jobs.update(job.id, { modelId: model.id });
  return { network: start.network, model, progress: { ...FRESH_PROGRESS }, optimizer: [] };
}

/** What does a run's arithmetic: the engine, and the frozen prefix on ONNX Runtime that feeds it (if any). */
interface Compute {
  engine: TrainingEngine;
  prefix: OnnxPrefix | null;
  /** Clips one forward pass may hold (fewer than a batch where a GPU's buffers are too small). */
  passClips: number;
}

/**
 * The engine a run trains with: one replica per worker thread when several workers are asked for (by
 * default one per core on wasm and cpu, whose kernels run one thread each), else the replica in this thread;
 * frozen stages run on ONNX Runtime in front of it (by default on those backends).
 */
async function startCompute(start: RunStart, params: TrainParams, classWeights: number[], backend: BackendSelection, hooks: JobHooks): Promise<Compute> {
  const perCore = backend.name === 'wasm' || backend.name === 'cpu';
  if ((params.trainEngine ?? (perCore ? 'onnx' : 'tfjs')) === 'onnx') {
    if (!perCore) {
      throw new UserError('invalid_input', `The ONNX Runtime training engine trains on the CPU, with the weights in the wasm or cpu backend; this run's backend is ${backend.name}. Choose the wasm backend, or the tfjs engine to train on ${backend.name}.`);
    }
    return startOnnxCompute(start, params, classWeights, backend, hooks);
  }
  const asked = params.workers ?? (perCore ? availableParallelism() : 1);
  const workers = Math.max(1, Math.min(asked, params.batch));
  const config = start.network.config;
  const pass = clipsPerRun(config, params.batch);
  if (pass.note) hooks.log(`${pass.note}; gradients of the parts are added up before each step`);
  const groups = Math.max(workers, params.bnGroups ?? workers, Math.ceil(params.batch / pass.clips));
  const groupNote = groups > 1 ? `; BatchNorm statistics per ${groups === workers ? 'replica' : `group of about ${Math.ceil(params.batch / groups)} clip(s)`}` : '';
  const onnxPrefix = params.freeze > 0 && (params.frozenPrefix ?? (perCore ? 'onnx' : 'tfjs')) === 'onnx';
  const prefix = onnxPrefix ? await OnnxPrefix.create(await start.network.stateDict(), config, params.freeze) : null;
  const fromStage = prefix ? params.freeze : 0;
  if (params.freeze > 0) {
    hooks.log(
      prefix
        ? `frozen stem and stages 1–${params.freeze} run on ONNX Runtime (inference mode, BatchNorm folded); the rest trains on ${backend.name}`
        : `frozen stem and stages 1–${params.freeze} run in inference mode on ${backend.name}`,
    );
  }
  try {
    if (workers === 1) {
      const why = asked > 1 ? ` (a batch of ${params.batch} clip${params.batch === 1 ? '' : 's'} has nothing to share)` : params.workers === undefined ? ` (the ${backend.name} backend is parallel already)` : '';
      hooks.log(`training in 1 worker thread${why}${groupNote}`);
      const replica = new TrainReplica(start.network, params, classWeights, fromStage);
      await replica.restoreOptimizer(start.optimizer);
      return { engine: new LocalEngine(replica, groups), prefix, passClips: pass.clips };
    }
    const weights = await start.network.stateDict();
    start.network.dispose();
    const engine = await startParallelEngine({
      config, weights, optimizer: start.optimizer, settings: params, classWeights, workers, shards: groups, backend: backend.name, fromStage,
    });
    hooks.log(`data-parallel training on ${workers} worker threads, one replica each: every batch of ${params.batch} clips is split between them and their gradients averaged${groupNote}`);
    return { engine, prefix, passClips: pass.clips };
  } catch (err) {
    await prefix?.dispose();
    throw err;
  }
}

/**
 * Gradients on ONNX Runtime, every core inside each operation; the network, its optimizer and the frozen
 * prefix (which always runs on ONNX Runtime here) stay in this thread. A batch runs in as few parts as the
 * machine's memory allows, each its own BatchNorm group.
 */
async function startOnnxCompute(start: RunStart, params: TrainParams, classWeights: number[], backend: BackendSelection, hooks: JobHooks): Promise<Compute> {
  if (params.freeze > 0 && params.frozenPrefix === 'tfjs') {
    throw new UserError('invalid_input', 'The ONNX Runtime training engine runs frozen stages on ONNX Runtime; use the tfjs engine to keep them in the tfjs network.');
  }
  const config = start.network.config;
  const threads = params.workers ?? availableParallelism();
  const perPass = onnxClipsPerPass(config, params.batch);
  const groups = Math.max(1, params.bnGroups ?? 1, Math.ceil(params.batch / perPass));
  const prefix = params.freeze > 0 ? await OnnxPrefix.create(await start.network.stateDict(), config, params.freeze, { threads }) : null;
  try {
    const step = new OnnxTrainingStep(config, params.freeze, config.dropout > 0, threads);
    const replica = new TrainReplica(start.network, params, classWeights, params.freeze, step);
    await replica.restoreOptimizer(start.optimizer);
    const stages = params.freeze === 1 ? 'stage 1' : `stages 1–${params.freeze}`;
    const frozen = params.freeze > 0 ? `; frozen stem and ${stages} run on ONNX Runtime in inference mode (BatchNorm folded), untrained` : '';
    const parts = groups > 1 ? `; each batch of ${params.batch} clips runs in ${groups} parts (BatchNorm statistics per part), their gradients added` : '';
    hooks.log(`training steps on ONNX Runtime with ${threads} thread${threads === 1 ? '' : 's'}${frozen}${parts}; weights and the ${params.optimizer} update in ${backend.name}`);
    return { engine: new LocalEngine(replica, groups), prefix, passClips: clipsPerRun(config, params.batch).clips };
  } catch (err) {
    await prefix?.dispose();
    throw err;
  }
}

/** A run that stopped before its first checkpoint leaves no model behind (nothing to use or resume). */
function dropUnusedModel(project: Project, modelId: number): void {
  if (!project.models.require(modelId).weightsPath && !existsSync(lastCheckpointPath(project, modelId))) project.models.remove(modelId);
}

export async function runTrainJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const run = await TrainingRun.setUp(project, job, hooks);
  return run.execute();
}

class TrainingRun {
  private lastVal: Evaluation | null = null;
  private lastTrainLoss = NaN;
  private lastPenalty = NaN;
  private readonly trainBatches: number;
  private readonly perEpoch: number;

  private constructor(
    private readonly project: Project,
    private readonly job: JobRecord,
    private readonly hooks: JobHooks,
    private readonly params: TrainParams,
    private readonly frameCache: ClipFrameCache,
    private readonly dataset: ProjectDataset,
    private readonly classes: ClassSetup,
    private readonly split: ClipSplit<LabelledClip>,
    private readonly weights: number[],
    private readonly engine: TrainingEngine,
    private readonly prefix: OnnxPrefix | null,
    /** Clips per validation and BatchNorm-statistics pass. */
    private readonly passClips: number,
    private model: ModelRecord,
    private progress: TrainProgress,
  ) {
    this.trainBatches = Math.ceil(split.train.length / params.batch);
    this.perEpoch = this.trainBatches + Math.ceil(split.val.length / passClips);
  }

  static async setUp(project: Project, job: JobRecord, hooks: JobHooks): Promise<TrainingRun> {
    const params = trainParamsOf(job);
    const backend = await selectBackend(params.backend ?? 'auto', params.backendSource);
    hooks.log(`compute backend: ${backend.name} (${backend.reason})`);
    watchGpuDevice();
    const frameCache = new ClipFrameCache(await requireFfmpegTools());
    const dataset = loadDataset(project, hooks, { frames: params.frames, requireTrainable: true });
    const classes = classSetupOf(dataset);
    const split = splitClips(dataset.clips, params.split, { valFraction: params.valFraction, seed: params.seed });
    hooks.log(split.note);
    if (split.train.length === 0) throw new UserError('invalid_input', 'No clip is left for training after the split; mark fewer clips as validation.');
    const weights = classWeights(split.train, classes.index, classes.names.length, params.classWeighting);

    const start = await startOrResume(project, job, params, classes.names, hooks);
    let compute: Compute;
    try {
      compute = await startCompute(start, params, weights, backend, hooks);
    } catch (err) {
      start.network.dispose();
      dropUnusedModel(project, start.model.id);
      throw err;
    }
    return new TrainingRun(project, job, hooks, params, frameCache, dataset, classes, split, weights, compute.engine, compute.prefix, compute.passClips, start.model, start.progress);
  }

  private get config() {
    return this.engine.config;
  }

  /** How every batch is sampled; `rng` is the epoch's random stream. */
  private sampling(rng: BatchSampling['rng']): BatchSampling {
    const { params, classes } = this;
    return { frames: this.config.frames, size: this.config.inputSize, flip: params.flip, flipSafe: classes.flipSafe, reverse: params.reverseAugment, partnerOf: classes.partnerOf, rng };
  }

  async execute(): Promise<JobOutcome> {
    const { params, split } = this;
    let stoppedEarly = false;
    try {
      this.logSettings();
      const firstEpoch = this.progress.epoch + 1;
      for (let epoch = firstEpoch; epoch <= params.epochs; epoch++) {
        await this.runEpoch(epoch, epoch === firstEpoch);
        if (params.patience > 0 && this.progress.stale >= params.patience) {
          this.hooks.log(`early stop: no better validation score for ${params.patience} epoch(s); best was epoch ${this.progress.bestEpoch}`);
          stoppedEarly = true;
          break;
        }
      }
      rmSync(lastCheckpointPath(this.project, this.model.id), { force: true });
      const { progress } = this;
      return {
        modelId: this.model.id,
        figures: {
          model_id: this.model.id,
          epochs: progress.epoch,
          best_epoch: progress.bestEpoch,
          train_loss: Number.isFinite(this.lastTrainLoss) ? this.lastTrainLoss : null,
          weight_decay_penalty: Number.isFinite(this.lastPenalty) ? this.lastPenalty : null,
          val_top1: split.val.length ? progress.bestTop1 : null,
          val_loss: split.val.length ? progress.bestLoss : null,
          stopped_early: stoppedEarly ? 1 : 0,
        },
      };
    } catch (err) {
      dropUnusedModel(this.project, this.model.id);
      throw this.withResumeNote(err);
    } finally {
      await this.engine.dispose();
      await this.prefix?.dispose();
    }
  }

  /** A run that failed after a checkpoint says that its work so far is kept and how to go on from it. */
  private withResumeNote(err: unknown): unknown {
    const payload = toErrorPayload(err);
    if (payload.code === 'cancelled' || this.progress.epoch === 0 || !existsSync(lastCheckpointPath(this.project, this.model.id))) return err;
    const note = `The checkpoint after epoch ${this.progress.epoch} is kept: resume the job to continue from it.`;
    return new UserError(payload.code === 'internal' ? 'unavailable' : payload.code, `${payload.message.replace(/\.?$/, '.')} ${note}`);
  }

  private logSettings(): void {
    const { params, split, hooks, classes } = this;
    hooks.log(`learning rate ${params.lr}${params.lrSchedule === 'cosine' ? `, cosine decay to 0 over ${params.epochs * this.trainBatches} steps` : ', constant'}`);
    if (params.reverseAugment) {
      hooks.log(
        classes.partnerOf.size
          ? `reverse-pair augmentation: clips of ${classes.partnerOf.size} classes with a reverse partner play backwards half the time, labelled as the partner`
          : 'reverse-pair augmentation is on, but no trained class has a reverse partner: nothing is reversed',
      );
    }
    if (params.preciseBnBatches > 0) {
      const used = Math.min(params.preciseBnBatches, Math.floor(split.train.length / params.batch) || 1);
      hooks.log(`precise BatchNorm: running statistics recomputed over ${used} training batch(es) after each epoch`);
    }
  }

  private reporter(epoch: number) {
    const { params } = this;
    const base = (epoch - 1) * this.perEpoch;
    const total = params.epochs * this.perEpoch;
    // Every progress report carries the split, so the run page can say when there is no validation.
    const validation = { clips: this.split.val.length, note: this.split.note };
    return (done: number, note: string, trainStep?: TrainStepPoint) =>
      this.hooks.report({ phase: 'training', done: base + done, total, unit: 'batches', epoch, epochs: params.epochs, note, validation, ...(trainStep ? { trainStep } : {}) });
  }

  private async runEpoch(epoch: number, first: boolean): Promise<void> {
    const { params, split, project, job } = this;
    const report = this.reporter(epoch);
    report(0, `epoch ${epoch}/${params.epochs}`);
    clearTrainStepsFrom(project, job.id, epoch);
    // One random stream per epoch: a resumed run samples exactly what an uninterrupted one would.
    const sampling = this.sampling(seededRng(params.seed * 1000 + epoch));
    const train = await this.trainEpoch(epoch, sampling, report);
    this.lastTrainLoss = train.loss;
    this.lastPenalty = train.penalty;
    project.metrics.insert({
      jobId: job.id, modelId: this.model.id, epoch, step: epoch * this.trainBatches, split: 'train',
      loss: train.loss, top1: train.top1, perClass: null, confusion: null,
    });

    await this.engine.syncStatistics();
    if (params.preciseBnBatches > 0) {
      report(this.trainBatches, `epoch ${epoch}/${params.epochs} · recomputing BatchNorm statistics`);
      const statistics = statisticsBatches(this.frameCache, this.dataset, split.train, this.classes.index, { ...params, batch: this.passClips }, this.sampling(seededRng(params.seed * 1000 + epoch + 500)), this.hooks);
      await this.engine.recalibrateBatchNorm(this.prefix ? this.prefixed(statistics) : statistics);
    }

    let top1 = train.top1;
    let loss = train.loss;
    if (split.val.length) {
      const val = await this.validate(sampling, (done) => report(this.trainBatches + done, `epoch ${epoch}/${params.epochs} · validating`));
      this.lastVal = val.evaluation;
      top1 = val.evaluation.top1;
      loss = val.loss;
      project.metrics.insert({
        jobId: job.id, modelId: this.model.id, epoch, step: epoch * this.trainBatches, split: 'val',
        loss: val.loss, top1, perClass: { ...val.evaluation.perClass }, confusion: val.evaluation.confusion,
      });
    }
    if (first) {
      this.hooks.log(frameCacheNote(this.frameCache));
      if (this.prefix) this.hooks.log(prefixCacheNote(this.prefix));
    }
    const penaltyNote = params.weightDecay > 0 ? ` (weight-decay penalty ${train.penalty.toFixed(4)} apart)` : '';
    this.hooks.log(`epoch ${epoch}: train loss ${train.loss.toFixed(4)}${penaltyNote}${split.val.length ? `, val loss ${loss.toFixed(4)}, val top-1 ${(top1 * 100).toFixed(1)}%` : ''}`);
    await this.endEpoch(epoch, top1, loss);
  }

  private async trainEpoch(epoch: number, sampling: BatchSampling, report: ReturnType<TrainingRun['reporter']>): Promise<{ loss: number; penalty: number; top1: number }> {
    const { params, split, frameCache, dataset, classes } = this;
    const order = chunks(shuffled(split.train, sampling.rng), params.batch);
    const curve = new StepCurve(epoch, order.length);
    // The next batch loads while this one trains; a step that fails first leaves it unread, so its own
    // failure (its files removed meanwhile) must not become an unhandled rejection.
    const load = (b: number) => {
      const loading = loadBatch(frameCache, dataset, order[b], classes.index, { ...sampling, training: true });
      loading.catch(() => {});
      return loading;
    };
    let lossSum = 0;
    /** The weight-decay penalty at the epoch's last step (it moves slowly; reported beside the data loss). */
    let penalty = 0;
    let correct = 0;
    let next = load(0);
    for (let b = 0; b < order.length; b++) {
      this.hooks.throwIfCancelled();
      const batch = await next;
      if (b + 1 < order.length) next = load(b + 1);
      const lr = learningRateAt(params, (epoch - 1) * this.trainBatches + b, params.epochs * this.trainBatches);
      const { loss, penalty: stepPenalty, predicted } = await this.engine.step(await this.engineInput(batch), lr);
      penalty = stepPenalty;
      const batchCorrect = predicted.filter((p, i) => p === batch.labels[i]).length;
      lossSum += loss * batch.labels.length;
      correct += batchCorrect;
      const point = curve.add(b + 1, loss, batchCorrect, batch.labels.length);
      if (point) recordTrainStep(this.project, this.job.id, point);
      report(b + 1, `epoch ${epoch}/${params.epochs} · loss ${loss.toFixed(3)}`, point ?? undefined);
    }
    return { loss: lossSum / split.train.length, penalty, top1: correct / split.train.length };
  }

  private async validate(sampling: BatchSampling, onBatch: (done: number) => void): Promise<{ evaluation: Evaluation; loss: number }> {
    const truth: number[] = [];
    const predicted: number[] = [];
    let lossSum = 0;
    let weightSum = 0;
    const batches = chunks(this.split.val, this.passClips);
    for (let b = 0; b < batches.length; b++) {
      this.hooks.throwIfCancelled();
      const batch = await loadBatch(this.frameCache, this.dataset, batches[b], this.classes.index, { ...sampling, training: false });
      const logits = await this.engine.predict(await this.engineInput(batch, batches[b].map((c) => c.id)));
      logits.forEach((row, i) => {
        const p = softmax(row);
        const label = batch.labels[i];
        lossSum += -Math.log(Math.max(p[label], 1e-12)) * this.weights[label];
        weightSum += this.weights[label];
        truth.push(label);
        predicted.push(argmax(row));
      });
      onBatch(b + 1);
    }
    return { evaluation: evaluate(truth, predicted, this.classes.names), loss: weightSum > 0 ? lossSum / weightSum : 0 };
  }

  /**
   * What the engine takes: the batch's frames, or their frozen-prefix feature maps. `keys` (clip ids) marks
   * clips sampled the same way every epoch (validation), whose maps are kept.
   */
  private async engineInput(batch: Batch, keys?: number[]): Promise<Batch> {
    if (!this.prefix) return batch;
    return { x: await this.prefix.features(batch.x, batch.labels.length, keys), labels: batch.labels };
  }

  private async *prefixed(batches: AsyncIterable<Float32Array>): AsyncGenerator<Float32Array> {
    const clipValues = clipValuesOf(this.config);
    for await (const x of batches) yield this.prefix!.features(x, x.length / clipValues);
  }

  /** Keeps the best weights as the model's file, then writes the resumable checkpoint. */
  private async endEpoch(epoch: number, top1: number, loss: number): Promise<void> {
    const { project, classes } = this;
    const previous = this.progress;
    const improved = top1 > previous.bestTop1 || (top1 === previous.bestTop1 && loss < previous.bestLoss);
    this.progress = improved ? { epoch, bestEpoch: epoch, bestTop1: top1, bestLoss: loss, stale: 0 } : { ...previous, epoch, stale: previous.stale + 1 };
    if (improved) {
      writeBestCheckpoint(join(project.dir, bestCheckpointRelative(this.model.id)), this.config, classes.names, await this.engine.weights(), {
        model_name: this.model.name,
        epoch: String(epoch),
        ...startedFromMetadata(this.model.arch.startedFrom as StartedFrom | undefined),
      });
      this.model = project.models.update(this.model.id, { weightsPath: bestCheckpointRelative(this.model.id), metrics: this.modelMetrics() });
    }
    writeResumable(lastCheckpointPath(project, this.model.id), this.config, classes.names, await this.engine.snapshot(), this.progress);
  }

  private modelMetrics(): Record<string, unknown> {
    const { progress, lastVal: val } = this;
    return {
      bestEpoch: progress.bestEpoch,
      valTop1: val ? progress.bestTop1 : null,
      valLoss: val ? progress.bestLoss : null,
      perClass: val?.perClass ?? null,
      split: this.split.note,
      /** The probe's "validation clips" option reads these. */
      valClipIds: this.split.val.map((c) => c.id),
    };
  }
}
