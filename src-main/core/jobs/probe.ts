/**
 * Reversal probe job: every labelled clip (or those the model was validated on, or every sliding window of
 * the videos) played forward and reversed; both predictions, their Jensen–Shannon divergence, whether the
 * prediction flipped to its class's reverse partner (or stayed put for a class without one), and whether the
 * reversed prediction is the class the labelled action should look like reversed (`reverse_of`, else the
 * class itself). For windows, which carry no label, the forward prediction stands in for it.
 */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { NewProbeResult } from '../store/results.ts';
import type { ClassRecord } from '../store/classes.ts';
import { requireFfmpegTools, type FfmpegTools } from '../media/locate.ts';
import { sampleClip, slidingWindows } from '../media/decode.ts';
import { reverseFrames } from '../media/sampling.ts';
import { readCheckpointInfo, type CheckpointInfo } from '../model/checkpoint.ts';
import type { ModelRecord } from '../store/models.ts';
import { decodable, loadDataset, presentVideos, type LabelledClip } from './dataset.ts';
import { openClassifier, type Classifier } from './inference.ts';
import { weightsFileOf } from './model-files.ts';
import { argmax } from '../figures/metrics.ts';
import { probeOutcome, summarizeProbe, type ProbeClipRecord } from '../figures/probe-summary.ts';
import { inFrames, measuredFps, windowCount } from './predict.ts';
import { DEFAULT_PREDICT_PARAMS, jobParamsOf, type ProbeParams } from './params.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';


/** One probed span before it is classified. */
export interface Span {
  videoId: number;
  clipId: number | null;
  classId: number | null;
  /** The label, or null for a window (its forward prediction stands in). */
  label: string | null;
  startFrame: number;
  endFrame: number;
  data: Uint8Array;
}

export interface ProbeContext {
  project: Project;
  job: JobRecord;
  model: ModelRecord;
  info: CheckpointInfo;
  classes: ClassRecord[];
  rows: NewProbeResult[];
  records: ProbeClipRecord[];
}

/** A class's `reverse_of` partner by name ("open lid" → "close lid"); null where it has none. */
function partnerOf(classes: readonly ClassRecord[], name: string): string | null {
  const cls = classes.find((c) => c.name === name);
  const partner = cls?.reverseOf ? classes.find((c) => c.id === cls.reverseOf) : undefined;
  return partner?.name ?? null;
}

/** Records one probed span: its row for the project and its record for the summary. */
export function recordProbedSpan(ctx: ProbeContext, span: Omit<Span, 'data'>, fwd: Float32Array, rev: Float32Array): void {
  const label = span.label ?? ctx.info.classNames[argmax(fwd)];
  // The class the reversed action should look like: the label's partner, else the label itself.
  const expected = partnerOf(ctx.classes, label) ?? label;
  const outcome = probeOutcome(ctx.info.classNames, fwd, rev, expected, (name) => partnerOf(ctx.classes, name));
  ctx.records.push({ ...outcome, label, paired: expected !== label });
  ctx.rows.push({
    jobId: ctx.job.id, modelId: ctx.model.id, clipId: span.clipId, videoId: span.videoId,
    classId: span.classId ?? ctx.classes.find((c) => c.name === label)?.id ?? null,
    startFrame: span.startFrame, endFrame: span.endFrame, ...outcome, forwardProbabilities: fwd, reversedProbabilities: rev,
  });
}

async function probeSpans(ctx: ProbeContext, classifier: Classifier, spans: readonly Span[]): Promise<void> {
  // The reversed clip is exactly the forward frames in the opposite order.
  const forward = spans.map((s) => s.data);
  const probabilities = await classifier.classify([...forward, ...forward.map((d) => reverseFrames(d, classifier.frames))]);
  spans.forEach((span, i) => recordProbedSpan(ctx, span, probabilities[i], probabilities[i + spans.length]));
}

/** The labelled clips to probe (all, or the model's validation clips), limited to classes the model knows. */
export function chooseClips(project: Project, model: ModelRecord, info: CheckpointInfo, params: ProbeParams, hooks: JobHooks) {
  const dataset = loadDataset(project, hooks, { frames: info.config.frames, requireTrainable: false });
  const known = new Set(info.classNames);
  const valClipIds = new Set((model.metrics?.valClipIds as number[] | undefined) ?? []);
  let clips: LabelledClip[] = dataset.clips;
  if (params.clips === 'val') {
    clips = clips.filter((c) => valClipIds.has(c.id) || c.split === 'val');
    if (!clips.length) throw new UserError('invalid_input', `Model ${model.id} ("${model.name}") has no validation clips in this project; probe all clips instead.`);
  }
  const unknown = [...new Set(clips.filter((c) => !known.has(c.className)).map((c) => c.className))];
  clips = clips.filter((c) => known.has(c.className));
  if (unknown.length) hooks.log(`skipped clips of class(es) the model does not know: ${unknown.join(', ')}`);
  if (!clips.length) {
    throw new UserError('invalid_input', `No labelled clip has a class of model ${model.id} ("${model.name}": ${info.classNames.join(', ')}); the project's labels are ${dataset.classes.map((c) => c.name).join(', ') || 'empty'}.`);
  }
  return { dataset, clips };
}

