import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../../src-main/hosts/cli/main.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { addVideo, tempDirsRemovedAfterEach } from './fixtures.ts';

const fresh = tempDirsRemovedAfterEach();

describe('CLI', () => {
  const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
  /** Runs the CLI in this process (spawning one per command costs seconds on a busy machine). */
  async function cli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
    try {
      const status = await runCli(args);
      return { status, stdout, stderr };
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      process.exitCode = undefined;
    }
  }

  it('project init, class add/list, labels import/export with exit codes 0/1/2', async () => {
    const root = fresh();
    const dir = join(root, 'p');
    const init = spawnSync(process.execPath, [bin, 'project', 'init', dir], { encoding: 'utf8', timeout: 60_000 });
    expect([init.status, init.stdout]).toEqual([0, `project ready: ${join(dir, 'project.stmstudio')} (0 videos, 0 classes, 0 clips)\n`]);
    const project = openProject(dir);
    addVideo(project, '/videos/arena.mp4', 500);
    project.close();

    expect((await cli('class', 'add', dir, 'push left', '--hotkey', 'l', '--no-flip')).status).toBe(0);
    const added = await cli('class', 'add', dir, 'push right', '--reverse-of', 'push left', '--color', '#ff0000', '--json');
    expect(added.status).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'push right', color: '#ff0000' });
    const listed = JSON.parse((await cli('class', 'list', dir, '--json')).stdout) as { classes: Array<{ name: string; flipSafe: boolean; reverseOf: number }> };
    expect(listed.classes.map((c) => [c.name, c.flipSafe, c.reverseOf])).toEqual([
      ['push left', false, 2],
      // "push right" names a direction and has a reverse partner: not flip-safe unless told (--flip).
      ['push right', false, 1],
    ]);
    const labels = join(dir, 'in.csv');
    writeFileSync(labels, 'video,start_frame,end_frame,label\narena.mp4,0,30,push left\narena.mp4,40,90,sniff\n');
    const refused = await cli('labels', 'import', dir, labels);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('line 3: class "sniff" does not exist');
    const imported = await cli('labels', 'import', dir, labels, '--create-classes', '--json');
    expect(imported.status).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ imported: 2, createdClasses: ['sniff'] });
    expect((await cli('labels', 'import', dir, labels, '--format', 'excel')).status).toBe(2);
    expect((await cli('class', 'merge', dir, 'sniff', 'push left')).stdout).toBe('merged "sniff" into "push left" (2 clips)\n');
    expect((await cli('project', 'undo', dir)).stdout).toBe('undid: Merge class "sniff" into "push left"\n');

    const out = join(dir, 'out.csv');
    const exported = await cli('labels', 'export', dir, '--out', out);
    expect([exported.status, exported.stdout]).toEqual([0, `wrote 2 clips (stm) to ${out}\n`]);
    expect(readFileSync(out, 'utf8').split('\n')[1]).toMatch(/^arena\.mp4,\/videos\/arena\.mp4,0,30,0,/);

    // BORIS events out, then in again: auto-detection names what it recognised; nothing new is added.
    const events = join(dir, 'events.tsv');
    expect((await cli('labels', 'export', dir, '--format', 'boris', '--out', events)).stdout).toBe(`wrote 2 clips (boris) to ${events}\n`);
    const again = await cli('labels', 'import', dir, events);
    expect([again.status, again.stdout]).toEqual([0, 'imported 0 clips (BORIS tabular events (TSV)) into 1 video; 2 already present\n']);
    expect((await cli('labels', 'import', dir, events, '--fps', 'fast')).status).toBe(2);
  });
});
