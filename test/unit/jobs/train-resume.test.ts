import { describe, expect, it } from 'vitest';
import { existsSync, rmSync, symlinkSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runTrainJob, lastCheckpointPath } from '../../../src-main/core/jobs/train.ts';
import { partialNameOf } from '../../../src-main/core/files/atomic-write.ts';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { recordingHooks, trainingTestbed } from './project-fixture.ts';

const { fixture, openApi, trainInProcess } = trainingTestbed();

describe('interrupted and failing training runs', () => {
  it('marks a job of a dead process interrupted on open and resumes it from its last checkpoint', async () => {
    const f = await fixture();
    // Epoch 1 finishes (checkpoint written), then the "process dies" at the start of epoch 2.
    const first = trainInProcess(f, { epochs: 2 }, recordingHooks({ cancelAfterReports: 5 }));
    await expect(first.run).rejects.toThrow(/cancelled/);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
    f.project.jobs.update(first.job.id, { status: 'running', progress: { phase: 'training', pid: deadPid } });
    f.project.close();

    const api = openApi(f.dir);
    const interrupted = await api.client.call('jobs.get', { id: first.job.id });
    expect(interrupted.status).toBe('interrupted');
    await api.client.call('jobs.resume', { id: first.job.id });
    const done = await api.client.call('jobs.wait', { id: first.job.id });
    expect(done.status, done.error ?? '').toBe('done');
    expect(done.figures).toMatchObject({ epochs: 2 });
    expect((await api.client.call('jobs.log', { id: first.job.id })).log).toMatch(/resuming from the checkpoint after epoch 1/);
    const metrics = await api.client.call('metrics.get', { jobId: first.job.id });
    expect(metrics.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect((await api.client.call('models.list', {})).length).toBe(1);
  });

  it('continues exactly where it stopped: the resumed epoch matches an uninterrupted run', async () => {
    const f = await fixture();
    const settings = { epochs: 2, optimizer: 'sgd', lr: 0.05, momentum: 0.9 };
    const straight = trainInProcess(f, settings);
    await straight.run;
    const stopped = trainInProcess(f, settings, recordingHooks({ cancelAfterReports: 5 }));
    await expect(stopped.run).rejects.toThrow(/cancelled/);
    await runTrainJob(f.project, f.project.jobs.require(stopped.job.id), recordingHooks());
    const lossOf = (jobId: number, epoch: number) =>
      f.project.metrics.list({ jobId }).find((m) => m.epoch === epoch && m.split === 'train')!.loss!;
    expect(lossOf(stopped.job.id, 1)).toBe(lossOf(straight.job.id, 1));
    // Same weights, momentum buffers and sampling after the restart: the second epoch is the same epoch.
    expect(Math.abs(lossOf(stopped.job.id, 2) - lossOf(straight.job.id, 2))).toBeLessThan(1e-6);
  });

  it('leaves the previous checkpoint valid when the disk is full', async () => {
    const f = await fixture();
    const last = lastCheckpointPath(f.project, 1);
    // From epoch 2 on, the checkpoint's temporary file is /dev/full: every write fails with ENOSPC.
    const hooks = recordingHooks({
      onReport: (u) => {
        if (u.epoch === 2 && !existsSync(partialNameOf(last))) symlinkSync('/dev/full', partialNameOf(last));
      },
    });
    const { run } = trainInProcess(f, { epochs: 2 }, hooks);
    await expect(run).rejects.toThrow(/Disk full while writing the training checkpoint .*1\.last\.safetensors\. The previous training checkpoint \(1\.last\.safetensors\) is kept/);
    expect(existsSync(partialNameOf(last))).toBe(false);
    const kept = readSafetensors(last);
    expect(JSON.parse(kept.metadata.train_state).epoch).toBe(1);
    rmSync(last);
  });
});
