import { InvalidArgumentError, Option, type Command } from 'commander';
import { printJson, withProject } from '../context.ts';
import { progressBar } from '../progress.ts';
import type { CommandGroups } from './index.ts';
import { LABEL_EXPORT_FORMATS, LABEL_IMPORT_FORMATS } from '../../../api/contract/project.ts';

interface ImportOptions {
  format: (typeof LABEL_IMPORT_FORMATS)[number];
  createClasses?: boolean;
  fps?: number;
  observation: string[];
  video?: string;
  tier: string[];
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a positive number.`);
  return n;
}

/** `labels import DIR FILE …`, `labels export DIR --out FILE`. */
export function registerLabels(program: Command, _groups: CommandGroups): void {
  const labels = program.command('labels').description('import and export labels (clips)');

  labels
    .command('import')
    .description(
      'import labels: our CSV, BORIS (aggregated or tabular events, .boris project), VIA 3 (project JSON, CSV, temporal segments CSV), ' +
        'Label Studio (JSON, JSON-MIN, CSV), per-frame 0/1 CSV (DeepEthogram), ELAN .eaf',
    )
    .argument('<dir>', 'project folder')
    .argument('<file>', 'labels file')
    .addOption(new Option('--format <format>', 'file format (auto: recognised from the content)').choices([...LABEL_IMPORT_FORMATS]).default('auto'))
    .option('--create-classes', 'create the classes the file names that the project lacks')
    .option('--fps <rate>', "Label Studio: the labelling project's <Video framerate> (default 24)", positiveNumber)
    .option('--observation <id>', 'BORIS project: an observation to import (repeatable; default: every media observation whose videos are in the project)', collect, [])
    .option('--video <video>', 'per-frame CSV or ELAN: the project video the file labels (default: from the file)')
    .option('--tier <tier>', 'ELAN: a tier to import (repeatable; default: every tier)', collect, [])
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, file: string, opts: ImportOptions) => {
      await withProject(dir, async ({ client }) => {
        const result = await client.call('labels.import', {
          file,
          format: opts.format,
          createClasses: opts.createClasses === true,
          fps: opts.fps,
          observations: opts.observation.length ? opts.observation : undefined,
          video: opts.video,
          tiers: opts.tier.length ? opts.tier : undefined,
        });
        if (opts.json) printJson(result);
        else {
          process.stdout.write(
            `imported ${result.imported} clips (${result.recognised}) into ${result.videos} video${result.videos === 1 ? '' : 's'}` +
              (result.duplicates ? `; ${result.duplicates} already present` : '') +
              (result.createdClasses.length ? `; new classes: ${result.createdClasses.join(', ')}` : '') +
              (result.subjects.length ? `; subjects: ${result.subjects.join(', ')}` : '') +
              '\n',
          );
          for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
        }
      });
    });

  labels
    .command('export')
    .description(
      'export labels: our CSV (stm), BORIS (boris: a project for --out X.boris, else tabular events TSV), per-frame 0/1 CSVs in DeepEthogram\'s layout ' +
        '(per-frame, a folder), or mmaction2 lists with every clip cut into its own file (mmaction, a folder)',
    )
    .argument('<dir>', 'project folder')
    .requiredOption('--out <path>', 'file (stm, boris) or folder (per-frame, mmaction) to write')
    .addOption(new Option('--format <format>', 'what to write').choices([...LABEL_EXPORT_FORMATS]).default('stm'))
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { out: string; format: (typeof LABEL_EXPORT_FORMATS)[number]; json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const bar = opts.format === 'mmaction' ? progressBar('cutting clips') : null;
        const stop = client.on('labels.exportProgress', ({ done, total }) => bar?.update(done, total));
        const result = await client.call('labels.export', { file: opts.out, format: opts.format }).finally(() => {
          stop();
          bar?.stop();
        });
        if (opts.json) printJson(result);
        else {
          const where = result.files.length > 1 ? `${result.files.length} files in ${result.file}` : result.file;
          process.stdout.write(`wrote ${result.rows} clips (${result.format}) to ${where}\n`);
          for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
        }
      });
    });
}
