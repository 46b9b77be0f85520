/**
 * Reversal probe job: every labelled clip (or those the model was validated on) played forward and
 * reversed; both predictions, their Jensen–Shannon divergence, and whether the reversed prediction is the
 * class the reversed action should look like (`reverse_of`, else the label itself).
 */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { NewProbeResult } from '../store/results.ts';
import { requireFfmpegTools } from '../media/locate.ts';
import { sampleClip } from '../media/decode.ts';
import { reverseFrames } from '../media/sampling.ts';
import { decodable, loadDataset, type LabelledClip } from './dataset.ts';
import { openClassifier } from './inference.ts';
import { weightsFileOf } from './model-files.ts';
import { readCheckpointInfo } from '../model/checkpoint.ts';
import { probeOutcome, summarizeProbe, type ProbeClipRecord } from './probe-summary.ts';
import type { ProbeParams } from './params.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

export const DEFAULT_PROBE: Omit<ProbeParams, 'modelId'> = { clips: 'all', batch: 8 };

export async function runProbeJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const params: ProbeParams = { ...DEFAULT_PROBE, ...(job.params as Partial<ProbeParams> & { modelId: number }) };
  const tools = await requireFfmpegTools();
  const model = project.models.require(params.modelId);
  const info = readCheckpointInfo(weightsFileOf(project, model));
  const dataset = loadDataset(project, hooks, { frames: info.config.frames, requireTrainable: false });
  const classById = new Map(dataset.classes.map((c) => [c.id, c]));
  const known = new Set(info.classNames);
  const valClipIds = new Set((model.metrics?.valClipIds as number[] | undefined) ?? []);
  let clips = dataset.clips;
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
  const expectedOf = (clip: LabelledClip): string => {
    const partner = classById.get(clip.classId)?.reverseOf;
    return partner ? (classById.get(partner)?.name ?? clip.className) : clip.className;
  };

  const classifier = await openClassifier(project, params.modelId, params, hooks);
  const { frames, size } = classifier;
  try {
    const rows: NewProbeResult[] = [];
    const records: ProbeClipRecord[] = [];
    for (let start = 0; start < clips.length; start += params.batch) {
      hooks.throwIfCancelled();
      const batch = clips.slice(start, start + params.batch);
      const samples = await Promise.all(
        batch.map((clip) =>
          sampleClip(tools, decodable(dataset.videos.get(clip.videoId)!), {
            start: clip.startFrame, end: clip.endFrame, frames, size, mode: 'center', crop: 'center',
          }),
        ),
      );
      // The reversed clip is exactly the forward frames in the opposite order.
      const forward = samples.map((s) => s.data);
      const probabilities = await classifier.classify([...forward, ...forward.map((d) => reverseFrames(d, frames))]);
      batch.forEach((clip, i) => {
        const expected = expectedOf(clip);
        const outcome = probeOutcome(info.classNames, probabilities[i], probabilities[i + batch.length], expected);
        records.push({ ...outcome, label: clip.className, paired: expected !== clip.className });
        rows.push({
          jobId: job.id, modelId: model.id, clipId: clip.id, videoId: clip.videoId, classId: clip.classId,
          startFrame: clip.startFrame, endFrame: clip.endFrame, ...outcome,
          forwardProbabilities: probabilities[i], reversedProbabilities: probabilities[i + batch.length],
        });
      });
      hooks.report({ phase: 'probing', done: Math.min(clips.length, start + batch.length), total: clips.length, unit: 'clips' });
    }
    project.probes.insertMany(rows);
    const summary = summarizeProbe(records);
    hooks.log(`probe: ${summary.clips} clips, flip rate ${fmt(summary.flipRate)}, invariance ${fmt(summary.invarianceRate)}, mean JS divergence ${summary.meanDivergence.toFixed(4)}`);
    return {
      modelId: model.id,
      figures: {
        model_id: model.id,
        clips: summary.clips,
        forward_top1: summary.forwardAccuracy,
        flip_rate: summary.flipRate,
        invariance_rate: summary.invarianceRate,
        mean_js_divergence: summary.meanDivergence,
      },
    };
  } finally {
    await classifier.dispose();
  }
}

const fmt = (rate: number | null): string => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);
