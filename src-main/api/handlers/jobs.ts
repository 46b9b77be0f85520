import type { HandlersFor } from '../handler-types.ts';
import type { jobsRequests, JobView } from '../contract/jobs.ts';
import type { ApiContext } from '../context.ts';
import { appDataDir } from '../app-state.ts';
import type { Session, SessionService } from '../session.ts';
import { toErrorPayload, UserError } from '../../core/errors.ts';
import { redactQueueUrl } from '../../core/jobs/distributed/connection.ts';
import { JobQueue } from '../../core/jobs/queue.ts';
import type { JobRecord } from '../../core/jobs/types.ts';
import { resolveBackendPreference, type BackendPreference, type PreferenceSource } from '../../core/compute/settings.ts';

type PreferenceSourceFields = { backend: PreferenceSource['preference']; backendSource: PreferenceSource['source'] };
import { trainingMetrics } from '../../core/results/training.ts';
import { videoSegments, windowPredictions } from '../../core/results/windows.ts';
import { acceptPrediction, openReviewQueue } from '../../core/results/review.ts';
import { probeResults, probeSummary } from '../../core/results/probe.ts';
import { exportCsv } from '../../core/results/csv-exports.ts';

/** Model files go through the network code, which loads tfjs: only when a request needs them. */
const loadModelFiles = () => import('../../core/jobs/model-files.ts');
import { previewSplit } from '../../core/jobs/split-preview.ts';
import { offerDownload } from '../downloads.ts';

/** The job queue of each session's open project: created when a project opens, closed with it. */
const queues = new WeakMap<Session, JobQueue>();

/** Runs the open project's job queue, recovering jobs a previous process left unfinished. */
export const runJobQueue: SessionService = (session) => {
  session.onProjectOpened((project) => {
    const queue = new JobQueue(project, {
      progress: (job, progress) => session.emit('job.progress', { job: viewOf(job), progress }),
      updated: (job) => {
        session.emit('job.updated', { job: viewOf(job) });
        session.emit('project.changed', { what: 'jobs', ids: [job.id] });
        if (job.status === 'done' && job.modelId !== null) session.emit('project.changed', { what: 'models', ids: [job.modelId] });
      },
    });
    queues.set(session, queue);
    // The app re-attaches to its jobs on the worker queue (their shards went on without it); the CLI
    // re-attaches when asked (--resume), so that a quick `export` does not start coordinating.
    void queue.recover().then(async (interrupted) => {
      if (session.host === 'cli') return;
      for (const job of interrupted) {
        if (typeof job.params.queue === 'string' && job.kind !== 'train') await project.writes.run(() => queue.resume(job.id));
      }
    }).catch((err: unknown) => console.error(`Resuming the jobs of ${project.dir}: ${toErrorPayload(err).message}`));
  });
  session.onProjectClosing(() => {
    queues.get(session)?.close();
    queues.delete(session);
  });
};

function queueOf(ctx: ApiContext): JobQueue {
  const project = ctx.session.project;
  const queue = queues.get(ctx.session);
  if (!queue) throw new UserError('unavailable', `The job queue of ${project.dir} is not running.`);
  return queue;
}

function viewOf(job: JobRecord): JobView {
  const { log: _log, progress, params, ...rest } = job;
  const typed = progress as JobView['progress'];
  // A queue URL may carry the Redis password: views never show it.
  const shown = typeof params.queue === 'string' ? { ...params, queue: redactQueueUrl(params.queue) } : params;
  return { ...rest, params: shown, progress: typed, figures: typed?.figures ?? null };
}

/**
 * The backend a compute job asks for: its own `backend` (the CLI's --backend), else STM_BACKEND, else the app
 * setting, else auto; recorded in the job's params with where it came from, so the worker honours and logs it.
 */
function withBackendPreference<P extends { backend?: BackendPreference }>(params: P): P & PreferenceSourceFields {
  const { preference, source } = resolveBackendPreference(params.backend, appDataDir());
  return { ...params, backend: preference, backendSource: source };
}

export const jobsHandlers: HandlersFor<typeof jobsRequests> = {
  'jobs.list': (params, ctx) => ctx.session.project.jobs.list(params).map(viewOf),
  'jobs.get': ({ id }, ctx) => viewOf(ctx.session.project.jobs.require(id)),
  'jobs.cancel': ({ id }, ctx) => viewOf(queueOf(ctx).cancel(id)),
  'jobs.resume': ({ id }, ctx) => viewOf(queueOf(ctx).resume(id)),
  'jobs.wait': async ({ id }, ctx) => viewOf(await queueOf(ctx).waitFor(id)),
  'jobs.log': ({ id }, ctx) => ({ id, log: ctx.session.project.jobs.require(id).log }),

  'train.start': (params, ctx) => viewOf(queueOf(ctx).submit('train', withBackendPreference(params))),
  'train.splitPreview': (params, ctx) => previewSplit(ctx.session.project, params),
  'predict.start': (params, ctx) => {
    ctx.session.project.models.require(params.modelId);
    return viewOf(queueOf(ctx).submit('predict', withBackendPreference(params)));
  },
  'probe.start': (params, ctx) => {
    ctx.session.project.models.require(params.modelId);
    return viewOf(queueOf(ctx).submit('probe', withBackendPreference(params)));
  },

  'models.list': (_params, ctx) => ctx.session.project.models.list(),
  'models.get': ({ id }, ctx) => ctx.session.project.models.require(id),
  'models.import': async ({ file, name }, ctx) => {
    const { importModelFile } = await loadModelFiles();
    const project = ctx.session.project;
    const model = await project.writes.run(() => importModelFile(project, file, name));
    ctx.emit('project.changed', { what: 'models', ids: [model.id] });
    return model;
  },
  'models.export': async ({ id, file }, ctx) => (await loadModelFiles()).exportModelFile(ctx.session.project, id, file),

  'metrics.get': (params, ctx) => trainingMetrics(ctx.session.project, params),

  'predictions.windows': ({ videoId, modelId, direction }, ctx) => windowPredictions(ctx.session.project, videoId, modelId, direction),
  'predictions.segments': ({ videoId, modelId, ...settings }, ctx) => videoSegments(ctx.session.project, videoId, modelId, settings),
  'predictions.reviewQueue': ({ modelId, limit }, ctx) => openReviewQueue(ctx.session.project, modelId, limit),
  'predictions.accept': (params, ctx) => {
    const clip = acceptPrediction(ctx.session.project, params);
    ctx.emit('project.changed', { what: 'clips', ids: [clip.id], videoId: clip.videoId });
    return clip;
  },

  'probe.results': (params, ctx) => probeResults(ctx.session.project, params),
  'probe.summary': (params, ctx) => probeSummary(ctx.session.project, params),

  'export.csv': async (params, ctx) => {
    const written = await exportCsv(ctx.session.project, params);
    // The browser may run on another machine than the server: offer the file as a download too.
    return { ...written, download: ctx.host === 'web' ? offerDownload(ctx.session, written.file) : null };
  },
};
