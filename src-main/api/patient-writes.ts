/**
 * Requests of a host that serves users (web, Electron) never wait on the project lock inside the event
 * loop: SQLite's busy wait is synchronous, and a 15 s wait for another process's long write froze every
 * client. Here a request waits at most HOST_BUSY_WAIT_MS at a time; when another process holds the
 * project, the request is retried later, in arrival order, until it is saved or RETRY_FOR_MS have passed.
 * A CLI has nothing else to serve and keeps SQLite's own wait.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isProjectBusy } from '../core/store/sql.ts';
import type { ApiContext } from './context.ts';
import type { Session } from './session.ts';

const HOST_BUSY_WAIT_MS = 50;
const RETRY_FOR_MS = 120_000;
const MAX_PAUSE_MS = 500;

/** The tail of each session's queue of requests waiting for the project lock, so they keep their order. */
const waiting = new WeakMap<Session, Promise<unknown>>();

export async function runWithoutBlocking<T>(ctx: ApiContext, run: () => T | Promise<T>): Promise<T> {
  if (ctx.host === 'cli') return run();
  try {
    return await withShortBusyWait(ctx, run);
  } catch (err) {
    if (!isProjectBusy(err)) throw err;
    const previous = waiting.get(ctx.session) ?? Promise.resolve();
    const mine = previous.catch(() => {}).then(() => retry(ctx, run, err));
    waiting.set(ctx.session, mine);
    return mine;
  }
}

async function retry<T>(ctx: ApiContext, run: () => T | Promise<T>, first: unknown): Promise<T> {
  const started = Date.now();
  let lastError = first;
  for (let attempt = 0; Date.now() - started < RETRY_FOR_MS; attempt++) {
    await delay(Math.min(MAX_PAUSE_MS, 25 * 2 ** attempt));
    try {
      return await withShortBusyWait(ctx, run);
    } catch (err) {
      if (!isProjectBusy(err)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

/** Runs the synchronous part of `run` (where a handler's edits happen) with a short busy wait. */
function withShortBusyWait<T>(ctx: ApiContext, run: () => T | Promise<T>): T | Promise<T> {
  const db = ctx.session.hasProject ? ctx.session.project.db : null;
  if (!db || db.readonly) return run();
  const previous = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${HOST_BUSY_WAIT_MS}`);
  try {
    return run();
  } finally {
    if (db.open) db.pragma(`busy_timeout = ${previous}`);
  }
}
