import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openProject } from '../../../src-main/core/store/project.ts';
import { labelledProject, type LabelledProject } from './project-fixture.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI; `interruptWhen` sends Ctrl-C (SIGINT) once stderr matches it. */
function cli(args: string[], interruptWhen?: RegExp): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (interruptWhen && !interrupted && interruptWhen.test(stderr)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tiny = ['--layers', '1,1,1,1', '--width', '16', '--frames', '4', '--size', '32', '--backend', 'wasm'];

describe('stm-studio train / probe / export / model export', () => {
  let f: LabelledProject;
  beforeAll(async () => {
    f = await labelledProject({ reverse: true });
    f.project.close();
  });
  afterAll(() => f.cleanup());

  it('trains with --json, probes with --json and exports the model and CSVs', async () => {
    const train = await cli(['train', f.dir, ...tiny, '--epochs', '1', '--name', 'cli model', '--json']);
    expect(train.code, train.stderr).toBe(0);
    const figures = JSON.parse(train.stdout) as Record<string, number | null>;
    expect(figures).toMatchObject({ epochs: 1, best_epoch: 1, model_id: 1 });
    expect(figures.val_top1).toBeGreaterThanOrEqual(0);
    expect(train.stderr).toMatch(/train \(job 1\): \d+\/3/);

    const probeCsv = join(f.dir, 'probe.csv');
    const probe = await cli(['probe', f.dir, '--model', 'cli model', '--out', probeCsv, '--json']);
    expect(probe.code, probe.stderr).toBe(0);
    const summary = JSON.parse(probe.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ clips: 8, flip_rate: expect.any(Number), file: probeCsv });
    // The backend was chosen here (the webgpu rung probed in a child process): no driver noise, no tfjs banner.
    for (const ran of [train, probe]) expect(ran.stderr).not.toMatch(/Hi, looks like|XDG_RUNTIME_DIR|BackendType::/);
    expect(readFileSync(probeCsv, 'utf8').trim().split('\n')).toHaveLength(9);

    const modelFile = join(f.dir, 'exported.safetensors');
    const exported = await cli(['model', 'export', f.dir, '1', '--out', modelFile]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/wrote model 1 \("cli model", 2 classes\)/);
    expect(existsSync(modelFile)).toBe(true);

    const probeAgain = await cli(['export', f.dir, 'probe', '--out', join(f.dir, 'again.csv'), '--model', '1']);
    expect(probeAgain.code, probeAgain.stderr).toBe(0);
    expect(readFileSync(join(f.dir, 'again.csv'), 'utf8')).toBe(readFileSync(probeCsv, 'utf8'));
  });

  it('cancels a training cleanly on Ctrl-C', async () => {
    const run = await cli(['train', f.dir, ...tiny, '--epochs', '100'], /train \(job \d+\): \d+\/300/);
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/Cancelling…/);
    expect(run.stderr).toMatch(/cancelled \(job \d+\)/);
    const project = openProject(f.dir);
    try {
      expect(project.jobs.list({ kind: 'train' }).at(-1)?.status).toBe('cancelled');
    } finally {
      project.close();
    }
  });

  it('exits 2 on a bad option or an unknown model', async () => {
    expect((await cli(['predict', f.dir, '--model', '1', '--window', 'two', '--out', 'x.csv'])).code).toBe(2);
    const missing = await cli(['probe', f.dir, '--model', 'nope', '--out', join(f.dir, 'x.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no model "nope"/);
  });
});
