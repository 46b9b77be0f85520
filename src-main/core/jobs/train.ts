/**
 * Fine-tuning job: TSN-sampled clips (random offsets, corner crop + scale jitter, flip only for flip-safe
 * classes, optional reversal of reverse-pair classes as their partner), SGD with momentum or Adam, class
 * weighting, early stopping, frozen early stages. Every epoch stores loss, top-1, per-class P/R/F1 and the
 * confusion matrix, writes a resumable checkpoint (weights + optimizer state) and keeps the best weights as
 * the model's file.
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ModelRecord } from '../store/models.ts';
import { selectBackend } from '../compute/backends.ts';
import { clipsPerRun, watchGpuDevice, whileDeviceAlive } from '../compute/webgpu-device.ts';
import { requireFfmpegTools } from '../media/locate.ts';
import { ClipFrameCache } from './frame-cache.ts';
import { seededRng } from '../media/sampling.ts';
import { createStmNetwork, type StmNetwork } from '../model/network.ts';
import { checkpointInfoFromMetadata, checkpointMetadata, IMAGENET_NORMALIZATION } from '../model/checkpoint.ts';
import { encodeSafetensors, readSafetensors, type StoredTensor } from '../model/safetensors.ts';
import { evaluate, softmax, argmax, type Evaluation } from './metrics.ts';
import { splitClips, shuffled } from './split.ts';
import { loadDataset, type LabelledClip, type ProjectDataset } from './dataset.ts';
import { chunks, loadBatch, statisticsBatches, type Batch, type BatchSampling } from './train-batches.ts';
import { archOf, buildStartingNetwork, saveCheckpointAtomically, startedFromMetadata, writeFileAtomically, type StartedFrom } from './model-files.ts';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from './params.ts';
import { recomputeBatchNormStatistics } from './train-bn.ts';
import { clearTrainStepsFrom, recordTrainStep, StepCurve, type TrainStepPoint } from './train-steps.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

/** Progress of a training run, kept in the resumable checkpoint. */
interface TrainState {
  /** Epochs completed. */
  epoch: number;
  bestEpoch: number;
  bestTop1: number;
  bestLoss: number;
  /** Epochs since the best one (early stopping). */
  stale: number;
  /** Optimizer tensor names, in the order the tensors are stored. */
  optimizerNames: string[];
}

export function trainParamsOf(job: JobRecord): TrainParams {
  return { ...DEFAULT_TRAIN_PARAMS, from: { kind: 'scratch' }, ...(job.params as Partial<TrainParams>) };
}

export function lastCheckpointPath(project: Project, modelId: number): string {
  return join(project.modelsDir, `${modelId}.last.safetensors`);
}

function bestCheckpointRelative(modelId: number): string {
  return join('models', `${modelId}.safetensors`);
}

/** Variables the optimizer updates: everything trainable except the stem and the first `freeze` stages. */
function trainableOf(network: StmNetwork, freeze: number): tf.Variable[] {
  if (freeze <= 0) return network.trainableVariables();
  const frozenPrefixes = ['conv1.', 'bn1.', ...Array.from({ length: freeze }, (_, i) => `layer${i + 1}.`)];
  const frozen = new Set<tf.Variable>();
  for (const [name, variable] of network.variables()) if (frozenPrefixes.some((p) => name.startsWith(p))) frozen.add(variable);
  return network.trainableVariables().filter((v) => !frozen.has(v));
}

/** Adam whose learning rate can change between steps (SGD with momentum has `setLearningRate` already). */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(lr: number): void {
    this.learningRate = lr;
  }
}

type ScheduledOptimizer = tf.Optimizer & { setLearningRate(lr: number): void };

function makeOptimizer(params: TrainParams): ScheduledOptimizer {
  return params.optimizer === 'adam' ? new ScheduledAdam(params.lr, 0.9, 0.999) : new tf.MomentumOptimizer(params.lr, params.momentum);
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

/**
 * Softmax cross-entropy of clip logits, each clip weighted by its class weight, summed and divided by
 * `weightSum` (the whole batch's weight, so that the parts of a batch add up to its weighted mean).
 */
function weightedLoss(clipLogits: tf.Tensor2D, labels: number[], weights: number[], k: number, weightSum: number): tf.Scalar {
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), k);
  const perClip = tf.neg(tf.sum(tf.mul(oneHot, tf.logSoftmax(clipLogits)), 1));
  const w = tf.tensor1d(labels.map((l) => weights[l]));
  return tf.div(tf.sum(tf.mul(perClip, w)), weightSum) as tf.Scalar;
}

