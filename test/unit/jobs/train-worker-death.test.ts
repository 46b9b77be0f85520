import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { Worker as NodeWorker, WorkerOptions } from 'node:worker_threads';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { lastCheckpointPath, runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { readResumable } from '../../../src-main/core/jobs/train-checkpoint.ts';
import { recordingHooks, trainingTestbed } from './project-fixture.ts';

/**
 * Every worker thread the code under test starts, so a test can kill one from outside at a chosen moment.
 * The pool does not hand its threads out, so node:worker_threads' Worker is subclassed to record them and
 * to see what the parent posts; the threads run the real replica code and die by the real terminate().
 */
const threads = vi.hoisted(() => ({
  started: [] as Array<{ worker: NodeWorker; exportName: string; exited: boolean }>,
  /** Called after each message the parent posts to a thread; may kill it. */
  onPost: null as null | ((worker: NodeWorker, message: unknown) => void),
  /** While set, messages from threads reach the parent only once it settles (exit events are not held). */
  hold: null as null | Promise<unknown>,
}));

vi.mock('node:worker_threads', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:worker_threads')>();
  class TrackedWorker extends real.Worker {
    constructor(filename: string | URL, options?: WorkerOptions) {
      super(filename, options);
      const entry = { worker: this as NodeWorker, exportName: String((options?.workerData as { exportName?: unknown } | undefined)?.exportName), exited: false };
      threads.started.push(entry);
      this.once('exit', () => (entry.exited = true));
    }
    override postMessage(...args: Parameters<NodeWorker['postMessage']>): void {
      super.postMessage(...args);
      threads.onPost?.(this, args[0]);
    }
    override emit(event: string | symbol, ...args: unknown[]): boolean {
      const hold = threads.hold;
      if (event !== 'message' || !hold) return super.emit(event, ...args);
      void hold.then(() => super.emit(event, ...args));
      return true;
    }
  }
  return { ...real, Worker: TrackedWorker };
});

const { fixture, trainInProcess } = trainingTestbed();

const RUN = { epochs: 2, batch: 4, lr: 0.05, optimizer: 'sgd', momentum: 0.9, seed: 4, workers: 2, trainEngine: 'tfjs' };

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
/** Whether a message to a replica asks it to run `op`. */
const isTask = (message: unknown, op: string) => {
  const m = message as { type?: string; input?: { op?: string } } | null;
  return m?.type === 'run' && m.input?.op === op;
};
const liveReplicas = () => threads.started.filter((t) => t.exportName === 'createTrainReplica' && !t.exited);

/** The job's error, or a failure naming the hang if it neither finishes nor fails within `ms`. */
async function failureOf(run: Promise<unknown>, ms = 30_000): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the job was still running ${ms} ms later`)), ms)));
  try {
    await Promise.race([run, hung]);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('the job was still running')) throw err;
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  } finally {
    clearTimeout(timer);
  }
  throw new Error('the job finished although one of its workers died');
}

beforeEach(() => {
  threads.started.length = 0;
  threads.onPost = null;
  threads.hold = null;
});

describe('a training worker thread that dies', () => {
  it('fails the job with its reason, stops the other worker, keeps the last checkpoint, and the job resumes from it', async () => {
    const f = await fixture();
    const checkpoint = lastCheckpointPath(f.project, 1);
    let before: string | null = null;
    // Once epoch 1's checkpoint is on disk, the second replica is killed as its next step's gradients reach it.
    // The first replica is computing its half of the same step meanwhile.
    threads.onPost = (worker, message) => {
      if (before || !isTask(message, 'gradients') || worker !== liveReplicas()[1]?.worker || !existsSync(checkpoint)) return;
      before = sha256(checkpoint);
      void worker.terminate();
    };

    const crashed = trainInProcess(f, RUN);
    const error = await failureOf(crashed.run);
    threads.onPost = null;
    expect(before, 'the worker was killed after epoch 1 was checkpointed').not.toBeNull();
    expect(error.message).toBe('Training worker 2 of 2 stopped: it exited with code 1. The checkpoint after epoch 1 is kept: resume the job to continue from it.');

    // Both replica threads are gone: the dead one and the one the failed run shut down.
    const replicas = threads.started.filter((t) => t.exportName === 'createTrainReplica');
    expect(replicas).toHaveLength(2);
    await vi.waitFor(() => expect(replicas.every((t) => t.exited)).toBe(true), { timeout: 5_000 });

    // The checkpoint of epoch 1 is the same file, byte for byte, and loads.
    expect(sha256(checkpoint)).toBe(before);
    const kept = readResumable(checkpoint);
    expect(kept.progress.epoch).toBe(1);
    expect(f.project.metrics.list({ jobId: crashed.job.id }).filter((m) => m.split === 'train').map((m) => m.epoch)).toEqual([1]);
    expect(f.project.models.list()).toHaveLength(1);

    // Resumed, the job continues after epoch 1 on two fresh workers and finishes.
    const hooks = recordingHooks();
    const outcome = await runTrainJob(f.project, f.project.jobs.require(crashed.job.id), hooks);
    expect(hooks.lines.join('\n')).toMatch(/resuming from the checkpoint after epoch 1/);
    expect(outcome.figures).toMatchObject({ epochs: 2 });
    expect(f.project.metrics.list({ jobId: crashed.job.id }).filter((m) => m.split === 'train').map((m) => m.epoch)).toEqual([1, 2]);
    expect(existsSync(checkpoint)).toBe(false);
    const all = threads.started.filter((t) => t.exportName === 'createTrainReplica');
    expect(all).toHaveLength(4);
    await vi.waitFor(() => expect(all.every((t) => t.exited)).toBe(true), { timeout: 5_000 });
  });

  it('names the reason when the thread died while idle, at the next step that needs it', async () => {
    const f = await fixture();
    const checkpoint = lastCheckpointPath(f.project, 1);
    let victim: NodeWorker | null = null;
    // The second replica dies while the first takes epoch 1's snapshot. The snapshot's answer is held until
    // the dead thread's exit has been seen, so epoch 2's first step finds the worker already gone.
    threads.onPost = (worker, message) => {
      const replicas = liveReplicas();
      if (victim || !isTask(message, 'snapshot') || worker !== replicas[0]?.worker) return;
      victim = replicas[1].worker;
      threads.hold = once(victim, 'exit').then(() => (threads.hold = null));
      void victim.terminate();
    };
    const crashed = trainInProcess(f, RUN);
    const error = await failureOf(crashed.run);
    threads.onPost = null;
    expect(victim).not.toBeNull();
    // Not "worker 1 is not running": the reason it died.
    expect(error.message).toBe('Training worker 2 of 2 stopped: it exited with code 1. The checkpoint after epoch 1 is kept: resume the job to continue from it.');
    // The snapshot came from the live replica, so epoch 1's checkpoint was still written whole.
    expect(readResumable(checkpoint).progress.epoch).toBe(1);
    await vi.waitFor(() => expect(threads.started.every((t) => t.exited)).toBe(true), { timeout: 5_000 });
  });
});
