import { afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { openProject } from '../../../src-main/core/store/project.ts';
import { addVideo, newProject, removeDir } from './fixtures.ts';

const root = join(import.meta.dirname, '../../..');
const writerScript = join(root, 'test/helpers/store-writer.ts');

function startWriter(dir: string, videoId: number, classId: number, count: number) {
  // `--import tsx` keeps the script in this one process (the tsx CLI would fork a grandchild SIGKILL misses).
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir, String(videoId), String(classId), String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const acks = new Map<number, number>();
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  const listeners: Array<() => void> = [];
  lines.on('line', (line) => {
    const [word, id, end] = line.split(' ');
    if (word === 'ack') acks.set(Number(id), Number(end));
    listeners.forEach((l) => l());
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const waitForAcks = (n: number) =>
    new Promise<void>((res) => {
      const check = () => acks.size >= n && res();
      listeners.push(check);
      check();
    });
  return { child, acks, exited, waitForAcks, stderr: () => stderr };
}

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  children.splice(0).forEach((c) => c.exitCode === null && c.kill('SIGKILL'));
  dirs.splice(0).forEach(removeDir);
});

function seed() {
  const { dir, project } = newProject();
  dirs.push(dir);
  const video = addVideo(project, '/videos/cage.mp4', 5000);
  const cls = project.classes.add({ name: 'groom' });
  project.close();
  return { dir, videoId: video.id, classId: cls.id };
}

describe('edits from other processes', () => {
  it('a writer killed with SIGKILL mid-stream loses no acknowledged edit and leaves an intact file', async () => {
    const { dir, videoId, classId } = seed();
    const writer = startWriter(dir, videoId, classId, 0);
    children.push(writer.child);
    await writer.waitForAcks(150);
    writer.child.kill('SIGKILL');
    await writer.exited;

    const project = openProject(dir);
    try {
      expect(project.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(project.db.pragma('foreign_key_check')).toEqual([]);
      for (const [id, end] of writer.acks) expect(project.clips.get(id)?.endFrame).toBe(end);
      // The history is usable after the crash: the last edit undoes.
      const before = project.clips.count();
      expect(project.history.undo()).not.toBeNull();
      expect(project.clips.count()).toBeLessThanOrEqual(before);
    } finally {
      project.close();
    }
  });

  it('two processes and this one edit the same project at once without a lost edit or "database is locked"', async () => {
    const { dir, videoId, classId } = seed();
    const a = startWriter(dir, videoId, classId, 120);
    const b = startWriter(dir, videoId, classId, 120);
    children.push(a.child, b.child);
    const project = openProject(dir);
    try {
      // Meanwhile this process edits classes and reads clips.
      await a.waitForAcks(10);
      for (let i = 0; i < 30; i++) {
        project.classes.add({ name: `class ${i}` });
        project.clips.list({ videoId });
        await new Promise((r) => setTimeout(r, 5));
      }
      expect([await a.exited, await b.exited]).toEqual([0, 0]);
      expect(a.stderr() + b.stderr()).not.toMatch(/locked|busy/i);
      expect(project.clips.count()).toBe(240);
      for (const [id, end] of [...a.acks, ...b.acks]) expect(project.clips.get(id)?.endFrame).toBe(end);
      expect(project.classes.list()).toHaveLength(31);
      expect(project.history.state().undoCount).toBe(1 + 30 + 2 * (120 + 24));
    } finally {
      project.close();
    }
  });
});

/** Python's sqlite3 checkpoints and deletes the log when it closes as the last user, as most SQLite tools do. */
const hasPython = spawnSync('python3', ['-c', 'import sqlite3'], { stdio: 'ignore' }).status === 0;

describe('a project open in several places', () => {
  it.skipIf(!hasPython)('keeps its write-ahead log when this process opens it again and another program reads it', async () => {
    const { dir } = seed();
    const app = openProject(dir);
    app.classes.add({ name: 'sniff' });
    // A second open in the same process, as every job's worker thread does.
    const worker = openProject(dir);
    worker.classes.add({ name: 'rear' });
    // Another program reads the project and closes it. Had this process lost its locks on the file, that
    // program would take itself for the last user and checkpoint and delete the log under the app.
    const script = 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("SELECT count(*) FROM classes").fetchone(); c.close()';
    const child = spawn('python3', ['-c', script, app.file], { stdio: 'inherit' });
    children.push(child);
    expect(await new Promise<number | null>((res) => child.on('exit', (code) => res(code)))).toBe(0);
    expect(existsSync(`${app.file}-wal`)).toBe(true);
    expect(existsSync(`${app.file}-shm`)).toBe(true);
    app.classes.add({ name: 'dig' });
    expect(worker.classes.list().map((c) => c.name)).toEqual(['groom', 'sniff', 'rear', 'dig']);
    worker.close();
    app.close();
  });
});
