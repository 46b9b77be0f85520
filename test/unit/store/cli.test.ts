import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openProject } from '../../../src-main/core/store/project.ts';
import { addVideo, removeDir, tempDir } from './fixtures.ts';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach(removeDir));

describe('CLI', () => {
  const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

  it('project init, class add/list, labels import/export with exit codes 0/1/2', () => {
    const root = tempDir();
    dirs.push(root);
    const dir = join(root, 'p');
    expect(cli('project', 'init', dir).status).toBe(0);
    const project = openProject(dir);
    addVideo(project, '/videos/arena.mp4', 500);
    project.close();

    expect(cli('class', 'add', dir, 'push left', '--hotkey', 'l', '--no-flip').status).toBe(0);
    const added = cli('class', 'add', dir, 'push right', '--reverse-of', 'push left', '--color', '#ff0000', '--json');
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'push right', color: '#ff0000' });
    const listed = JSON.parse(cli('class', 'list', dir, '--json').stdout) as { classes: Array<{ name: string; flipSafe: boolean; reverseOf: number }> };
    expect(listed.classes.map((c) => [c.name, c.flipSafe, c.reverseOf])).toEqual([
      ['push left', false, 2],
      ['push right', true, 1],
    ]);
    const labels = join(dir, 'in.csv');
    writeFileSync(labels, 'video,start_frame,end_frame,label\narena.mp4,0,30,push left\narena.mp4,40,90,sniff\n');
    const refused = cli('labels', 'import', dir, labels);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('line 3: class "sniff" does not exist');
    const imported = cli('labels', 'import', dir, labels, '--create-classes', '--json');
    expect(imported.status).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2, createdClasses: ['sniff'] });
    expect(cli('labels', 'import', dir, labels, '--format', 'excel').status).toBe(2);

    const out = join(dir, 'out.csv');
    const exported = cli('labels', 'export', dir, '--out', out);
    expect([exported.status, exported.stdout]).toEqual([0, `wrote 2 clips to ${out}\n`]);
    expect(readFileSync(out, 'utf8').split('\n')[1]).toMatch(/^arena\.mp4,\/videos\/arena\.mp4,0,30,0,/);
  });
});
