import { UserError } from '../errors.ts';
import { fromJson, nowIso, toJson, writeTx, type Db, type SqlRow, stmt } from './sql.ts';

export type JobKind = 'train' | 'predict' | 'probe';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface JobRecord {
  id: number;
  kind: JobKind;
  params: Record<string, unknown>;
  status: JobStatus;
  progress: Record<string, unknown> | null;
  error: string | null;
  log: string;
  modelId: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface JobPatch {
  status?: JobStatus;
  progress?: Record<string, unknown> | null;
  error?: string | null;
  modelId?: number | null;
}

function toJob(r: SqlRow): JobRecord {
  return {
    id: Number(r.id),
    kind: r.kind as JobKind,
    params: fromJson<Record<string, unknown>>(r.params) ?? {},
    status: r.status as JobStatus,
    progress: fromJson<Record<string, unknown>>(r.progress),
    error: (r.error as string | null) ?? null,
    log: String(r.log ?? ''),
    modelId: r.model_id === null ? null : Number(r.model_id),
    createdAt: String(r.created_at),
    startedAt: (r.started_at as string | null) ?? null,
    finishedAt: (r.finished_at as string | null) ?? null,
  };
}

const FINISHED: readonly JobStatus[] = ['done', 'failed', 'cancelled', 'interrupted'];

export class JobsRepo {
  constructor(private readonly db: Db) {}

  /** Adds a queued job, with its first progress and log line in the same edit. */
  insert(kind: JobKind, params: object, first: { progress?: Record<string, unknown>; log?: string } = {}): JobRecord {
    const info = writeTx(this.db, () =>
      stmt(this.db, "INSERT INTO jobs (kind, params, progress, log, created_at) VALUES (?, ?, ?, ?, ?)")
        .run(kind, JSON.stringify(params), toJson(first.progress ?? null), first.log ?? '', nowIso()),
    );
    return this.require(Number(info.lastInsertRowid));
  }

  get(id: number): JobRecord | null {
    const row = stmt(this.db, 'SELECT * FROM jobs WHERE id = ?').get(id) as SqlRow | undefined;
    return row ? toJob(row) : null;
  }

  require(id: number): JobRecord {
    const job = this.get(id);
    if (!job) throw new UserError('not_found', `No job with id ${id} in this project.`);
    return job;
  }

  list(opts: { status?: JobStatus; kind?: JobKind } = {}): JobRecord[] {
    return (
      stmt(this.db, 'SELECT * FROM jobs WHERE (? IS NULL OR status = ?) AND (? IS NULL OR kind = ?) ORDER BY id')
        .all(opts.status ?? null, opts.status ?? null, opts.kind ?? null, opts.kind ?? null) as SqlRow[]
    ).map(toJob);
  }

  /**
   * Updates a job, appending `log` to its log in the same edit; entering `running` stamps started_at,
   * entering a final status stamps finished_at.
   */
  update(id: number, patch: JobPatch, log?: string): JobRecord {
    writeTx(this.db, () => {
      if (log) this.appendLog(id, log);
      const current = this.require(id);
      const status = patch.status ?? current.status;
      const now = nowIso();
      stmt(this.db, 'UPDATE jobs SET status = ?, progress = ?, error = ?, model_id = ?, started_at = ?, finished_at = ? WHERE id = ?')
        .run(
          status,
          toJson(patch.progress === undefined ? current.progress : patch.progress),
          patch.error === undefined ? current.error : patch.error,
          patch.modelId === undefined ? current.modelId : patch.modelId,
          status === 'running' && !current.startedAt ? now : current.startedAt,
          FINISHED.includes(status) && !FINISHED.includes(current.status) ? now : current.finishedAt,
          id,
        );
    });
    return this.require(id);
  }

  /** The newest job of a kind for a model (only a finished one with `done`), or null. */
  latestId(kind: JobKind, modelId: number, opts: { done?: boolean } = {}): number | null {
    const sql = `SELECT id FROM jobs WHERE kind = ? AND model_id = ?${opts.done ? " AND status = 'done'" : ''} ORDER BY id DESC LIMIT 1`;
    return (stmt(this.db, sql).pluck().get(kind, modelId) as number | undefined) ?? null;
  }

  /** Jobs in these statuses with the process that last reported their progress (to tell a live owner from a gone one). */
  owners(statuses: readonly JobStatus[]): Array<{ id: number; pid: number | undefined; params: Record<string, unknown> | null }> {
    const rows = stmt(this.db, `SELECT id, progress, params FROM jobs WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY id`)
      .all(...statuses) as SqlRow[];
    return rows.map((r) => ({ id: Number(r.id), pid: fromJson<{ pid?: number }>(r.progress)?.pid, params: fromJson<Record<string, unknown>>(r.params) }));
  }

  /** Puts a stopped job back in the queue, clearing its error and finish time. */
  requeue(id: number, progress: Record<string, unknown>, log: string): void {
    writeTx(this.db, () => {
      stmt(this.db, "UPDATE jobs SET status = 'queued', error = NULL, finished_at = NULL, progress = ? WHERE id = ?").run(toJson(progress), id);
      this.appendLog(id, log);
    });
  }

  appendLog(id: number, text: string): void {
    writeTx(this.db, () => stmt(this.db, "UPDATE jobs SET log = log || ? WHERE id = ?").run(text, id));
  }

  /** Marks these jobs interrupted with the same error and log line, in one edit; returns them. */
  interrupt(ids: readonly number[], error: string, log: string): JobRecord[] {
    return writeTx(this.db, () => ids.map((id) => this.update(id, { status: 'interrupted', error }, log)));
  }

  remove(id: number): void {
    writeTx(this.db, () => stmt(this.db, 'DELETE FROM jobs WHERE id = ?').run(id));
  }
}
