import { describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { JobProgress } from '../../../src-main/api/contract/jobs.ts';
import { lastCheckpointPath } from '../../../src-main/core/jobs/train.ts';
import { readCheckpointInfo } from '../../../src-main/core/model/checkpoint.ts';
import { trainingTestbed, TINY_TRAIN } from './project-fixture.ts';

const { fixture, openApi, trainInProcess } = trainingTestbed();

describe('fine-tuning through the job queue', () => {
  it('trains in a worker, reports rate and ETA, stores per-epoch figures and keeps the best checkpoint', async () => {
    const f = await fixture();
    const api = openApi(f.dir);
    const progress: JobProgress[] = [];
    api.client.on('job.progress', ({ progress: p }) => progress.push(p));
    const job = await api.client.call('train.start', { ...TINY_TRAIN, epochs: 2, name: 'colours' });
    expect(['queued', 'running']).toContain(job.status);
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status, done.error ?? '').toBe('done');
    expect(done.figures).toMatchObject({ epochs: 2, val_top1: expect.any(Number) });

    expect(progress.at(-1)).toMatchObject({ phase: 'training', done: 6, total: 6, epoch: 2 });
    expect(progress.some((p) => p.rate !== null && p.rate > 0 && p.etaSeconds !== null)).toBe(true);

    const metrics = await api.client.call('metrics.get', { jobId: job.id });
    expect(metrics.classes).toEqual(['red', 'blue']);
    expect(metrics.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    for (const e of metrics.epochs) {
      expect(e.train?.loss).toBeGreaterThan(0);
      expect(Object.keys(e.val?.perClass ?? {})).toEqual(['red', 'blue']);
      // Every validation clip lands in exactly one cell of the confusion matrix.
      expect(e.val?.confusion?.flat().reduce((a, b) => a + b, 0)).toBe(2);
    }

    const [model] = await api.client.call('models.list', {});
    expect(model).toMatchObject({ name: 'colours', classes: ['red', 'blue'], weightsPath: join('models', `${model.id}.safetensors`) });
    // The probe's "validation clips" scope reads which clips validated the model.
    expect((model.metrics?.valClipIds as number[]).length).toBe(2);
    const info = readCheckpointInfo(join(f.dir, model.weightsPath!));
    expect(info.classNames).toEqual(['red', 'blue']);
    expect(info.config).toMatchObject({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, inputSize: 32 });
    // The resumable checkpoint is only needed while the job can still be resumed.
    expect(existsSync(lastCheckpointPath(f.project, model.id))).toBe(false);
    expect((await api.client.call('jobs.log', { id: job.id })).log).toMatch(/split by video: 1 of 4 videos/);
  });

  it('waits while another live process runs a job on the same project', async () => {
    const f = await fixture();
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      const theirs = f.project.jobs.insert('predict', { modelId: 1 });
      f.project.jobs.update(theirs.id, { status: 'running', progress: { phase: 'predicting', pid: sleeper.pid } });
      const api = openApi(f.dir);
      expect((await api.client.call('jobs.get', { id: theirs.id })).status).toBe('running');
      const mine = await api.client.call('train.start', { ...TINY_TRAIN, epochs: 50 });
      expect(mine.status).toBe('queued');
      expect(mine.progress?.note).toBe(`waiting for job ${theirs.id}, which another process is running`);
      f.project.jobs.update(theirs.id, { status: 'done' });
      const started = await new Promise<string>((resolve) => {
        const stop = api.client.on('job.updated', ({ job }) => job.id === mine.id && job.status === 'running' && (stop(), resolve(job.status)));
      });
      expect(started).toBe('running');
      await api.client.call('jobs.cancel', { id: mine.id });
      expect((await api.client.call('jobs.wait', { id: mine.id })).status).toBe('cancelled');
    } finally {
      sleeper.kill();
    }
  });

  it('runs one job at a time and cancels queued and running jobs', async () => {
    const f = await fixture();
    const api = openApi(f.dir);
    const job = await api.client.call('train.start', { ...TINY_TRAIN, epochs: 50 });
    const second = await api.client.call('train.start', { ...TINY_TRAIN, epochs: 50 });
    expect(second.status).toBe('queued');
    expect((await api.client.call('jobs.cancel', { id: second.id })).status).toBe('cancelled');
    await new Promise<void>((resolve) => {
      const stop = api.client.on('job.progress', () => (stop(), resolve()));
    });
    await api.client.call('jobs.cancel', { id: job.id });
    const final = await api.client.call('jobs.wait', { id: job.id });
    expect(final.status).toBe('cancelled');
    expect((await api.client.call('jobs.log', { id: job.id })).log).toMatch(/cancel requested/);
  });
});

describe('early stopping', () => {
  it('stops once validation has not improved for `patience` epochs and keeps the best epoch', async () => {
    const f = await fixture();
    const { run, hooks } = trainInProcess(f, { epochs: 6, patience: 1, lr: 0.05 });
    const { figures } = await run;
    const epochs = Number(figures.epochs);
    const best = Number(figures.best_epoch);
    if (figures.stopped_early) {
      expect(epochs - best).toBe(1);
      expect(hooks.lines.join('\n')).toMatch(new RegExp(`early stop: no better validation score for 1 epoch\\(s\\); best was epoch ${best}`));
    } else {
      expect(epochs).toBe(6);
    }
    const info = readCheckpointInfo(join(f.dir, 'models', `${figures.model_id}.safetensors`));
    expect(info.extra.epoch).toBe(String(best));
  });
});

describe('training refuses bad input with a clear message', () => {
  it('needs at least two classes', async () => {
    const f = await fixture({ classes: ['red'] });
    await expect(trainInProcess(f, { epochs: 1 }).run).rejects.toThrow(/at least two classes; the project has 1 \("red"\)/);
  });

  it('names a class without clips', async () => {
    const f = await fixture();
    f.project.classes.add({ name: 'green' });
    await expect(trainInProcess(f, { epochs: 1 }).run).rejects.toThrow(/Class "green" has no labelled clips/);
  });

  it('skips a video missing on disk by name and samples short clips with repeats', async () => {
    const f = await fixture();
    rmSync(join(f.dir, 'blue-2.mp4'));
    f.project.clips.create({ videoId: f.videoIds[0], classId: f.classIds.red, startFrame: 5, endFrame: 7 });
    const { run, hooks } = trainInProcess(f, { epochs: 1 });
    const outcome = await run;
    expect(outcome.figures.epochs).toBe(1);
    expect(hooks.lines.join('\n')).toMatch(/skipped video "blue-2.mp4"/);
    expect(hooks.lines.join('\n')).toMatch(/1 clip\(s\) shorter than T = 4 frames are sampled with repeated frames: clip \d+ \(2 frames\)/);
  });
});
