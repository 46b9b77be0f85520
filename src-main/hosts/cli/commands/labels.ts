import { Option, type Command } from 'commander';
import { printJson, withProject } from '../context.ts';
import type { CommandGroups } from './groups.ts';

/** `labels import DIR FILE …`, `labels export DIR --out FILE`. */
export function registerLabels(program: Command, _groups: CommandGroups): void {
  const labels = program.command('labels').description('import and export labels (clips)');

  labels
    .command('import')
    .description('import labels: our CSV, VIA temporal segments CSV, BORIS aggregated events, Label Studio JSON')
    .argument('<dir>', 'project folder')
    .argument('<file>', 'labels file')
    .addOption(new Option('--format <format>', 'file format').choices(['auto', 'stm', 'via', 'boris', 'labelstudio']).default('auto'))
    .option('--create-classes', 'create the classes the file names that the project lacks')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, file: string, opts: { format: 'auto' | 'stm' | 'via' | 'boris' | 'labelstudio'; createClasses?: boolean; json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const result = await client.call('labels.import', { file, format: opts.format, createClasses: opts.createClasses === true });
        if (opts.json) printJson(result);
        else {
          process.stdout.write(
            `imported ${result.imported} clips (${result.format}) into ${result.videos} videos` +
              (result.duplicates ? `; ${result.duplicates} already present` : '') +
              (result.createdClasses.length ? `; new classes: ${result.createdClasses.join(', ')}` : '') +
              '\n',
          );
        }
      });
    });

  labels
    .command('export')
    .description('export every clip as a labels CSV')
    .argument('<dir>', 'project folder')
    .requiredOption('--out <file>', 'CSV file to write')
    .option('--json', 'print the result as JSON')
    .action(async (dir: string, opts: { out: string; json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const result = await client.call('labels.export', { file: opts.out });
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote ${result.rows} clips to ${result.file}\n`);
      });
    });
}