async function probeClips(ctx: ProbeContext, tools: FfmpegTools, params: ProbeParams, hooks: JobHooks, openModel: () => Promise<Classifier>): Promise<void> {
  const { dataset, clips } = chooseClips(ctx.project, ctx.model, ctx.info, params, hooks);
  const classifier = await openModel();
  try {
    for (let start = 0; start < clips.length; start += params.batch) {
      hooks.throwIfCancelled();
      const batch = clips.slice(start, start + params.batch);
      const samples = await Promise.all(
        batch.map((clip) =>
          sampleClip(tools, decodable(dataset.videos.get(clip.videoId)!), {
            start: clip.startFrame, end: clip.endFrame, frames: classifier.frames, size: classifier.size, mode: 'center', crop: 'center',
          }),
        ),
      );
      await probeSpans(ctx, classifier, batch.map((clip, i) => ({ ...clip, clipId: clip.id, label: clip.className, data: samples[i].data })));
      hooks.report({ phase: 'probing', done: Math.min(clips.length, start + batch.length), total: clips.length, unit: 'clips' });
    }
  } finally {
    await classifier.dispose();
  }
}

async function probeWindows(ctx: ProbeContext, tools: FfmpegTools, params: ProbeParams, hooks: JobHooks, openModel: () => Promise<Classifier>): Promise<void> {
  const window = params.window ?? DEFAULT_PREDICT_PARAMS.window;
  const stride = params.stride ?? DEFAULT_PREDICT_PARAMS.stride;
  const videos = presentVideos(ctx.project, params.videoIds ?? ctx.project.videos.list().map((v) => v.id), hooks);
  if (videos.size === 0) throw new UserError('invalid_input', 'None of the chosen videos is on disk; nothing to probe.');
  const total = [...videos.values()].reduce((n, v) => n + windowCount(v, window, stride), 0);
  const classifier = await openModel();
  let done = 0;
  try {
    for (const video of videos.values()) {
      const fps = measuredFps(video);
      let pending: Span[] = [];
      const flush = async () => {
        if (!pending.length) return;
        await probeSpans(ctx, classifier, pending);
        done += pending.length;
        pending = [];
        hooks.report({ phase: 'probing', done, total, unit: 'windows', note: video.name });
      };
      for await (const w of slidingWindows(tools, decodable(video), {
        window: inFrames(window, fps), stride: inFrames(stride, fps), unit: 'frames', frames: classifier.frames, size: classifier.size,
      })) {
        hooks.throwIfCancelled();
        pending.push({ videoId: video.id, clipId: null, classId: null, label: null, startFrame: w.startFrame, endFrame: w.endFrame, data: w.data });
        if (pending.length >= params.batch) await flush();
      }
      await flush();
    }
  } finally {
    await classifier.dispose();
  }
}

export async function runProbeJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const params = jobParamsOf(job, 'probe');
  const tools = await requireFfmpegTools();
  const model = project.models.require(params.modelId);
  const info = readCheckpointInfo(weightsFileOf(project, model));
  const ctx: ProbeContext = { project, job, model, info, classes: project.classes.list(), rows: [], records: [] };
  // The model loads only once the input is known to be probeable.
  const openModel = () => openClassifier(project, params.modelId, params, hooks);
  if (params.clips === 'windows') await probeWindows(ctx, tools, params, hooks, openModel);
  else await probeClips(ctx, tools, params, hooks, openModel);

  project.probes.insertMany(ctx.rows);
  const summary = summarizeProbe(ctx.records);
  const unit = params.clips === 'windows' ? 'windows' : 'clips';
  hooks.log(`probe: ${summary.clips} ${unit}, flip rate ${fmt(summary.flipRate)}, invariance ${fmt(summary.invarianceRate)}, reversed as expected ${fmt(summary.reversedAsExpectedRate)}, mean JS divergence ${summary.meanDivergence.toExponential(2)}`);
  return {
    modelId: model.id,
    figures: {
      model_id: model.id,
      [unit]: summary.clips,
      forward_top1: params.clips === 'windows' ? null : summary.forwardAccuracy,
      flip_rate: summary.flipRate,
      invariance_rate: summary.invarianceRate,
      reversed_as_expected: summary.reversedAsExpectedRate,
      mean_js_divergence: summary.meanDivergence,
    },
  };
}

const fmt = (rate: number | null): string => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);