async function saveResumable(path: string, network: StmNetwork, optimizer: tf.Optimizer, classNames: string[], state: Omit<TrainState, 'optimizerNames'>): Promise<void> {
  const tensors = await network.stateDict();
  const slots = await optimizer.getWeights();
  const names: string[] = [];
  for (const [i, slot] of slots.entries()) {
    names.push(slot.name);
    const data = (await slot.tensor.data()) as Float32Array;
    tensors.set(`optimizer/${i}`, { dtype: 'F32', shape: slot.tensor.shape.length ? slot.tensor.shape : [1], data: Float32Array.from(data) });
  }
  const metadata = checkpointMetadata({
    config: network.config,
    classNames,
    normalization: IMAGENET_NORMALIZATION,
    sampling: { strategy: 'tsn-segments', frames: network.config.frames, size: network.config.inputSize },
    extra: { train_state: JSON.stringify({ ...state, optimizerNames: names }) },
  });
  writeFileAtomically(path, encodeSafetensors(tensors, metadata), 'training checkpoint');
}

async function loadResumable(path: string, optimizer: tf.Optimizer): Promise<{ network: StmNetwork; state: TrainState }> {
  const file = readSafetensors(path);
  const info = checkpointInfoFromMetadata(file.metadata, path);
  const state = JSON.parse(info.extra.train_state ?? 'null') as TrainState | null;
  if (!state) throw new UserError('invalid_input', `${path} has no training state; it cannot be resumed.`);
  const network = createStmNetwork(info.config);
  network.loadState(new Map([...file.tensors].filter(([n]) => !n.startsWith('optimizer/'))), { strict: true, source: path });
  const slots = state.optimizerNames.map((name, i) => {
    const stored: StoredTensor | undefined = file.tensors.get(`optimizer/${i}`);
    if (!stored) throw new UserError('invalid_input', `${path}: optimizer tensor ${i} ("${name}") is missing`);
    return { name, tensor: tf.tensor(stored.data as Float32Array, stored.shape) };
  });
  if (slots.length) await optimizer.setWeights(slots);
  return { network, state };
}

