/**
 * Writes that wait for another process's lock without blocking this one. SQLite's busy wait is synchronous:
 * a host that serves clients from its event loop gives its connection a short wait (SHORT_LOCK_WAIT_MS), and
 * the writes it makes go through here. A write the project is free for runs at once; one that finds the
 * project held by another process waits in a queue and is tried again with growing pauses, in the order
 * writes were asked for, until it is saved or RETRY_FOR_MS have passed. A command-line process keeps
 * SQLite's long wait, so here it simply writes.
 */
import { UserError } from '../errors.ts';
import { isProjectBusy, readsOnly, stmt, type Db } from './sql.ts';

/** The busy wait of a connection whose process serves clients: long enough for a quick commit of another process. */
export const SHORT_LOCK_WAIT_MS = 50;
/** How long a queued write is tried before the user is told it could not be saved. */
const RETRY_FOR_MS = 120_000;
const MAX_PAUSE_MS = 500;
/** The busy wait for the writes still queued when the project closes (closing may wait; losing them may not). */
const CLOSING_LOCK_WAIT_MS = 15_000;

interface QueuedWrite {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  since: number;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; retry: boolean; error: unknown };

export class PatientWriter {
  /** Writes waiting for the lock, oldest first; a new write queues behind them to keep the order. */
  private readonly queue: QueuedWrite[] = [];
  private timer: NodeJS.Timeout | null = null;
  private pauses = 0;

  constructor(
    private readonly db: Db,
    private readonly retryForMs = RETRY_FOR_MS,
  ) {}

  /** Whether writes are queued behind another process's lock. */
  get isWaiting(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Runs `write` (synchronous: the edit and its transactions) now, or once the lock is free. Resolves with
   * its result; rejects with its error, or with the busy error once RETRY_FOR_MS have passed. A write that
   * committed part of its work before it found the project busy is not run again: its error is passed on.
   */
  run<T>(write: () => T): Promise<T> {
    if (this.queue.length === 0) {
      const first = this.attempt(write);
      if (first.ok) return Promise.resolve(first.value);
      if (!first.retry) return Promise.reject(first.error);
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject, since: Date.now() });
      this.schedule();
    });
  }

  /**
   * Runs `body`, which may read or write: at once while no write waits; while writes wait, its reads run at
   * once and a write it tries sends it to the back of the queue (so a read never waits for the lock, and
   * edits are saved in the order they were asked for).
   */
  request<T>(body: () => T): Promise<T> {
    if (this.queue.length === 0 || !this.db.open || this.db.readonly) return this.run(body);
    const first = this.attempt(() => readsOnly(this.db, body));
    if (first.ok) return Promise.resolve(first.value);
    if (!first.retry) return Promise.reject(first.error);
    return this.run(body);
  }

  /**
   * The project is closing: the queued writes are made now, waiting for the lock as a command-line process
   * does, so none is lost.
   */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queue.length === 0 || !this.db.open) return;
    const previous = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma(`busy_timeout = ${CLOSING_LOCK_WAIT_MS}`);
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.settle(next, this.attempt(next.write));
    } finally {
      this.db.pragma(`busy_timeout = ${previous}`);
    }
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const pause = Math.min(MAX_PAUSE_MS, 10 * 2 ** this.pauses++);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.drain();
    }, pause);
  }

  /** Tries the queued writes in order, stopping at the first that still finds the project busy. */
  private drain(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0];
      const outcome = this.attempt(next.write);
      if (!outcome.ok && outcome.retry && Date.now() - next.since < this.retryForMs) break;
      this.queue.shift();
      this.settle(next, outcome);
      this.pauses = 0;
    }
    this.schedule();
  }

  private settle(entry: QueuedWrite, outcome: Attempt<unknown>): void {
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
  }

  private attempt<T>(write: () => T): Attempt<T> {
    if (!this.db.open) return { ok: false, retry: false, error: new UserError('unavailable', `The project ${this.db.name} was closed before the edit could be saved.`) };
    const before = this.totalChanges();
    try {
      return { ok: true, value: write() };
    } catch (error) {
      return { ok: false, retry: isProjectBusy(error) && this.db.open && this.totalChanges() === before, error };
    }
  }

  private totalChanges(): number {
    return stmt(this.db, 'SELECT total_changes()').pluck().get() as number;
  }
}
