/**
 * The job queue of a host that serves clients writes a job's start, progress, log and end without waiting
 * for the project lock in its event loop: while another process holds the project, a job that ends is
 * recorded once the lock is free, and the host's event loop runs on meanwhile. The job body is a scripted
 * executor (the queue's own seam) so that it ends exactly while the lock is held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { JobQueue } from '../../../src-main/core/jobs/queue.ts';
import type { JobExecutor } from '../../../src-main/core/jobs/worker-thread.ts';
import type { JobOutcome } from '../../../src-main/core/jobs/types.ts';
import { DEFAULT_PREDICT_PARAMS } from '../../../src-main/core/jobs/params.ts';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import { removeDir, tempDir } from '../store/fixtures.ts';
import { lockElsewhere } from '../../helpers/lock-elsewhere.ts';

let dir: string;
let project: Project;
afterEach(() => {
  project?.close();
  if (dir) removeDir(dir);
});

/** A job that reports and ends when the test says so. */
function scriptedExecutor() {
  const started: Array<{ report: Parameters<JobExecutor>[2]['report']; log: Parameters<JobExecutor>[2]['log']; end: (o: JobOutcome) => void }> = [];
  const executor: JobExecutor = (_dir, _id, listener) => {
    let end!: (o: JobOutcome) => void;
    const outcome = new Promise<JobOutcome>((resolve) => (end = resolve));
    started.push({ ...listener, end });
    return { outcome, cancel: () => {} };
  };
  return { executor, started };
}

describe('the job queue while another process holds the project', () => {
  it('records progress, log and the end of a job once the lock is free, without blocking the event loop', async () => {
    dir = tempDir('stm-queue-busy-');
    project = openProject(dir, { create: true });
    project.useShortLockWait();
    const updates: string[] = [];
    const { executor, started } = scriptedExecutor();
    const queue = new JobQueue(project, { progress: () => {}, updated: (job) => updates.push(job.status) }, executor);
    const job = queue.submit('predict', { modelId: 1, ...DEFAULT_PREDICT_PARAMS });
    await nextTurn();
    expect(started).toHaveLength(1);
    expect(project.jobs.require(job.id).status).toBe('running');

    const { released } = await lockElsewhere(project.file, 3000);
    const body = started[0]!;
    body.report({ phase: 'predicting', done: 4, total: 4, unit: 'windows' });
    body.log('4 windows predicted');
    body.end({ figures: { windows: 4 } });
    await nextTurn();
    await nextTurn();
    const loopRanAt = Date.now();
    expect(project.writes.isWaiting).toBe(true);

    const finished = await queue.waitFor(job.id);
    expect(loopRanAt).toBeLessThan(await released);
    expect(finished.status).toBe('done');
    expect(finished.progress).toMatchObject({ done: 4, total: 4, figures: { windows: 4 } });
    expect(finished.log).toMatch(/started\n.*4 windows predicted\n.*done \{"windows":4\}\n$/);
    expect(updates.at(-1)).toBe('done');
  }, 30_000);

  it('writes what still waits for the lock when the project closes', async () => {
    dir = tempDir('stm-queue-close-');
    project = openProject(dir, { create: true });
    project.useShortLockWait();
    const { executor, started } = scriptedExecutor();
    const queue = new JobQueue(project, { progress: () => {}, updated: () => {} }, executor);
    const job = queue.submit('predict', { modelId: 1, ...DEFAULT_PREDICT_PARAMS });
    await nextTurn();
    expect(started).toHaveLength(1);

    const { released } = await lockElsewhere(project.file, 1500);
    queue.close();
    expect(project.writes.isWaiting).toBe(true);
    project.close(); // waits for the other process, as a CLI would, rather than lose the job's end
    await released;
    const reopened = openProject(dir);
    try {
      expect(reopened.jobs.require(job.id).status).toBe('interrupted');
    } finally {
      reopened.close();
    }
  }, 30_000);
});
