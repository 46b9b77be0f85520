import { accessSync, constants, existsSync, mkdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { appVersion } from '../app-info.ts';
import { UserError } from '../errors.ts';
import { ClassesRepo } from './classes.ts';
import { ClipsRepo } from './clips.ts';
import { History, type EditOrigin } from './history.ts';
import { JobsRepo } from './jobs.ts';
import { ModelsRepo } from './models.ts';
import { MetricsRepo, PredictionsRepo, ProbesRepo, TrainingStepsRepo } from './results.ts';
import { ReviewRejectionsRepo } from './review-rejections.ts';
import { nativeBindingOption } from './native-binding.ts';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './schema.ts';
import { describeReadOnly, type Db } from './sql.ts';
import { PatientWriter, SHORT_LOCK_WAIT_MS } from './patient-writer.ts';
import { VideosRepo } from './videos.ts';

/** A project is a folder holding this SQLite file (plus `models/` for weight files). */
export const PROJECT_FILE = 'project.stmstudio';
/** Folder of model weight files inside the project folder; models.weights_path is relative to the project. */
export const MODELS_DIR = 'models';
/** How long a writer waits for another process's transaction before giving up (ms). */
const BUSY_TIMEOUT_MS = 15_000;


export interface ProjectSummary {
  dir: string;
  file: string;
  schemaVersion: number;
  videos: number;
  classes: number;
  clips: number;
  models: number;
  jobs: number;
}

export class Project {
  readonly videos: VideosRepo;
  readonly classes: ClassesRepo;
  readonly clips: ClipsRepo;
  readonly models: ModelsRepo;
  readonly jobs: JobsRepo;
  readonly predictions: PredictionsRepo;
  readonly metrics: MetricsRepo;
  readonly probes: ProbesRepo;
  readonly trainingSteps: TrainingStepsRepo;
  readonly reviewRejections: ReviewRejectionsRepo;
  /** Undo/redo of class and clip edits, persistent in the project file. */
  readonly history: History;
  /** Writes that wait for another process's lock off the event loop (see useShortLockWait). */
  readonly writes: PatientWriter;
  private lastDataVersion = -1;
  private lastStamp = '';

  constructor(
    readonly dir: string,
    readonly file: string,
    /** The connection, for repositories other modules add; every write must run in a transaction. */
    readonly db: Db,
    /** Opened for reading only (the file or its folder is not writable): every edit is refused, naming the file. */
    readonly readOnly = false,
    /** Whose edits this connection records and undoes. */
    origin: EditOrigin = 'app',
  ) {
    this.history = new History(db, origin);
    this.videos = new VideosRepo(db, this.history);
    this.classes = new ClassesRepo(db, this.history);
    this.clips = new ClipsRepo(db, this.history);
    this.models = new ModelsRepo(db);
    this.jobs = new JobsRepo(db);
    this.predictions = new PredictionsRepo(db);
    this.metrics = new MetricsRepo(db);
    this.probes = new ProbesRepo(db);
    this.trainingSteps = new TrainingStepsRepo(db);
    this.reviewRejections = new ReviewRejectionsRepo(db);
    this.writes = new PatientWriter(db);
  }

  /**
   * For a process that serves clients from its event loop: SQLite's busy wait blocks that loop, so it is
   * cut to SHORT_LOCK_WAIT_MS, and writes that find the project held by another process wait in `writes`.
   */
  useShortLockWait(): void {
    if (!this.readOnly) this.db.pragma(`busy_timeout = ${SHORT_LOCK_WAIT_MS}`);
  }

  get modelsDir(): string {
    return join(this.dir, MODELS_DIR);
  }

  summary(): ProjectSummary {
    const count = (sql: string) => this.db.prepare(sql).pluck().get() as number;
    return {
      dir: this.dir,
      file: this.file,
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      videos: count('SELECT count(*) FROM videos'),
      classes: count('SELECT count(*) FROM classes WHERE archived = 0'),
      clips: count('SELECT count(*) FROM clips'),
      models: count('SELECT count(*) FROM models'),
      jobs: count('SELECT count(*) FROM jobs'),
    };
  }

  /**
   * Changes whenever another connection (a CLI run, a second window) edits labels, classes, videos or
   * models; job progress alone leaves it unchanged. Cheap enough to poll: it only queries after SQLite's
   * data_version says someone else committed.
   */
  externalChangeStamp(): string {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version === this.lastDataVersion) return this.lastStamp;
    this.lastDataVersion = version;
    this.lastStamp = JSON.stringify(
      this.db
        .prepare(
          'SELECT (SELECT max(id) FROM edit_log), (SELECT count(*) FROM edit_log WHERE undone = 1), ' +
            '(SELECT max(id) FROM videos), (SELECT count(*) FROM videos), (SELECT max(id) FROM models), (SELECT count(*) FROM models)',
        )
        .raw()
        .get(),
    );
    return this.lastStamp;
  }

  close(): void {
    if (!this.db.open) return;
    this.writes.flush();
    this.db.close();
  }
}

