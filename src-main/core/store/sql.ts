import type Database from 'better-sqlite3';
import { UserError } from '../errors.ts';

export type Db = Database.Database;
export type SqlValue = string | number | bigint | Buffer | null;
export type SqlRow = Record<string, SqlValue>;

/** ISO timestamp in UTC with milliseconds, the format every `*_at` column holds. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export function fromJson<T>(text: SqlValue): T | null {
  return typeof text === 'string' ? (JSON.parse(text) as T) : null;
}

/** A Float64Array/Float32Array as a BLOB (little-endian, as typed arrays are on every supported platform). */
export function typedToBlob(values: Float64Array | Float32Array | null | undefined): Buffer | null {
  if (!values) return null;
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function blobToFloat64(blob: SqlValue): Float64Array | null {
  if (!Buffer.isBuffer(blob)) return null;
  const copy = new Uint8Array(blob).slice().buffer; // aligned copy
  return new Float64Array(copy, 0, blob.byteLength / 8);
}

export function blobToFloat32(blob: SqlValue): Float32Array | null {
  if (!Buffer.isBuffer(blob)) return null;
  const copy = new Uint8Array(blob).slice().buffer;
  return new Float32Array(copy, 0, blob.byteLength / 4);
}

const BUSY = { busy: true } as const;

/** Whether `err` is writeTx's report that another connection held the project past the busy wait. */
export function isProjectBusy(err: unknown): boolean {
  return err instanceof UserError && err.details === BUSY;
}

/** Connections whose writes are held back behind writes already waiting for the lock (readsOnly). */
const holdingWrites = new WeakSet<Db>();

/**
 * Runs `run` allowing reads only: a write it tries fails as if the project were busy, having changed
 * nothing, so that it can queue behind the writes already waiting (PatientWriter.request).
 */
export function readsOnly<T>(db: Db, run: () => T): T {
  db.pragma('query_only = ON');
  holdingWrites.add(db);
  try {
    return run();
  } finally {
    holdingWrites.delete(db);
    if (db.open) db.pragma('query_only = OFF');
  }
}

/**
 * Runs `body` in a write transaction taken at BEGIN IMMEDIATE, so two processes queue instead of deadlocking.
 * A full disk or a project held busy past the timeout roll the edit back and say so.
 */
export function writeTx<T>(db: Db, body: () => T): T {
  try {
    return db.transaction(body).immediate();
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    if (code === 'SQLITE_FULL') {
      throw new UserError('unavailable', `The disk holding ${projectFileOf(db)} is full: the edit was not saved and nothing changed.`);
    }
    if (code.startsWith('SQLITE_BUSY') || (code.startsWith('SQLITE_READONLY') && holdingWrites.has(db))) {
      throw new UserError('conflict', `Another process kept ${projectFileOf(db)} busy too long: the edit was not saved; try again.`, BUSY);
    }
    if (code.startsWith('SQLITE_READONLY')) {
      throw new UserError('unavailable', `The project ${projectFileOf(db)} is open read-only (${readOnlyReasons.get(db) ?? PERMISSIONS}): the edit was not saved.`);
    }
    if (code.startsWith('SQLITE_IOERR')) {
      throw new UserError('unavailable', `The disk holding ${projectFileOf(db)} reported an error (${(err as Error).message}): the edit was not saved; is it full or failing?`);
    }
    throw err;
  }
}

const PERMISSIONS = 'no write permission for the file or its folder';
/** The project file of a read-only connection (an in-memory snapshot has no file name of its own) and why. */
const snapshotNames = new WeakMap<Db, string>();
const readOnlyReasons = new WeakMap<Db, string>();
export function describeReadOnly(db: Db, file: string, reason = PERMISSIONS): void {
  snapshotNames.set(db, file);
  readOnlyReasons.set(db, reason);
}
function projectFileOf(db: Db): string {
  return snapshotNames.get(db) ?? db.name;
}

const statementCaches = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement reused across calls (preparing costs more than running a small statement). */
export function stmt(db: Db, sql: string): Database.Statement {
  let cache = statementCaches.get(db);
  if (!cache) statementCaches.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}