export async function runTrainJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const params = trainParamsOf(job);
  const backend = await selectBackend(params.backend ?? 'auto', params.backendSource);
  hooks.log(`compute backend: ${backend.name} (${backend.reason})`);
  watchGpuDevice();
  const frameCache = new ClipFrameCache(await requireFfmpegTools());
  const dataset = loadDataset(project, hooks, { frames: params.frames, requireTrainable: true });
  const classNames = dataset.classes.map((c) => c.name);
  const k = classNames.length;
  const classIndex = new Map(dataset.classes.map((c, i) => [c.id, i]));
  const flipSafe = new Set(dataset.classes.filter((c) => c.flipSafe).map((c) => c.id));
  const partnerOf = new Map(dataset.classes.flatMap((c) => (c.reverseOf !== null && classIndex.has(c.reverseOf) ? [[c.id, c.reverseOf] as const] : [])));
  const split = splitClips(dataset.clips, params.split, { valFraction: params.valFraction, seed: params.seed });
  hooks.log(split.note);
  if (split.train.length === 0) throw new UserError('invalid_input', 'No clip is left for training after the split; mark fewer clips as validation.');
  const weights = classWeights(split.train, classIndex, k, params.classWeighting);

  const optimizer = makeOptimizer(params);
  let network: StmNetwork;
  let model: ModelRecord;
  let state: Omit<TrainState, 'optimizerNames'> = { epoch: 0, bestEpoch: 0, bestTop1: -1, bestLoss: Infinity, stale: 0 };
  const resumeFrom = job.modelId !== null ? lastCheckpointPath(project, job.modelId) : null;
  if (job.modelId !== null && resumeFrom && existsSync(resumeFrom)) {
    model = project.models.require(job.modelId);
    const resumed = await loadResumable(resumeFrom, optimizer);
    network = resumed.network;
    state = resumed.state;
    if (network.config.classes !== k || model.classes.join('\n') !== classNames.join('\n')) {
      network.dispose();
      throw new UserError('conflict', `The classes changed since job ${job.id} started (${model.classes.join(', ')} → ${classNames.join(', ')}); start a new training instead.`);
    }
    hooks.log(`resuming from the checkpoint after epoch ${state.epoch} (best so far: epoch ${state.bestEpoch})`);
  } else {
    const start = await buildStartingNetwork(project, params, classNames, hooks);
    network = start.network;
    model = project.models.insert({
      name: params.name ?? `${network.config.variant} ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
      arch: { ...archOf(network.config), ...(start.startedFrom ? { startedFrom: start.startedFrom } : {}) },
      classes: classNames,
      parentModelId: start.parentModelId,
    });
    project.jobs.update(job.id, { modelId: model.id });
  }

  try {
    const trainable = trainableOf(network, params.freeze);
    const decayed = trainable.filter((v) => v.shape.length >= 2);
    const trainBatches = Math.ceil(split.train.length / params.batch);
    const run = clipsPerRun(network.config, params.batch);
    if (run.note) hooks.log(`${run.note}; gradients of the parts are added up before each step`);
    const valBatches = Math.ceil(split.val.length / run.clips);
    const perEpoch = trainBatches + valBatches;
    const total = params.epochs * perEpoch;
    const baseOptions = { frames: network.config.frames, size: network.config.inputSize, flip: params.flip, flipSafe, reverse: params.reverseAugment, partnerOf };
    let lastVal: Evaluation | null = null;
    let lastTrainLoss = NaN;
    let stoppedEarly = false;
    hooks.log(`learning rate ${params.lr}${params.lrSchedule === 'cosine' ? `, cosine decay to 0 over ${params.epochs * trainBatches} steps` : ', constant'}`);
    if (params.reverseAugment) {
      hooks.log(
        partnerOf.size
          ? `reverse-pair augmentation: clips of ${partnerOf.size} classes with a reverse partner play backwards half the time, labelled as the partner`
          : 'reverse-pair augmentation is on, but no trained class has a reverse partner: nothing is reversed',
      );
    }
    if (params.preciseBnBatches > 0) {
      const used = Math.min(params.preciseBnBatches, Math.floor(split.train.length / params.batch) || 1);
      hooks.log(`precise BatchNorm: running statistics recomputed over ${used} training batch(es) after each epoch`);
    }

    const firstEpoch = state.epoch + 1;
    for (let epoch = firstEpoch; epoch <= params.epochs; epoch++) {
      const base = (epoch - 1) * perEpoch;
      const report = (done: number, note: string, trainStep?: TrainStepPoint) =>
        hooks.report({ phase: 'training', done: base + done, total, unit: 'batches', epoch, epochs: params.epochs, note, ...(trainStep ? { trainStep } : {}) });
      report(0, `epoch ${epoch}/${params.epochs}`);
      clearTrainStepsFrom(project, job.id, epoch);
      // One random stream per epoch: a resumed run samples exactly what an uninterrupted one would.
      const rng = seededRng(params.seed * 1000 + epoch);
      const sampleOptions = { ...baseOptions, rng };
      const order = chunks(shuffled(split.train, rng), params.batch);
      const curve = new StepCurve(epoch, order.length);
      let lossSum = 0;
      let correct = 0;
      // The next batch loads while this one trains; a step that fails first leaves it unread, so its own
      // failure (its files removed meanwhile) must not become an unhandled rejection.
      const prefetch = (clips: (typeof order)[number]) => {
        const loading = loadBatch(frameCache, dataset, clips, classIndex, { ...sampleOptions, training: true });
        loading.catch(() => {});
        return loading;
      };
      let next = prefetch(order[0]);
      for (let b = 0; b < order.length; b++) {
        hooks.throwIfCancelled();
        const batch = await next;
        if (b + 1 < order.length) next = prefetch(order[b + 1]);
        optimizer.setLearningRate(learningRateAt(params, (epoch - 1) * trainBatches + b, params.epochs * trainBatches));
        const { loss, predicted } = await trainStep(network, optimizer, trainable, decayed, batch, weights, k, params, run.clips);
        const batchCorrect = predicted.filter((p, i) => p === batch.labels[i]).length;
        lossSum += loss * batch.labels.length;
        correct += batchCorrect;
        const point = curve.add(b + 1, loss, batchCorrect, batch.labels.length);
        if (point) recordTrainStep(project, job.id, point);
        report(b + 1, `epoch ${epoch}/${params.epochs} · loss ${loss.toFixed(3)}`, point ?? undefined);
      }
      lastTrainLoss = lossSum / split.train.length;
      project.metrics.insert({
        jobId: job.id, modelId: model.id, epoch, step: epoch * trainBatches, split: 'train',
        loss: lastTrainLoss, top1: correct / split.train.length, perClass: null, confusion: null,
      });

      if (params.preciseBnBatches > 0) {
        report(trainBatches, `epoch ${epoch}/${params.epochs} · recomputing BatchNorm statistics`);
        await recomputeBatchNormStatistics(network, statisticsBatches(frameCache, dataset, split.train, classIndex, { ...params, batch: run.clips }, { ...baseOptions, rng: seededRng(params.seed * 1000 + epoch + 500) }, hooks));
      }

      let top1 = correct / split.train.length;
      let loss = lastTrainLoss;
      if (split.val.length) {
        const val = await validate(frameCache, dataset, split.val, classIndex, network, classNames, weights, run.clips, sampleOptions, hooks, (done) => report(trainBatches + done, `epoch ${epoch}/${params.epochs} · validating`));
        lastVal = val.evaluation;
        top1 = val.evaluation.top1;
        loss = val.loss;
        project.metrics.insert({
          jobId: job.id, modelId: model.id, epoch, step: epoch * trainBatches, split: 'val',
          loss: val.loss, top1, perClass: { ...val.evaluation.perClass }, confusion: val.evaluation.confusion,
        });
      }
      if (epoch === firstEpoch) hooks.log(frameCacheNote(frameCache));
      hooks.log(`epoch ${epoch}: train loss ${lastTrainLoss.toFixed(4)}${split.val.length ? `, val loss ${loss.toFixed(4)}, val top-1 ${(top1 * 100).toFixed(1)}%` : ''}`);

      const improved = top1 > state.bestTop1 || (top1 === state.bestTop1 && loss < state.bestLoss);
      state = improved
        ? { epoch, bestEpoch: epoch, bestTop1: top1, bestLoss: loss, stale: 0 }
        : { ...state, epoch, stale: state.stale + 1 };
      if (improved) {
        await saveCheckpointAtomically(join(project.dir, bestCheckpointRelative(model.id)), network, classNames, {
          model_name: model.name,
          epoch: String(epoch),
          ...startedFromMetadata(model.arch.startedFrom as StartedFrom | undefined),
        });
        model = project.models.update(model.id, { weightsPath: bestCheckpointRelative(model.id), metrics: modelMetrics(state, lastVal, split.note, split.val) });
      }
      await saveResumable(lastCheckpointPath(project, model.id), network, optimizer, classNames, state);
      if (params.patience > 0 && state.stale >= params.patience) {
        hooks.log(`early stop: no better validation score for ${params.patience} epoch(s); best was epoch ${state.bestEpoch}`);
        stoppedEarly = true;
        break;
      }
    }
    rmSync(lastCheckpointPath(project, model.id), { force: true });
    return {
      modelId: model.id,
      figures: {
        model_id: model.id,
        epochs: state.epoch,
        best_epoch: state.bestEpoch,
        train_loss: Number.isFinite(lastTrainLoss) ? lastTrainLoss : null,
        val_top1: split.val.length ? state.bestTop1 : null,
        val_loss: split.val.length ? state.bestLoss : null,
        stopped_early: stoppedEarly ? 1 : 0,
      },
    };
  } catch (err) {
    // A run that stopped before its first checkpoint leaves no model behind (nothing to use or resume).
    if (!project.models.require(model.id).weightsPath && !existsSync(lastCheckpointPath(project, model.id))) {
      project.models.remove(model.id);
    }
    throw err;
  } finally {
    network.dispose();
    optimizer.dispose();
  }
}

function modelMetrics(
  state: Omit<TrainState, 'optimizerNames'>,
  val: Evaluation | null,
  splitNote: string,
  valClips: readonly LabelledClip[],
): Record<string, unknown> {
  return {
    bestEpoch: state.bestEpoch,
    valTop1: val ? state.bestTop1 : null,
    valLoss: val ? state.bestLoss : null,
    perClass: val?.perClass ?? null,
    split: splitNote,
    /** The probe's "validation clips" option reads these. */
    valClipIds: valClips.map((c) => c.id),
  };
}

/**
 * One optimizer step over a batch. Where the GPU's buffers cannot hold the whole batch it runs in parts of
 * `perRun` clips whose gradients add up to the whole batch's (BatchNorm then sees each part's statistics, as
 * with gradient accumulation in PyTorch).
 */
async function trainStep(
  network: StmNetwork,
  optimizer: tf.Optimizer,
  trainable: tf.Variable[],
  decayed: tf.Variable[],
  batch: Batch,
  weights: number[],
  k: number,
  params: TrainParams,
  perRun: number,
): Promise<{ loss: number; predicted: number[] }> {
  const { frames, inputSize: size } = network.config;
  const clipValues = frames * size * size * 3;
  const weightSum = Math.max(batch.labels.reduce((sum, l) => sum + weights[l], 0), 1e-8);
  let summed: tf.NamedTensorMap | null = null;
  let loss = 0;
  const predicted: number[] = [];
  try {
    for (let start = 0; start < batch.labels.length; start += perRun) {
      const labels = batch.labels.slice(start, start + perRun);
      const previous: tf.NamedTensorMap | null = summed;
      const [value, logits, grads] = tf.tidy((): [tf.Scalar, tf.Tensor2D, tf.NamedTensorMap] => {
        const x = tf.tensor4d(batch.x.subarray(start * clipValues, (start + labels.length) * clipValues), [labels.length * frames, size, size, 3]);
        let kept: tf.Tensor2D | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const { clipLogits } = network.forward(x, { training: true });
          kept = tf.keep(clipLogits);
          let partLoss = weightedLoss(clipLogits, labels, weights, k, weightSum);
          if (start === 0 && params.weightDecay > 0 && decayed.length) {
            // Added in pairs: tf.addN binds one buffer per input, beyond WebGPU's 8 storage buffers per shader.
            const l2 = decayed.map((v) => tf.sum(tf.square(v))).reduce((a, b) => tf.add(a, b));
            partLoss = tf.add(partLoss, tf.mul(l2, params.weightDecay / 2)) as tf.Scalar;
          }
          return partLoss;
        }, trainable);
        const total = previous ? Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.add(previous[name]!, g)])) : grads;
        return [value, kept as unknown as tf.Tensor2D, total];
      });
      if (previous) tf.dispose(Object.values(previous));
      summed = grads;
      try {
        // Read back asynchronously: a GPU backend has no synchronous read in Node.
        const [lossValue, scores] = await whileDeviceAlive(Promise.all([value.data(), logits.array()]));
        loss += lossValue[0];
        for (const row of scores) predicted.push(argmax(row));
      } finally {
        tf.dispose([value, logits]);
      }
    }
    const gradients: tf.NamedTensorMap = summed!;
    optimizer.applyGradients(trainable.map((v) => ({ name: v.name, tensor: gradients[v.name]! })));
    return { loss, predicted };
  } finally {
    if (summed) tf.dispose(Object.values(summed));
  }
}

async function validate(
  frameCache: ClipFrameCache,
  dataset: ProjectDataset,
  clips: readonly LabelledClip[],
  classIndex: Map<number, number>,
  network: StmNetwork,
  classNames: string[],
  weights: number[],
  batchSize: number,
  sampleOptions: BatchSampling,
  hooks: JobHooks,
  onBatch: (done: number) => void,
): Promise<{ evaluation: Evaluation; loss: number }> {
  const truth: number[] = [];
  const predicted: number[] = [];
  let lossSum = 0;
  let weightSum = 0;
  const batches = chunks(clips, batchSize);
  for (let b = 0; b < batches.length; b++) {
    hooks.throwIfCancelled();
    const batch = await loadBatch(frameCache, dataset, batches[b], classIndex, { ...sampleOptions, training: false });
    const clipLogits = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.labels.length * network.config.frames, network.config.inputSize, network.config.inputSize, 3]);
      return network.forward(x, { training: false }).clipLogits;
    });
    const logits = await whileDeviceAlive(clipLogits.array()).finally(() => clipLogits.dispose());
    logits.forEach((row, i) => {
      const p = softmax(row);
      const label = batch.labels[i];
      lossSum += -Math.log(Math.max(p[label], 1e-12)) * weights[label];
      weightSum += weights[label];
      truth.push(label);
      predicted.push(argmax(row));
    });
    onBatch(b + 1);
  }
  return { evaluation: evaluate(truth, predicted, classNames), loss: weightSum > 0 ? lossSum / weightSum : 0 };
}
