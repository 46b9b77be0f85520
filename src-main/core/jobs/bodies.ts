/** Which code runs a job of each kind (loaded lazily: a predict job need not load the training code). */
import type { Project } from '../store/project.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

export async function runJobBody(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  switch (job.kind) {
    case 'train':
      return (await import('./train.ts')).runTrainJob(project, job, hooks);
    case 'predict':
      return (await import('./predict.ts')).runPredictJob(project, job, hooks);
    case 'probe':
      return (await import('./probe.ts')).runProbeJob(project, job, hooks);
  }
}
