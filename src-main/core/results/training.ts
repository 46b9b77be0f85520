/** Training curves of a job or model: per-epoch loss and top-1, and the validation figures. */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { Evaluation } from '../figures/metrics.ts';

/** One epoch of a training run: training loss/top-1 and, with a validation split, the validation figures. */
export interface EpochMetrics {
  epoch: number;
  train: { loss: number | null; top1: number | null } | null;
  val: ({ loss: number | null; top1: number | null } & Partial<Pick<Evaluation, 'perClass' | 'confusion'>>) | null;
}

export interface MetricsResult {
  jobId: number | null;
  modelId: number | null;
  /** Class order of the confusion matrices. */
  classes: string[];
  epochs: EpochMetrics[];
}

export function trainingMetrics(project: Project, query: { jobId?: number; modelId?: number }): MetricsResult {
  let jobId = query.jobId ?? null;
  if (jobId === null && query.modelId !== undefined) {
    jobId = project.jobs.latestId('train', query.modelId);
  }
  if (jobId === null) throw new UserError('bad_request', 'metrics.get needs a jobId or a modelId that a training job produced.');
  const job = project.jobs.require(jobId);
  const rows = project.metrics.list({ jobId });
  const byEpoch = new Map<number, EpochMetrics>();
  for (const r of rows) {
    const entry = byEpoch.get(r.epoch) ?? { epoch: r.epoch, train: null, val: null };
    if (r.split === 'train') entry.train = { loss: r.loss, top1: r.top1 };
    else entry.val = { loss: r.loss, top1: r.top1, ...(r.perClass ? { perClass: r.perClass as never } : {}), ...(r.confusion ? { confusion: r.confusion } : {}) };
    byEpoch.set(r.epoch, entry);
  }
  const model = job.modelId !== null ? project.models.get(job.modelId) : null;
  return { jobId, modelId: job.modelId, classes: model?.classes ?? [], epochs: [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch) };
}
