/** Which code runs a job of each kind (loaded lazily: a predict job need not load the training code). */
import type { Project } from '../store/project.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

export async function runJobBody(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  // A predict or probe with a queue URL runs on the workers of that queue; this process coordinates.
  if (job.kind !== 'train' && typeof job.params.queue === 'string') return (await import('./distributed/coordinator.ts')).runQueuedJob(project, job, hooks);
  switch (job.kind) {
    case 'train':
      return (await import('./train.ts')).runTrainJob(project, job, hooks);
    case 'predict':
      return (await import('./predict.ts')).runPredictJob(project, job, hooks);
    case 'probe':
      return (await import('./probe.ts')).runProbeJob(project, job, hooks);
  }
}
