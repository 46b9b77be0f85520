import { resolve } from 'node:path';
import type { Command } from 'commander';
import { intOption, printJson, withProject } from '../context.ts';
import { followJob, resolveModel } from './train.ts';
import { addQueueOptions, parseSpan, queueParams, requireModelOption, type QueueOptions } from './predict.ts';
import type { CommandGroups } from './groups.ts';
import { probeDefaults } from '../../../api/contract/defaults.ts';

const percent = (rate: number | null): string => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);

interface ProbeOptions extends QueueOptions {
  model?: string;
  out: string;
  clips: 'all' | 'val' | 'windows';
  window?: { value: number; unit: 'seconds' | 'frames' };
  stride?: { value: number; unit: 'seconds' | 'frames' };
  batch: number;
  backend?: string;
  engine: string;
  json?: boolean;
}

/** Registers `probe`. */
export function registerProbe(program: Command, _groups: CommandGroups): void {
  const command = program
    .command('probe')
    .description('play every labelled clip forward and reversed and measure how much the model depends on time order')
    .argument('<dir>', 'project folder')
    .option('--model <model>', 'a project model (id or name) or a model file')
    .requiredOption('--out <file.csv>', 'probe CSV, one row per clip')
    .option('--clips <which>', 'all | val (the clips the model was validated on) | windows (every sliding window)', probeDefaults.clips)
    .option('--window <span>', 'with --clips windows: window length, 2s or 48f', parseSpan('--window'))
    .option('--stride <span>', 'with --clips windows: step between windows, 1s or 24f', parseSpan('--stride'))
    .option('--batch <n>', 'clips per forward pass', intOption('--batch', 1), probeDefaults.batch)
    .option('--backend <name>', 'compute backend (auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu)')
    .option('--engine <engine>', 'auto (ONNX Runtime on CPU, tfjs on a GPU) | onnx | tfjs', 'auto')
    .option('--json', 'print one JSON object with the summary');
  addQueueOptions(command).action(async (dir: string, opts: ProbeOptions) => {
      await withProject(dir, async (local) => {
        const job = opts.resume !== undefined ? await local.client.call('jobs.resume', { id: opts.resume }) : await local.client.call('probe.start', {
          modelId: await resolveModel(local, requireModelOption(opts)),
          clips: opts.clips,
          ...(opts.window ? { window: opts.window } : {}),
          ...(opts.stride ? { stride: opts.stride } : {}),
          batch: opts.batch,
          engine: opts.engine as 'auto',
          ...(opts.backend ? { backend: opts.backend as 'auto' } : {}),
          ...queueParams(opts),
        });
        const final = await followJob(local, job, `probe (job ${job.id})`);
        if (final.status !== 'done') return;
        const written = await local.client.call('export.csv', { kind: 'probe', file: resolve(opts.out), jobId: job.id });
        const summary = await local.client.call('probe.summary', { jobId: job.id });
        if (opts.json) {
          printJson({
            job: job.id, model: final.modelId, clips: summary.clips, forward_top1: summary.forwardAccuracy, flip_rate: summary.flipRate,
            invariance_rate: summary.invarianceRate, reversed_as_expected: summary.reversedAsExpectedRate, mean_js_divergence: summary.meanDivergence, per_class: summary.perClass, file: written.file,
          });
          return;
        }
        process.stdout.write(
          `${summary.clips} ${opts.clips === 'windows' ? 'windows' : 'clips'}: forward top-1 ${percent(summary.forwardAccuracy)}, flip rate ${percent(summary.flipRate)}, ` +
            `invariance ${percent(summary.invarianceRate)}, reversed as expected ${percent(summary.reversedAsExpectedRate)}, ` +
            `mean JS divergence ${summary.meanDivergence.toExponential(2)}\n`,
        );
        for (const c of summary.perClass) {
          process.stdout.write(
            `  ${c.label}: ${c.clips} clips, reversed → ${c.expectedReversed} ${percent(c.matchRate)}, divergence ${c.meanDivergence.toExponential(2)}\n`,
          );
        }
        process.stdout.write(`wrote ${written.rows} rows to ${written.file}\n`);
      });
    });
}
