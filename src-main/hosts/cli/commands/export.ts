import { resolve } from 'node:path';
import type { Command } from 'commander';
import { floatOption, printJson, UsageError, withProject } from '../context.ts';
import { resolveModel } from './train.ts';
import type { CommandGroups } from './index.ts';

const KINDS = ['labels', 'predictions', 'segments', 'probe'] as const;
type Kind = (typeof KINDS)[number];

/** "walk=0.6,run=0.8" → per-class thresholds. */
function parseThresholds(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const [name, value] = part.split('=');
    const n = Number(value);
    if (!name || !(n >= 0 && n <= 1)) throw new UsageError(`--thresholds must look like walk=0.6,run=0.8, got "${text}"`);
    out[name.trim()] = n;
  }
  return out;
}

/** Registers `export`, `model export` and `model import`. */
export function registerExport(program: Command, groups: CommandGroups): void {
  program
    .command('export')
    .description('write labels, predictions, segments or probe results as CSV')
    .argument('<dir>', 'project folder')
    .argument('<kind>', KINDS.join(' | '))
    .requiredOption('--out <file.csv>', 'CSV file to write')
    .option('--model <model>', 'model (id, name or file) for predictions, segments and probe (default: the newest)')
    .option('--threshold <p>', 'segments: probability a frame needs to carry a class', floatOption('--threshold'))
    .option('--thresholds <list>', 'segments: per-class thresholds, e.g. walk=0.6,run=0.8', parseThresholds)
    .option('--min-duration <seconds>', 'segments: drop segments shorter than this', floatOption('--min-duration'))
    .option('--json', 'print one JSON object')
    .action(async (dir: string, kind: string, opts: { out: string; model?: string; threshold?: number; thresholds?: Record<string, number>; minDuration?: number; json?: boolean }) => {
      if (!KINDS.includes(kind as Kind)) throw new UsageError(`unknown export "${kind}"; use ${KINDS.join(', ')}`);
      await withProject(dir, async (local) => {
        const modelId = opts.model && kind !== 'labels' ? await resolveModel(local, opts.model) : undefined;
        const written = await local.client.call('export.csv', {
          kind: kind as Kind,
          file: resolve(opts.out),
          ...(modelId !== undefined ? { modelId } : {}),
          ...(opts.threshold !== undefined ? { defaultThreshold: opts.threshold } : {}),
          ...(opts.thresholds ? { thresholds: opts.thresholds } : {}),
          ...(opts.minDuration !== undefined ? { minDurationS: opts.minDuration } : {}),
        });
        if (opts.json) printJson(written);
        else process.stdout.write(`wrote ${written.rows} ${kind} rows to ${written.file}\n`);
        if (written.incomplete) process.stderr.write(`warning: ${written.file} is ${written.incomplete}\n`);
      });
    });

  groups.model
    .command('export')
    .description('write a project model as one file (weights, architecture, classes) for another project or machine')
    .argument('<dir>', 'project folder')
    .argument('<model>', 'model id or name')
    .requiredOption('--out <file>', 'model file to write (.safetensors)')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, model: string, opts: { out: string; json?: boolean }) => {
      await withProject(dir, async (local) => {
        const id = await resolveModel(local, model);
        const { file, model: record } = await local.client.call('models.export', { id, file: resolve(opts.out) });
        if (opts.json) printJson({ file, model: record });
        else process.stdout.write(`wrote model ${record.id} ("${record.name}", ${record.classes.length} classes) to ${file}\n`);
      });
    });

  groups.model
    .command('import')
    .description('add a model file (from `model export`) to a project')
    .argument('<dir>', 'project folder')
    .argument('<file>', 'model file (.safetensors)')
    .option('--name <name>', 'name of the model in this project')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, file: string, opts: { name?: string; json?: boolean }) => {
      await withProject(dir, async (local) => {
        const model = await local.client.call('models.import', { file: resolve(file), ...(opts.name ? { name: opts.name } : {}) });
        if (opts.json) printJson(model);
        else process.stdout.write(`imported model ${model.id} ("${model.name}", classes: ${model.classes.join(', ')})\n`);
      });
    });
}
