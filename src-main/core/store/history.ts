import { UserError } from '../errors.ts';
import { nowIso, writeTx, type Db, type SqlRow, stmt } from './sql.ts';

/** Tables whose rows edits may touch; undo/redo restores whole rows of these. */
export type TrackedTable = 'videos' | 'classes' | 'clips';

/** A row image as stored in the log: BLOB columns (frame timestamps) become `{ $blob: base64 }`. */
type RowImage = Record<string, string | number | null | { $blob: string }>;

interface RowChange {
  table: TrackedTable;
  id: number;
  before: RowImage | null;
  after: RowImage | null;
}

export interface HistoryState {
  canUndo: boolean;
  canRedo: boolean;
  /** What undo would revert, e.g. "Resize clip". */
  undoLabel: string | null;
  redoLabel: string | null;
  /** Edits that can be undone. */
  undoCount: number;
  redoCount: number;
}

/** Records the rows an edit touches; `touch` before changing a row, `inserted` after creating one. */
export interface EditTracker {
  touch(table: TrackedTable, id: number): void;
  inserted(table: TrackedTable, id: number): void;
}

function toImage(row: SqlRow): RowImage {
  const image: RowImage = {};
  for (const [column, value] of Object.entries(row)) {
    image[column] = Buffer.isBuffer(value) ? { $blob: value.toString('base64') } : typeof value === 'bigint' ? Number(value) : value;
  }
  return image;
}

function fromImage(image: RowImage): SqlRow {
  const row: SqlRow = {};
  for (const [column, value] of Object.entries(image)) {
    row[column] = value !== null && typeof value === 'object' ? Buffer.from(value.$blob, 'base64') : value;
  }
  return row;
}

function readRow(db: Db, table: TrackedTable, id: number): RowImage | null {
  const row = stmt(db, `SELECT * FROM ${table} WHERE id = ?`).get(id) as SqlRow | undefined;
  return row ? toImage(row) : null;
}

/** Current images of many rows at once, keyed `table:id` (an import touches 100k rows). */
function readRows(db: Db, rows: ReadonlyArray<{ table: TrackedTable; id: number }>): Map<string, RowImage> {
  const images = new Map<string, RowImage>();
  const tables = new Set(rows.map((r) => r.table));
  for (const table of tables) {
    const ids = rows.filter((r) => r.table === table).map((r) => r.id);
    const select = stmt(db, `SELECT * FROM ${table} WHERE id IN (SELECT value FROM json_each(?))`);
    for (let i = 0; i < ids.length; i += 10_000) {
      for (const row of select.all(JSON.stringify(ids.slice(i, i + 10_000))) as SqlRow[]) images.set(`${table}:${row.id}`, toImage(row));
    }
  }
  return images;
}

/** Writes a row image back: insert or update in place (never REPLACE, which would fire ON DELETE actions). */
function restoreRow(db: Db, table: TrackedTable, id: number, image: RowImage | null): void {
  if (image === null) {
    stmt(db, `DELETE FROM ${table} WHERE id = ?`).run(id);
    return;
  }
  const cols = Object.keys(image);
  const updates = cols.filter((c) => c !== 'id').map((c) => `${c} = excluded.${c}`);
  stmt(db,
    `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => '@' + c).join(', ')}) ` +
      `ON CONFLICT(id) DO UPDATE SET ${updates.join(', ')}`,
  ).run(fromImage(image));
}

/** Who makes edits: the app (its windows, in Electron or a browser) or the command line. */
export type EditOrigin = 'app' | 'cli';

/**
 * The persistent, unlimited undo/redo log. Every edit stores the before and after image of each row it
 * touched; undo writes the before images back (newest change first), redo the after images.
 * The log lives in the project file, so history survives restarts; each edit records its origin, and
 * undo/redo act on this origin's edits only (Ctrl+Z in the app never reverts a command run in a terminal).
 * An edit whose rows another origin has changed since is not undone: that would silently lose the other edit.
 */
export class History {
  constructor(
    private readonly db: Db,
    private readonly origin: EditOrigin = 'app',
  ) {}

