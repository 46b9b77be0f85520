/**
 * A project on read-only storage (a shared folder, a mounted archive, another user's files) opens for
 * reading; an edit names the file and says why it was not saved. Run as a user without write permission:
 * as root (who ignores permissions) the CLI runs as `nobody`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';
import { addVideo, removeDir, tempDir } from './fixtures.ts';

const BIN = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const root = tempDir('stm-readonly-');
chmodSync(root, 0o755);
const home = join(root, 'home');
mkdirSync(home, { mode: 0o777 });
chmodSync(home, 0o777);
afterAll(() => {
  chmodSync(root, 0o755);
  removeDir(root);
});

function cliAsOtherUser(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return cli(process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [], args);
}

function cli(asNobody: string[], args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [cmd, ...rest] = [...asNobody, process.execPath, BIN, ...args];
  const r = spawnSync(cmd!, rest, { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: home, XDG_CONFIG_HOME: home } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function makeProject(name: string): { dir: string; file: string } {
  const dir = join(root, name);
  const project = openProject(dir, { create: true });
  const video = addVideo(project, '/videos/arena.mp4', 100);
  const cls = project.classes.add({ name: 'walk' });
  project.clips.create({ videoId: video.id, classId: cls.id, startFrame: 0, endFrame: 10 });
  project.close();
  return { dir, file: join(dir, PROJECT_FILE) };
}

/** A 600 KiB file system of its own (root only: mount a tmpfs), or null where that is not possible. */
function smallDisk(): { dir: string; unmount(): void } | null {
  if (process.getuid?.() !== 0) return null;
  const dir = join(root, 'small-disk');
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=600k', 'tmpfs', dir]);
  if (mounted.status !== 0) return null;
  return { dir, unmount: () => void spawnSync('umount', [dir]) };
}

describe('read-only projects', () => {
  it('a project on a full disk opens for reading; an edit names the file and says the disk is full', (ctx) => {
    const disk = smallDisk();
    if (!disk) return ctx.skip();
    try {
      const dir = join(disk.dir, 'p');
      const project = openProject(dir, { create: true });
      project.classes.add({ name: 'walk' });
      project.close();
      try {
        writeFileSync(join(disk.dir, 'filler'), Buffer.alloc(4 * 1024 * 1024));
      } catch {
        // ENOSPC: the disk is full now, as intended
      }
      const info = cli([], ['project', 'info', dir, '--json']);
      expect([info.status, info.stderr]).toEqual([0, '']);
      expect(JSON.parse(info.stdout)).toMatchObject({ classes: 1 });
      const add = cli([], ['class', 'add', dir, 'run']);
      expect(add.status).toBe(1);
      expect(add.stderr).toContain(join(dir, PROJECT_FILE));
      expect(add.stderr).toMatch(/disk is full/);
    } finally {
      disk.unmount();
    }
  });

  it('a read-only folder opens for reading; an edit names the file as read-only', () => {
    const { dir, file } = makeProject('folder');
    chmodSync(file, 0o444);
    chmodSync(join(dir, 'models'), 0o555);
    chmodSync(dir, 0o555);
    const info = cliAsOtherUser('project', 'info', dir, '--json');
    expect([info.status, info.stderr]).toEqual([0, '']);
    expect(JSON.parse(info.stdout)).toMatchObject({ file, videos: 1, classes: 1, clips: 1 });
    const list = cliAsOtherUser('class', 'list', dir);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain('walk');

    const add = cliAsOtherUser('class', 'add', dir, 'run');
    expect(add.status).toBe(1);
    expect(add.stderr).toContain(file);
    expect(add.stderr).toMatch(/read-only/);
  });

  it('a read-only project file in a writable folder names the file when an edit is refused', () => {
    const { dir, file } = makeProject('file');
    chmodSync(dir, 0o777);
    chmodSync(file, 0o444);
    const info = cliAsOtherUser('project', 'info', dir, '--json');
    expect([info.status, info.stderr]).toEqual([0, '']);
    const add = cliAsOtherUser('class', 'add', dir, 'run');
    expect(add.status).toBe(1);
    expect(add.stderr).toContain(file);
    expect(add.stderr).toMatch(/read-only/);
  });
});
