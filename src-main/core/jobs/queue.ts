/**
 * The project's job queue: jobs are rows of the project (so they survive a restart), run one at a time in a
 * worker thread (a predict or probe on the worker queue is only coordinated here, so it runs alongside), report
 * progress with rate and ETA, and can be cancelled at any moment. A job whose process died is marked
 * interrupted when the project is next opened and can be resumed (training continues from its last checkpoint).
 * The queue's own writes (status, progress, log) go through the project's PatientWriter: in a host that
 * serves clients they wait for another process's lock off the event loop, in order.
 */
import { UserError, toErrorPayload } from '../errors.ts';
import { nowIso } from '../store/sql.ts';
import type { Project } from '../store/project.ts';
import { RateMeter } from './rate.ts';
import { workerThreadExecutor, type JobExecutor, type RunningJob } from './worker-thread.ts';
import { FINAL_STATUSES, type JobKind, type JobProgress, type JobRecord } from './types.ts';
import type { JobParams } from './params.ts';
import type { JobPatch } from '../store/jobs.ts';

export interface JobQueueListener {
  progress(job: JobRecord, progress: JobProgress): void;
  updated(job: JobRecord): void;
}

/** How often progress is written to the project (events go out on every report). */
const PERSIST_INTERVAL_MS = 1000;
/** How often a queued job checks whether another process's job has finished. */
const OTHER_PROCESS_POLL_MS = 2000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A predict or probe on the worker queue: this process only coordinates, so it does not hold the compute slot. */
function coordinatesOnly(params: Record<string, unknown> | null | undefined): boolean {
  return typeof params?.queue === 'string';
}

type ActiveJob = { id: number; handle: RunningJob; stopAs: 'cancelled' | 'interrupted' | null };

