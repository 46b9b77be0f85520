/** The CLI writes all of its output before it exits, however slowly the reader on the pipe takes it. */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openProject } from '../../../src-main/core/store/project.ts';
import { removeDir, tempDir } from '../store/fixtures.ts';

const BIN = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const root = tempDir('stm-cli-out-');
afterAll(() => removeDir(root));

describe('CLI output to a pipe', () => {
  it('delivers a large JSON listing whole to a reader that starts late', async () => {
    const dir = join(root, 'p');
    const project = openProject(dir, { create: true });
    project.db.transaction(() => {
      for (let i = 0; i < 3000; i += 1) project.classes.add({ name: `class ${i} ${'x'.repeat(150)}` });
    })();
    project.close();

    // A reader that starts late, as a busy `| python3 -m json.tool` does: the pipe buffer fills up first.
    const pipeline = `"${process.execPath}" "${BIN}" class list "${dir}" --json | (sleep 2; cat); exit \${PIPESTATUS[0]}`;
    const child = spawn('bash', ['-c', pipeline], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const text = Buffer.concat(chunks).toString('utf8');
    expect(code).toBe(0);
    expect(text.length).toBeGreaterThan(500_000);
    expect((JSON.parse(text) as { classes: unknown[] }).classes).toHaveLength(3000);
  }, 60_000);
});
