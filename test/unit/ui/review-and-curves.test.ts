import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import type { JobProgress } from '../../../src-main/api/contract/jobs.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { trainSteps } from '../../../src-main/core/jobs/train-steps.ts';
import { labelledProject, makeColourVideo, recordingHooks, TINY, type LabelledProject } from '../jobs/project-fixture.ts';

const tiny = { ...TINY, layers: [...TINY.layers] as [number, number, number, number], dropout: 0, lr: 0.01, batch: 2 };
let f: LabelledProject;
let unlabelledVideo: number;
const apis: LocalApi[] = [];

function openApi(): LocalApi {
  const api = createLocalApi('cli');
  api.context.session.open(f.dir);
  apis.push(api);
  return api;
}

beforeAll(async () => {
  f = await labelledProject();
  const path = await makeColourVideo(join(f.dir, 'unlabelled.mp4'), 'purple', 9, 40);
  const [added] = await addVideos(f.project, await requireFfmpegTools(), [path]);
  if (!added.ok) throw new Error(added.error.message);
  unlabelledVideo = added.video.id;
});
afterAll(() => {
  for (const api of apis) api.context.session.close();
  f?.cleanup();
});

describe('training curve within epochs', () => {
  let modelId: number;

  it('sends a loss/top-1 point with the progress and keeps every point with the job', async () => {
    const api = openApi();
    const sent: NonNullable<JobProgress['trainStep']>[] = [];
    api.client.on('job.progress', ({ progress }) => {
      if (progress.trainStep) sent.push(progress.trainStep);
    });
    const job = await api.client.call('train.start', { ...tiny, epochs: 2, valFraction: 0.25 });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status, done.error ?? '').toBe('done');
    modelId = done.modelId!;

    const kept = await api.client.call('metrics.steps', { jobId: job.id });
    // 6 training clips in batches of 2: 3 batches per epoch, one point each (few batches, so no thinning).
    expect(kept.map((p) => [p.epoch, p.step, p.steps])).toEqual([[1, 1, 3], [1, 2, 3], [1, 3, 3], [2, 1, 3], [2, 2, 3], [2, 3, 3]]);
    expect(sent).toEqual(kept);
    for (const p of kept) {
      expect(p.loss).toBeGreaterThan(0);
      expect(p.top1).toBeGreaterThanOrEqual(0);
      expect(p.top1).toBeLessThanOrEqual(1);
    }
    // The epoch's figure is the mean of its batches.
    const epochs = (await api.client.call('metrics.get', { jobId: job.id })).epochs;
    const firstEpoch = kept.filter((p) => p.epoch === 1);
    expect(epochs[0].train?.loss).toBeCloseTo(firstEpoch.reduce((s, p) => s + p.loss, 0) / firstEpoch.length, 5);
  });

  it('keeps the points of a run stopped halfway', async () => {
    const job = f.project.jobs.insert('train', { ...tiny, epochs: 3, valFraction: 0.25, from: { kind: 'scratch' } });
    // Reports: epoch start, then one per batch; stop after the second batch of epoch 1.
    const hooks = recordingHooks({ cancelAfterReports: 3 });
    await expect(runTrainJob(f.project, f.project.jobs.require(job.id), hooks)).rejects.toThrow(/cancelled/);
    expect(trainSteps(f.project, job.id).map((p) => [p.epoch, p.step])).toEqual([[1, 1], [1, 2]]);
  });

  it('rejected review windows stay out of the queue for every client, until restored', async () => {
    const a = openApi();
    const predict = await a.client.call('predict.start', {
      modelId, videoIds: [unlabelledVideo], window: { value: 8, unit: 'frames' }, stride: { value: 8, unit: 'frames' }, backend: 'wasm',
    });
    expect((await a.client.call('jobs.wait', { id: predict.id })).status).toBe('done');
    const queue = await a.client.call('predictions.reviewQueue', { modelId, limit: 100 });
    expect(queue).toHaveLength(5);

    const changes: number[] = [];
    a.client.on('review.changed', ({ rejected }) => changes.push(rejected));
    const [first, second] = queue;
    await a.client.call('review.reject', { modelId, videoId: first.videoId, windowIndex: first.windowIndex });
    await a.client.call('review.reject', { modelId, videoId: second.videoId, windowIndex: second.windowIndex });
    expect(changes).toEqual([1, 2]);

    // Another client (the CLI, another browser) on the same project file.
    const b = openApi();
    const seen = await b.client.call('predictions.reviewQueue', { modelId, limit: 100 });
    expect(seen.map((q) => q.windowIndex)).toEqual(queue.slice(2).map((q) => q.windowIndex));
    // The limit counts open windows only.
    expect(await b.client.call('predictions.reviewQueue', { modelId, limit: 3 })).toHaveLength(3);

    // A new predict run over the same windows keeps them rejected.
    const again = await a.client.call('predict.start', {
      modelId, videoIds: [unlabelledVideo], window: { value: 8, unit: 'frames' }, stride: { value: 8, unit: 'frames' }, backend: 'wasm',
    });
    expect((await a.client.call('jobs.wait', { id: again.id })).status).toBe('done');
    expect(await b.client.call('predictions.reviewQueue', { modelId, limit: 100 })).toHaveLength(3);

    await b.client.call('review.restore', { modelId, videoId: first.videoId, windowIndex: first.windowIndex });
    expect((await a.client.call('predictions.reviewQueue', { modelId, limit: 100 })).map((q) => q.windowIndex)).toContain(first.windowIndex);
    await expect(a.client.call('review.reject', { modelId, videoId: first.videoId, windowIndex: 99 })).rejects.toThrow(/no prediction for window 99 of video/);
  });
});
