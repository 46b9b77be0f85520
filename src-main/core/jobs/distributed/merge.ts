/**
 * Writes a shard's results into the project so that writing them twice changes nothing: predictions are
 * keyed by job, video, direction and window; probe rows by job, video, clip and span. A shard whose rows
 * are all in the project is done, whatever the queue remembers.
 */
import { UserError } from '../../errors.ts';
import type { Project } from '../../store/project.ts';
import type { NewPrediction, NewProbeResult } from '../../store/results.ts';
import { recordProbedSpan, type ProbeContext } from '../probe.ts';
import type { PlannedShard } from './plan.ts';
import type { ShardResult, ShardWindowResult } from './shards.ts';

/** Checks a result from the queue against its shard: the right spans, one probability per class, finite. */
function checkedWindows(shard: PlannedShard, result: unknown, classes: number): ShardWindowResult[] {
  const windows = (result as Partial<ShardResult> | null)?.windows;
  const bad = (why: string) => new UserError('invalid_input', `The result of shard ${shard.id} (${shard.video.name}) is malformed: ${why}.`);
  if (!Array.isArray(windows) || windows.length !== shard.size) throw bad(`expected ${shard.size} windows, got ${Array.isArray(windows) ? windows.length : 'none'}`);
  const spans = shard.task.spans;
  windows.forEach((w: ShardWindowResult, i) => {
    const index = spans.kind === 'windows' ? spans.first + i : i;
    if (w?.index !== index) throw bad(`window ${i} has index ${String(w?.index)}, expected ${index}`);
    if (spans.kind === 'clips' && (w.startFrame !== spans.clips[i]!.startFrame || w.endFrame !== spans.clips[i]!.endFrame)) throw bad(`clip ${i} has other frames`);
    for (const direction of shard.task.directions) {
      const p = w[direction];
      if (!Array.isArray(p) || p.length !== classes || !p.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw bad(`window ${index} has no ${classes} ${direction} probabilities`);
      }
    }
  });
  return windows;
}

export function mergePredictShard(project: Project, jobId: number, modelId: number, classes: number, shard: PlannedShard, result: unknown): number {
  const rows: NewPrediction[] = [];
  for (const w of checkedWindows(shard, result, classes)) {
    for (const direction of shard.task.directions) {
      rows.push({
        jobId, modelId, videoId: shard.video.id, windowIndex: w.index, startFrame: w.startFrame, endFrame: w.endFrame, direction,
        probabilities: Float32Array.from(w[direction]!),
      });
    }
  }
  project.predictions.insertMany(rows); // INSERT OR REPLACE on (job, video, direction, window)
  return rows.length;
}

export function mergeProbeShard(ctx: ProbeContext, shard: PlannedShard, result: unknown): number {
  const windows = checkedWindows(shard, result, ctx.info.classNames.length);
  ctx.rows.length = 0;
  windows.forEach((w, i) => {
    const clip = shard.clips?.[i];
    recordProbedSpan(ctx, {
      videoId: shard.video.id, clipId: clip?.clipId ?? null, classId: clip?.classId ?? null, label: clip?.label ?? null,
      startFrame: w.startFrame, endFrame: w.endFrame,
    }, Float32Array.from(w.forward!), Float32Array.from(w.reversed!));
  });
  replaceProbeRows(ctx.project, ctx.rows);
  return ctx.rows.length;
}

/** Inserts probe rows, each replacing an earlier row of the same job, video, clip and span. */
export function replaceProbeRows(project: Project, rows: readonly NewProbeResult[]): void {
  project.probes.replaceSpans(rows);
}

/** How many of the shard's rows the project holds (all of them: the shard is done). */
export function shardRowsStored(project: Project, jobId: number, shard: PlannedShard): boolean {
  const spans = shard.task.spans;
  if (shard.kind === 'predict' && spans.kind === 'windows') {
    const n = project.predictions.countWindows(jobId, shard.video.id, spans.first, spans.first + spans.count - 1);
    return n === spans.count * shard.task.directions.length;
  }
  if (spans.kind === 'windows') {
    const first = spans.first * spans.stride;
    const last = (spans.first + spans.count - 1) * spans.stride;
    const n = project.probes.countWindowStarts(jobId, shard.video.id, first, last);
    return n === spans.count;
  }
  const ids = shard.clips!.map((c) => c.clipId);
  const n = project.probes.countClips(jobId, ids);
  return n === ids.length;
}

/** Rewrites a probe job's rows in shard order, so its CSV lists them as a run on one machine would. */
export function orderProbeRows(project: Project, jobId: number, shards: readonly PlannedShard[]): void {
  const order = new Map<string, number>();
  shards.forEach((s, si) => {
    const spans = s.task.spans;
    for (let i = 0; i < s.size; i++) {
      const start = spans.kind === 'windows' ? (spans.first + i) * spans.stride : spans.clips[i]!.startFrame;
      order.set(`${s.video.id}:${s.clips?.[i]?.clipId ?? ''}:${start}`, si * 1e9 + i);
    }
  });
  const rows = project.probes.list({ jobId });
  const rank = (r: (typeof rows)[number]) => order.get(`${r.videoId}:${r.clipId ?? ''}:${r.startFrame}`) ?? Number.MAX_SAFE_INTEGER;
  const sorted = [...rows].sort((a, b) => rank(a) - rank(b) || a.id - b.id);
  if (sorted.every((r, i) => r === rows[i])) return;
  project.probes.rewriteJob(jobId, sorted.map(({ id: _id, ...r }) => r));
}
