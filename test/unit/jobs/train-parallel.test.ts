import { describe, expect, it } from 'vitest';
import { trainSteps } from '../../../src-main/core/jobs/train-steps.ts';
import { runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { recordingHooks, trainingTestbed } from './project-fixture.ts';

const { fixture, trainInProcess } = trainingTestbed();

/** Two epochs of two batches of 4 clips, SGD with momentum, precise BatchNorm over one batch. */
const RUN = { epochs: 2, batch: 4, lr: 0.05, optimizer: 'sgd', momentum: 0.9, preciseBnBatches: 1, seed: 4, trainEngine: 'tfjs' };

describe('data-parallel training', () => {
  it('follows the one-worker loss curve within 1e-3 with 2 workers, for the same seed and global batch, and resumes exactly', async () => {
    const f = await fixture();
    const parallel = trainInProcess(f, { ...RUN, workers: 2 });
    await parallel.run;
    expect(parallel.hooks.lines.join('\n')).toMatch(/data-parallel training on 2 worker threads, one replica each: every batch of 4 clips is split between them/);
    // One worker computing the same two BatchNorm groups one after the other.
    const single = trainInProcess(f, { ...RUN, workers: 1, bnGroups: 2 });
    await single.run;
    expect(single.hooks.lines.join('\n')).toMatch(/training in 1 worker thread; BatchNorm statistics per group of about 2 clip\(s\)/);

    const curve = (jobId: number) => trainSteps(f.project, jobId).map((p) => p.loss);
    const a = curve(parallel.job.id);
    const b = curve(single.job.id);
    expect(a.length).toBe(4);
    // The network learns (the curve is not flat), and the two runs agree step by step.
    expect(new Set(a.map((l) => l.toFixed(4))).size).toBeGreaterThan(1);
    a.forEach((loss, i) => expect(Math.abs(loss - b[i]), `step ${i + 1}`).toBeLessThan(1e-3));

    const metric = (jobId: number, split: 'train' | 'val') => f.project.metrics.list({ jobId }).filter((m) => m.split === split).map((m) => m.loss!);
    const [va, vb] = [metric(parallel.job.id, 'val'), metric(single.job.id, 'val')];
    expect(va.length).toBe(2);
    va.forEach((loss, i) => expect(Math.abs(loss - vb[i]), `validation, epoch ${i + 1}`).toBeLessThan(1e-3));

    // Stopped after epoch 1 and resumed: the same weights, momentum and sampling, so the same second epoch.
    const stopped = trainInProcess(f, { ...RUN, workers: 2 }, recordingHooks({ cancelAfterReports: 5 }));
    await expect(stopped.run).rejects.toThrow(/cancelled/);
    await runTrainJob(f.project, f.project.jobs.require(stopped.job.id), recordingHooks());
    expect(Math.abs(metric(stopped.job.id, 'train')[1] - metric(parallel.job.id, 'train')[1])).toBeLessThan(1e-6);
  });
});