/**
 * Opens the project in `dir` (or the project file itself), creating it when `create` is set.
 * A file that is not an STM Studio project, or one from a newer version, is refused before anything is
 * written to it.
 */
export function openProject(dir: string, opts: { create?: boolean; origin?: EditOrigin } = {}): Project {
  const target = resolve(dir);
  const isFile = existsSync(target) && statSync(target).isFile();
  const projectDir = isFile ? dirname(target) : target;
  const file = isFile ? target : join(target, PROJECT_FILE);

  if (!existsSync(file)) {
    if (!opts.create) {
      throw new UserError('not_found', `No STM Studio project in ${projectDir} (${PROJECT_FILE} is missing).`);
    }
    mkdirSync(projectDir, { recursive: true });
  } else {
    inspectExisting(file, opts.create === true);
  }

  if (!opts.create && existsSync(file) && !writable(file, projectDir)) return openReadOnly(projectDir, file, opts.origin);
  let db: Db;
  try {
    db = new Database(file, { timeout: BUSY_TIMEOUT_MS, ...nativeBindingOption() });
  } catch (err) {
    throw openError(file, err);
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    mkdirSync(join(projectDir, MODELS_DIR), { recursive: true });
  } catch (err) {
    db.close();
    // A full disk cannot take SQLite's journal files: the project can still be read, and edits say why not.
    if (!opts.create && diskTrouble(err) && diskFull(projectDir)) return openReadOnly(projectDir, file, opts.origin, 'the disk is full');
    throw openError(file, err);
  }
  return new Project(projectDir, file, db, false, opts.origin);
}

/** Whether this process may write the project file and create its journal files beside it. */
function writable(file: string, dir: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function diskTrouble(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code.startsWith('SQLITE_IOERR');
}

function diskFull(dir: string): boolean {
  try {
    return statfsSync(dir).bavail === 0;
  } catch {
    return false;
  }
}

/** Why a project could not be opened, naming the file and what the user can do. */
function openError(file: string, err: unknown): UserError {
  if (err instanceof UserError) return err;
  const code = (err as { code?: unknown }).code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC') return new UserError('unavailable', `Cannot open the project ${file}: the disk is full (${detail}).`);
  if (typeof code === 'string' && code.startsWith('SQLITE_IOERR')) {
    return new UserError('unavailable', `Cannot open the project ${file}: the disk reported an error (${detail}); is it full or failing?`);
  }
  if (typeof code === 'string' && (code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EROFS')) {
    return new UserError('unavailable', `Cannot open the project ${file} for writing: ${detail} (check the permissions of the file and its folder).`);
  }
  return new UserError('unavailable', `Cannot open the project ${file}: ${detail}.`);
}

/**
 * A project this process may not write (read-only file, folder or medium) opens for reading: listing,
 * exporting and inspecting work, and any edit names the file as read-only. SQLite needs write access to
 * the folder for the journal of a WAL database; when it has none and no journal is pending, the project is
 * read from a snapshot of the file in memory.
 */
function openReadOnly(projectDir: string, file: string, origin?: EditOrigin, reason?: string): Project {
  let db: Db;
  try {
    db = readOnlyDatabase(file);
    describeReadOnly(db, file, reason);
    if ((db.pragma('user_version', { simple: true }) as number) !== SCHEMA_VERSION) {
      db.close();
      throw new UserError('unavailable', `${file} needs an upgrade to this STM Studio's format, but it is read-only: make it writable and open it again.`);
    }
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw openError(file, err);
  }
  return new Project(projectDir, file, db, true, origin);
}

function readOnlyDatabase(file: string): Db {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS, ...nativeBindingOption() });
    db.pragma('user_version', { simple: true }); // the journal files are opened on first read
    return db;
  } catch (err) {
    const code = String((err as { code?: unknown }).code ?? '');
    // Without write access (or room) for the journal files, read a snapshot, unless a journal holds commits.
    const noJournalFiles = code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || diskTrouble(err);
    if (!noJournalFiles || (existsSync(`${file}-wal`) && statSync(`${file}-wal`).size > 0)) throw err;
    const bytes = readFileSync(file);
    // A WAL file's header says "WAL" (format bytes 18-19 = 2), which an in-memory copy cannot honour.
    if (bytes.length >= 20 && bytes[18] === 2 && bytes[19] === 2) bytes[18] = bytes[19] = 1;
    return new Database(bytes, { readonly: true, ...nativeBindingOption() });
  }
}

