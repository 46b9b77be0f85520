/**
 * Clip subjects (who does the action): stored with the clip, added to older project files by a migration,
 * edited through the contract, and kept by undo/redo, splitting and class merges.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';
import { SCHEMA_VERSION } from '../../../src-main/core/store/schema.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { addVideo, removeDir, tempDir } from '../store/fixtures.ts';

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

describe('clip subjects', () => {
  it('a project from before subjects opens with every clip subject-less, and takes subjects after', () => {
    const dir = tempDir();
    cleanup.push(() => removeDir(dir));
    const old = openProject(dir, { create: true });
    const video = addVideo(old, '/v/a.mp4', 100);
    const cls = old.classes.add({ name: 'walk' });
    old.clips.create({ videoId: video.id, classId: cls.id, startFrame: 0, endFrame: 10 });
    old.close();
    // Bring the file back to schema 2 as an older STM Studio left it.
    const db = new Database(join(dir, PROJECT_FILE));
    db.exec('DROP INDEX edit_log_origin; ALTER TABLE edit_log DROP COLUMN origin; ALTER TABLE clips DROP COLUMN subject');
    db.pragma('user_version = 2');
    db.close();

    const project = openProject(dir);
    cleanup.push(() => project.close());
    expect(project.summary().schemaVersion).toBe(SCHEMA_VERSION);
    expect(project.clips.list()[0]).toMatchObject({ startFrame: 0, endFrame: 10, subject: null });
    const clip = project.clips.create({ videoId: video.id, classId: cls.id, startFrame: 5, endFrame: 9, subject: '  mouse 1 ' });
    expect(clip.subject).toBe('mouse 1');
    expect(project.clips.subjects()).toEqual(['mouse 1']);
  });

  it('is edited through the contract and kept by undo, redo, split and class merge', async () => {
    const dir = tempDir();
    const { client: api, context } = createLocalApi('cli');
    await api.call('project.open', { dir, create: true });
    cleanup.push(() => {
      context.session.project.close();
      removeDir(dir);
    });
    const project = context.session.project;
    const video = addVideo(project, '/v/a.mp4', 100);
    const walk = project.classes.add({ name: 'walk' });
    const run = project.classes.add({ name: 'run' });
    const created = await api.call('clips.create', { videoId: video.id, classId: walk.id, startFrame: 10, endFrame: 30, subject: 'mouse 1' });
    expect(created.subject).toBe('mouse 1');
    expect((await api.call('clips.update', { id: created.id, subject: 'mouse 2' })).subject).toBe('mouse 2');
    expect(project.history.state().undoLabel).toBe('Set clip subject');
    project.history.undo();
    expect(project.clips.require(created.id).subject).toBe('mouse 1');
    project.history.redo();
    expect(project.clips.require(created.id).subject).toBe('mouse 2');
    expect((await api.call('clips.update', { id: created.id, subject: '' })).subject).toBe(null);
    project.history.undo();

    const [left, right] = project.clips.split(created.id, 20);
    expect([left.subject, right.subject]).toEqual(['mouse 2', 'mouse 2']);
    project.classes.merge(walk.id, run.id);
    expect(project.clips.list().map((c) => [c.classId, c.subject])).toEqual([
      [run.id, 'mouse 2'],
      [run.id, 'mouse 2'],
    ]);
    project.history.undo();
    expect(project.clips.list().map((c) => [c.classId, c.subject])).toEqual([
      [walk.id, 'mouse 2'],
      [walk.id, 'mouse 2'],
    ]);
  });
});