  /** Runs `body` as one edit: one transaction, one log entry (none when it changed nothing). */
  edit<T>(label: string, body: (track: EditTracker) => T): T {
    return writeTx(this.db, () => {
      const before = new Map<string, RowChange>();
      const tracker: EditTracker = {
        touch: (table, id) => {
          const key = `${table}:${id}`;
          if (!before.has(key)) before.set(key, { table, id, before: readRow(this.db, table, id), after: null });
        },
        inserted: (table, id) => {
          const key = `${table}:${id}`;
          if (!before.has(key)) before.set(key, { table, id, before: null, after: null });
        },
      };
      const result = body(tracker);
      const after = readRows(this.db, [...before.values()]);
      const changes: RowChange[] = [];
      for (const change of before.values()) {
        change.after = after.get(`${change.table}:${change.id}`) ?? null;
        const changed =
          change.before === null || change.after === null
            ? change.before !== change.after
            : JSON.stringify(change.before) !== JSON.stringify(change.after);
        if (changed) changes.push(change);
      }
      if (changes.length > 0) {
        stmt(this.db, 'DELETE FROM edit_log WHERE undone = 1 AND origin = ?').run(this.origin);
        stmt(this.db, 'INSERT INTO edit_log (label, changes, created_at, origin) VALUES (?, ?, ?, ?)')
          .run(label, JSON.stringify(changes), nowIso(), this.origin);
      }
      return result;
    });
  }

  state(): HistoryState {
    const undo = stmt(this.db,
      'SELECT label, (SELECT count(*) FROM edit_log WHERE undone = 0 AND origin = @origin) AS n FROM edit_log WHERE undone = 0 AND origin = @origin ORDER BY id DESC LIMIT 1',
    ).get({ origin: this.origin }) as { label: string; n: number } | undefined;
    const redo = stmt(this.db,
      'SELECT label, (SELECT count(*) FROM edit_log WHERE undone = 1 AND origin = @origin) AS n FROM edit_log WHERE undone = 1 AND origin = @origin ORDER BY id ASC LIMIT 1',
    ).get({ origin: this.origin }) as { label: string; n: number } | undefined;
    return {
      canUndo: undo !== undefined,
      canRedo: redo !== undefined,
      undoLabel: undo?.label ?? null,
      redoLabel: redo?.label ?? null,
      undoCount: undo?.n ?? 0,
      redoCount: redo?.n ?? 0,
    };
  }

  /** Reverts the newest edit; returns its label, or null when there is nothing to undo. */
  undo(): string | null {
    return this.step('undo');
  }

  /** Re-applies the oldest undone edit; returns its label, or null when there is nothing to redo. */
  redo(): string | null {
    return this.step('redo');
  }

  private step(direction: 'undo' | 'redo'): string | null {
    const pick =
      direction === 'undo'
        ? 'SELECT id, label, changes FROM edit_log WHERE undone = 0 AND origin = ? ORDER BY id DESC LIMIT 1'
        : 'SELECT id, label, changes FROM edit_log WHERE undone = 1 AND origin = ? ORDER BY id ASC LIMIT 1';
    let label: string | null = null;
    try {
      return writeTx(this.db, () => {
        const entry = stmt(this.db, pick).get(this.origin) as { id: number; label: string; changes: string } | undefined;
        if (!entry) return null;
        label = entry.label;
        const changes = JSON.parse(entry.changes) as RowChange[];
        this.checkUntouched(entry.label, direction, changes);
        if (direction === 'undo') {
          for (const c of changes.reverse()) restoreRow(this.db, c.table, c.id, c.before);
        } else {
          for (const c of changes) restoreRow(this.db, c.table, c.id, c.after);
        }
        stmt(this.db, 'UPDATE edit_log SET undone = ? WHERE id = ?').run(direction === 'undo' ? 1 : 0, entry.id);
        return entry.label;
      });
    } catch (err) {
      if (err instanceof UserError) throw err;
      if (label !== null && err instanceof Error && 'code' in err && String(err.code).startsWith('SQLITE_CONSTRAINT')) {
        throw new UserError(
          'conflict',
          `Cannot ${direction} "${label}": rows it changed were altered since by an edit outside the history (${err.message}).`,
        );
      }
      throw err;
    }
  }

  /**
   * Labels and classes must still be as this edit left them (undo) or found them (redo). Videos are not
   * checked: background work updates their rows (status, playable copy) outside the history.
   */
  private checkUntouched(label: string, direction: 'undo' | 'redo', changes: RowChange[]): void {
    const labelled = changes.filter((c) => c.table !== 'videos');
    const current = readRows(this.db, labelled);
    for (const c of labelled) {
      const expected = direction === 'undo' ? c.after : c.before;
      const now = current.get(`${c.table}:${c.id}`) ?? null;
      if (JSON.stringify(now) !== JSON.stringify(expected)) {
        throw new UserError(
          'conflict',
          `Cannot ${direction} "${label}": ${c.table === 'clips' ? 'a clip' : 'a class'} it changed was edited since from elsewhere ` +
            '(another window or the command line); undoing it would lose that edit.',
        );
      }
    }
  }
}