/**
 * Refuses files that are not ours or too new, reading them only and only through SQLite: fcntl locks belong
 * to the process, so opening and closing the file with plain fs calls would cancel the locks of every
 * connection this process (its job workers included) holds on it, and the next connection to close would
 * take itself for the last one and delete the write-ahead log under the others.
 */
function inspectExisting(file: string, create: boolean): void {
  if (statSync(file).size === 0) {
    throw new UserError('invalid_input', `${file} is empty (0 bytes): it is not an STM Studio project.`);
  }
  let appId: number;
  let version: number;
  let tables: number;
  try {
    const db = readOnlyDatabase(file);
    try {
      appId = db.pragma('application_id', { simple: true }) as number;
      version = db.pragma('user_version', { simple: true }) as number;
      tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number;
    } finally {
      db.close();
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_NOTADB') {
      throw new UserError('invalid_input', `${file} is not an STM Studio project (not a SQLite database).`);
    }
    const detail = err instanceof Error ? err.message : String(err);
    throw new UserError('invalid_input', `${file} cannot be read as an STM Studio project: ${detail}.`);
  }
  const blank = appId === 0 && version === 0 && tables === 0;
  if (blank && !create) {
    throw new UserError('invalid_input', `${file} is an empty SQLite database, not an STM Studio project.`);
  }
  if (!blank && appId !== APPLICATION_ID) {
    throw new UserError('invalid_input', `${file} is a SQLite database of another application, not an STM Studio project.`);
  }
  if (version > SCHEMA_VERSION) {
    throw new UserError(
      'invalid_input',
      `${file} was saved by a newer STM Studio (project schema ${version}; this version reads up to ${SCHEMA_VERSION}). Update STM Studio to open it.`,
    );
  }
}

/** Applies the missing migrations, each in its own transaction with its user_version bump. */
function migrate(db: Db, file: string): void {
  for (;;) {
    const done = db
      .transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > SCHEMA_VERSION) {
          throw new UserError('invalid_input', `${file} was saved by a newer STM Studio (project schema ${version}).`);
        }
        if (version === SCHEMA_VERSION) return true;
        db.exec(MIGRATIONS[version]!);
        if (version === 0) {
          db.pragma(`application_id = ${APPLICATION_ID}`);
          db.prepare("INSERT INTO meta (key, value) VALUES ('created_at', ?), ('created_by', ?)").run(
            new Date().toISOString(),
            `STM Studio ${appVersion()}`,
          );
        }
        db.pragma(`user_version = ${version + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}

export function sqliteVersion(): string {
  const db = new Database(':memory:', nativeBindingOption());
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
}
