/** Exports tell the truth about what they hold, and clean up after writers that were killed. */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { exportCsv } from '../../../src-main/core/jobs/results.ts';
import { exportLabels } from '../../../src-main/core/export/labels-export.ts';
import { importLabels } from '../../../src-main/core/export/labels-import.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import type { Project } from '../../../src-main/core/store/project.ts';
import { addVideo, newProject, removeDir } from '../store/fixtures.ts';

const open: Array<{ dir: string; project: Project }> = [];
afterEach(() =>
  open.splice(0).forEach(({ dir, project }) => {
    project.close();
    removeDir(dir);
  }),
);

function predicted(status: 'done' | 'interrupted') {
  const p = newProject();
  open.push(p);
  const video = addVideo(p.project, '/videos/a.mp4', 200);
  const model = p.project.models.insert({ name: 'm', arch: {}, classes: ['walk', 'run'] });
  const job = p.project.jobs.insert('predict', { modelId: model.id });
  p.project.jobs.update(job.id, { status, modelId: model.id });
  p.project.predictions.insertMany([0, 1, 2].map((i) => ({
    jobId: job.id, modelId: model.id, videoId: video.id, windowIndex: i, startFrame: i * 8, endFrame: i * 8 + 8,
    direction: 'forward' as const, probabilities: new Float32Array([0.7, 0.3]),
  })));
  return { ...p, model, job };
}

describe('export honesty', () => {
  it('marks a predictions export from a predict job that did not finish as incomplete', async () => {
    const killed = predicted('interrupted');
    const result = await exportCsv(killed.project, { kind: 'predictions', file: join(killed.dir, 'p.csv'), modelId: killed.model.id });
    expect(result.rows).toBe(3);
    expect(result.incomplete).toMatch(new RegExp(`job ${killed.job.id} \\(interrupted\\) did not finish`));
    const segments = await exportCsv(killed.project, { kind: 'segments', file: join(killed.dir, 's.csv'), modelId: killed.model.id });
    expect(segments.incomplete).toBeDefined();

    const finished = predicted('done');
    expect((await exportCsv(finished.project, { kind: 'predictions', file: join(finished.dir, 'p.csv'), modelId: finished.model.id })).incomplete).toBeUndefined();
  });

  it('removes .partial leftovers of a killed export, but not those of a live writer', async () => {
    const p = newProject();
    open.push(p);
    const file = join(p.dir, 'labels.csv');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process id that has exited
    writeFileSync(`${file}.${dead}.partial`, 'half a file');
    writeFileSync(`${file}.1.partial`, 'pid 1 is alive');
    await exportLabels(p.project, file);
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.${dead}.partial`)).toBe(false);
    expect(existsSync(`${file}.1.partial`)).toBe(true);
  });

  it('bounds class names and never echoes a huge field whole', async () => {
    const p = newProject();
    open.push(p);
    const huge = 'x'.repeat(1_000_000);
    let error: unknown;
    try {
      p.project.classes.add({ name: huge });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message.length).toBeLessThan(300);
    expect(p.project.classes.list()).toEqual([]);

    const { client, context } = createLocalApi('cli');
    context.session.open(p.dir);
    const viaContract = await client.call('classes.add', { name: huge }).catch((err: Error) => err);
    expect(viaContract).toBeInstanceOf(Error);
    expect((viaContract as Error).message.length).toBeLessThan(300);
    const unknown = await client.call(huge as 'app.info', {}).catch((err: Error) => err);
    expect((unknown as Error).message.length).toBeLessThan(300);
    context.session.close();

    addVideo(p.project, '/videos/a.mp4', 100);
    const csv = join(p.dir, 'huge.csv');
    writeFileSync(csv, `video,start_frame,end_frame,label,split\na.mp4,0,5,walk,${huge}\n`);
    p.project.classes.add({ name: 'walk' });
    let importError: unknown;
    try {
      importLabels(p.project, csv);
    } catch (err) {
      importError = err;
    }
    expect(importError).toBeInstanceOf(UserError);
    expect(JSON.stringify((importError as UserError).details).length).toBeLessThan(2000);
    expect((importError as UserError).message.length).toBeLessThan(2000);
  });
});
