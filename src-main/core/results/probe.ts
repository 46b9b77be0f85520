/** Stored probe rows as the UI and the CSV show them, and their summary. */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ProbeResultRecord } from '../store/results.ts';
import { summarizeProbe, type ProbeSummary } from '../figures/probe-summary.ts';

/** A stored probe row as the UI and CSV show it: the class and video by name instead of by id. */
export type ProbeResultView = Pick<
  ProbeResultRecord,
  | 'clipId' | 'videoId' | 'startFrame' | 'endFrame' | 'forwardTop1' | 'forwardScore' | 'reversedTop1' | 'reversedScore'
  | 'expectedReversed' | 'forwardPartner' | 'flipped' | 'invariant' | 'reversedAsExpected' | 'jsDivergence'
> & {
  video: string;
  /** The clip's class name; null for a window that is not a labelled clip. */
  label: string | null;
};

export function probeJobOf(project: Project, query: { jobId?: number; modelId?: number }): number {
  const jobId = query.jobId ?? (query.modelId !== undefined ? project.jobs.latestId('probe', query.modelId, { done: true }) : null);
  if (jobId === null) throw new UserError('not_found', query.modelId !== undefined ? `Model ${query.modelId} has not been probed yet.` : 'Name a probe job or a model.');
  return jobId;
}

export function probeResults(project: Project, query: { jobId?: number; modelId?: number }): ProbeResultView[] {
  const jobId = probeJobOf(project, query);
  const names = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const videos = new Map<number, string>();
  const videoName = (id: number) => videos.get(id) ?? videos.set(id, project.videos.get(id)?.name ?? `video ${id}`).get(id)!;
  return project.probes.list({ jobId }).map((r) => ({
    clipId: r.clipId, videoId: r.videoId, video: videoName(r.videoId), label: r.classId !== null ? (names.get(r.classId) ?? null) : null,
    startFrame: r.startFrame, endFrame: r.endFrame, forwardTop1: r.forwardTop1, forwardScore: r.forwardScore,
    reversedTop1: r.reversedTop1, reversedScore: r.reversedScore, expectedReversed: r.expectedReversed,
    forwardPartner: r.forwardPartner, flipped: r.flipped, invariant: r.invariant, reversedAsExpected: r.reversedAsExpected,
    jsDivergence: r.jsDivergence,
  }));
}

export function probeSummary(project: Project, query: { jobId?: number; modelId?: number }): ProbeSummary & { jobId: number } {
  const jobId = probeJobOf(project, query);
  const rows = probeResults(project, { jobId });
  const summary = summarizeProbe(rows.map((r) => ({
    ...r, label: r.label ?? '?', expectedReversed: r.expectedReversed ?? r.label ?? '?',
    paired: r.expectedReversed !== null && r.expectedReversed !== r.label,
  })));
  return { ...summary, jobId };
}
