import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openProject, PROJECT_FILE, MODELS_DIR } from '../../../src-main/core/store/project.ts';
import { SCHEMA_VERSION } from '../../../src-main/core/store/schema.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { tempDirsRemovedAfterEach } from './fixtures.ts';

const fresh = tempDirsRemovedAfterEach();

function expectRefusedUnchanged(file: string, pattern: RegExp, opts: { create?: boolean } = {}) {
  const before = readFileSync(file);
  const mtime = statSync(file).mtimeMs;
  let error: unknown;
  try {
    openProject(file, opts);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(UserError);
  expect((error as UserError).message).toMatch(pattern);
  expect((error as UserError).message).toContain(file);
  expect(readFileSync(file).equals(before)).toBe(true);
  expect(statSync(file).mtimeMs).toBe(mtime);
  expect(existsSync(`${file}-wal`)).toBe(false);
}

describe('opening projects', () => {
  it('creates a project folder with WAL, foreign keys and the current schema, and reopens it', () => {
    const dir = join(fresh(), 'new project');
    const project = openProject(dir, { create: true });
    expect(project.file).toBe(join(dir, PROJECT_FILE));
    expect(existsSync(join(dir, MODELS_DIR))).toBe(true);
    expect(project.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(project.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(project.db.pragma('busy_timeout', { simple: true })).toBeGreaterThanOrEqual(5000);
    project.classes.add({ name: 'walk' });
    expect(project.db.prepare("SELECT value FROM meta WHERE key = 'created_by'").pluck().get()).toMatch(/^STM Studio \d+\.\d+/);
    project.close();

    const again = openProject(dir);
    expect(again.summary()).toMatchObject({ schemaVersion: SCHEMA_VERSION, classes: 1 });
    expect(again.classes.list().map((c) => c.name)).toEqual(['walk']);
    again.close();
    // The project file itself opens too.
    openProject(join(dir, PROJECT_FILE)).close();
  });

  it('refuses a folder without a project unless asked to create one', () => {
    const dir = fresh();
    expect(() => openProject(dir)).toThrow(/No STM Studio project in .*project\.stmstudio is missing/);
    expect(existsSync(join(dir, PROJECT_FILE))).toBe(false);
  });

  it('refuses a text file, a 0-byte file and another application\'s database without touching them', () => {
    const dir = fresh();
    const text = join(dir, 'notes.stmstudio');
    writeFileSync(text, 'video,label\na.mp4,walk\n');
    expectRefusedUnchanged(text, /not an STM Studio project \(not a SQLite database\)/, { create: true });

    const empty = join(fresh(), PROJECT_FILE);
    writeFileSync(empty, '');
    expectRefusedUnchanged(empty, /empty \(0 bytes\)/, { create: true });

    const other = join(fresh(), PROJECT_FILE);
    const db = new Database(other);
    db.exec('CREATE TABLE recipes (id INTEGER PRIMARY KEY, title TEXT); INSERT INTO recipes (title) VALUES (\'soup\')');
    db.close();
    expectRefusedUnchanged(other, /SQLite database of another application/, { create: true });
  });

  it('refuses a project saved by a newer version without modifying it', () => {
    const dir = fresh();
    openProject(dir, { create: true }).close();
    const file = join(dir, PROJECT_FILE);
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.pragma('journal_mode = DELETE');
    db.close();
    expectRefusedUnchanged(file, new RegExp(`newer STM Studio \\(project schema ${SCHEMA_VERSION + 1}; this version reads up to ${SCHEMA_VERSION}\\)`));
  });

  it('keeps every table of the data model with its constraints', () => {
    const project = openProject(fresh(), { create: true });
    const tables = project.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
    expect(tables).toEqual(['classes', 'clips', 'edit_log', 'jobs', 'meta', 'models', 'predictions', 'probe_results', 'review_rejections', 'training_metrics', 'training_steps', 'videos']);
    const video = project.videos.insert({ path: '/v/a.mp4', frameCount: 10 });
    const cls = project.classes.add({ name: 'a' });
    // A zero-length clip is refused by the schema itself, not only by the repository.
    expect(() =>
      project.db.prepare('INSERT INTO clips (video_id, class_id, start_frame, end_frame) VALUES (?, ?, 3, 3)').run(video.id, cls.id),
    ).toThrow(/CHECK constraint/);
    project.close();
  });
});