export class JobQueue {
  /** The compute job running here (one at a time, across processes too). */
  private active: ActiveJob | null = null;
  /** Jobs on the worker queue this process coordinates, alongside the compute job. */
  private readonly coordinating = new Map<number, ActiveJob>();
  private readonly order: number[] = [];
  /** Jobs that ended here whose final status still waits to be written. */
  private readonly ending = new Set<number>();
  private readonly waiters = new Map<number, Array<(job: JobRecord) => void>>();
  private closed = false;
  private waitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly project: Project,
    private readonly listener: JobQueueListener,
    private readonly executor: JobExecutor = workerThreadExecutor,
  ) {}

  /**
   * Marks queued or running jobs whose owning process is gone as interrupted (a job of a live process, e.g.
   * a CLI training next to the app, is left alone). Returns the jobs it marked.
   */
  async recover(): Promise<JobRecord[]> {
    const dead = this.project.jobs.owners(['queued', 'running']).filter(({ pid }) => !pid || (pid !== process.pid && !processAlive(pid)));
    if (dead.length === 0) return []; // no write at all: a read-only project refuses even an empty one
    const error = 'The process running this job stopped before it finished.';
    const log = `${nowIso()} interrupted: the process running the job stopped\n`;
    return this.project.writes.run(() => this.project.jobs.interrupt(dead.map(({ id }) => id), error, log));
  }

  /** Adds a job (one write: a request that finds the project busy is retried whole by the caller's writer). */
  submit<K extends JobKind>(kind: K, params: JobParams[K]): JobRecord {
    if (this.closed) throw new UserError('unavailable', 'The project is closing; no new job can start.');
    const job = this.project.jobs.insert(kind, params, { progress: this.queuedProgress(), log: `${nowIso()} queued ${kind}\n` });
    this.order.push(job.id);
    this.announce(job.id);
    this.pump();
    return this.project.jobs.require(job.id);
  }

  /** Puts an interrupted (or failed) job back in the queue; a training job resumes from its checkpoint. */
  resume(id: number): JobRecord {
    const job = this.project.jobs.require(id);
    if (job.status !== 'interrupted' && job.status !== 'failed') {
      throw new UserError('conflict', `Job ${id} is ${job.status}; only an interrupted or failed job can be resumed.`);
    }
    this.project.jobs.requeue(id, this.queuedProgress(), `${nowIso()} resumed\n`);
    this.order.push(id);
    this.announce(id);
    this.pump();
    return this.project.jobs.require(id);
  }

  cancel(id: number): JobRecord {
    const job = this.project.jobs.require(id);
    if (FINAL_STATUSES.includes(job.status)) return job;
    const running = this.running(id);
    if (running) {
      running.stopAs = 'cancelled';
      running.handle.cancel();
      this.write(id, {}, 'cancel requested');
      return job;
    }
    const index = this.order.indexOf(id);
    if (index < 0) throw new UserError('conflict', `Job ${id} runs in another process; cancel it there.`);
    // Written first: if the project is busy, nothing changed and the request is tried again whole.
    const cancelled = this.project.jobs.update(id, { status: 'cancelled', error: null }, `${nowIso()} cancelled\n`);
    this.order.splice(index, 1);
    this.settled(id);
    return cancelled;
  }

  /** Resolves with the job once it reaches a final status. */
  waitFor(id: number): Promise<JobRecord> {
    const job = this.project.jobs.require(id);
    if (FINAL_STATUSES.includes(job.status) && !this.running(id)) return Promise.resolve(job);
    if (!this.running(id) && !this.order.includes(id) && !this.ending.has(id)) {
      throw new UserError('conflict', `Job ${id} is ${job.status} in another process; follow it there.`);
    }
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /**
   * The project is closing: queued jobs and the running one become interrupted (resumable) at once; the
   * running worker is told to stop and is no longer listened to.
   */
  close(): void {
    this.closed = true;
    if (this.waitTimer) clearTimeout(this.waitTimer);
    for (const id of this.order.splice(0)) this.finish(id, 'interrupted', 'The project was closed before the job ran.');
    for (const active of [...this.coordinating.values(), ...(this.active ? [this.active] : [])]) {
      active.stopAs = 'interrupted';
      active.handle.cancel(5000);
      this.finish(active.id, 'interrupted', 'The project was closed while the job ran.');
    }
    // The project closes next: what still waits for the lock is written now (Project.close).
  }

  private running(id: number): ActiveJob | undefined {
    return this.active?.id === id ? this.active : this.coordinating.get(id);
  }

  private queuedProgress(): JobProgress {
    return { phase: 'queued', done: 0, total: 0, unit: '', rate: null, etaSeconds: null, pid: process.pid };
  }

  /** A job another live process is running on this project (compute jobs take turns across processes too). */
  private busyElsewhere(): number | null {
    for (const { id, pid, params } of this.project.jobs.owners(['running'])) {
      if (coordinatesOnly(params)) continue;
      if (pid && pid !== process.pid && processAlive(pid)) return id;
    }
    return null;
  }

  private pump(): void {
    if (this.closed) return;
    // Queue jobs start at once, whatever else runs; compute jobs take turns.
    for (const id of this.order.filter((id) => coordinatesOnly(this.project.jobs.require(id).params))) {
      this.order.splice(this.order.indexOf(id), 1);
      this.start(id, true);
    }
    if (this.active || this.waitTimer) return;
    const next = this.order[0];
    if (next === undefined) return;
    const other = this.busyElsewhere();
    if (other !== null) {
      const note = `waiting for job ${other}, which another process is running`;
      if (this.project.jobs.require(next).progress?.note !== note) this.write(next, { progress: { ...this.queuedProgress(), note } });
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.pump();
      }, OTHER_PROCESS_POLL_MS);
      return;
    }
    this.start(this.order.shift()!, false);
  }

  private start(id: number, coordinating: boolean): void {
    const meter = new RateMeter();
    let lastPersist = 0;
    let latest: JobProgress = { ...this.queuedProgress(), phase: 'starting' };
    /** A progress write waiting for the lock: later reports update it instead of queuing more. */
    let progressWaiting = false;
    this.write(id, { status: 'running', progress: latest }, 'started');
    const handle = this.executor(this.project.dir, id, {
      report: (update) => {
        if (this.closed) return;
        latest = { ...update, ...meter.update(update.phase, update.done, update.total), pid: process.pid };
        const now = Date.now();
        if ((now - lastPersist >= PERSIST_INTERVAL_MS || update.done === update.total) && !progressWaiting) {
          lastPersist = now;
          progressWaiting = true;
          void this.project.writes
            .run(() => this.project.jobs.update(id, { progress: latest }))
            .catch(() => {}) // progress is written again on the next report
            .finally(() => (progressWaiting = false));
        }
        this.listener.progress(this.project.jobs.require(id), latest);
      },
      log: (line) => {
        if (!this.closed) this.write(id, {}, line);
      },
    });
    const entry: ActiveJob = { id, handle, stopAs: null };
    if (coordinating) this.coordinating.set(id, entry);
    else this.active = entry;
    handle.outcome.then(
      (outcome) => {
        if (this.closed) return;
        const progress = { ...latest, done: latest.total, etaSeconds: 0, figures: outcome.figures };
        this.finish(id, 'done', null, { progress, ...(outcome.modelId !== undefined ? { modelId: outcome.modelId } : {}) }, `done ${JSON.stringify(outcome.figures)}`);
      },
      (err: unknown) => {
        if (this.closed) return;
        const payload = toErrorPayload(err);
        const stopAs = entry.stopAs;
        if (stopAs === 'cancelled' && payload.code === 'cancelled') this.finish(id, 'cancelled', null);
        else this.finish(id, 'failed', payload.message);
      },
    );
  }

  /** Records a job's end (after the writes before it), then tells its waiters and starts the next job. */
  private finish(id: number, status: 'done' | 'failed' | 'cancelled' | 'interrupted', error: string | null, patch: JobPatch = {}, line?: string): void {
    if (this.active?.id === id) this.active = null;
    this.coordinating.delete(id);
    this.ending.add(id);
    const note = line ?? `${status}${error ? `: ${error}` : ''}`;
    void this.write(id, { ...patch, status, error }, note).finally(() => this.settled(id));
  }

  /** The job reached its final status in the project: its waiters hear of it and the next job may start. */
  private settled(id: number): void {
    this.ending.delete(id);
    const job = this.project.db.open ? this.project.jobs.get(id) : null;
    for (const resolve of this.waiters.get(id) ?? []) if (job) resolve(job);
    this.waiters.delete(id);
    this.pump();
  }

  /**
   * Writes a change of a job and/or a log line, once the project is free for it (in order with the queue's
   * other writes), then tells the listener of a change. Resolves once written, or once it could not be.
   */
  private write(id: number, patch: JobPatch, line?: string): Promise<void> {
    const log = line === undefined ? undefined : `${nowIso()} ${line}\n`;
    const changes = Object.keys(patch).length > 0;
    const jobs = this.project.jobs;
    return this.project.writes.run(() => (changes ? jobs.update(id, patch, log) : log && jobs.appendLog(id, log))).then(
      () => {
        if (changes && this.project.db.open) this.announce(id);
      },
      (err: unknown) => {
        if (this.project.db.open) console.error(`job ${id}: ${toErrorPayload(err).message}`);
      },
    );
  }

  private announce(id: number): void {
    this.listener.updated(this.project.jobs.require(id));
  }
}
