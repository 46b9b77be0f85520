import type { Command } from 'commander';
import { printJson, withProject } from '../context.ts';
import type { CommandGroups } from './groups.ts';

/** `project init DIR`, `project info DIR`, `project undo|redo DIR`. */
export function registerProject(program: Command, _groups: CommandGroups): void {
  const project = program.command('project').description('create and inspect projects');

  project
    .command('init')
    .description('create a project folder (or check an existing one)')
    .argument('<dir>', 'project folder')
    .option('--json', 'print the project summary as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const summary = await client.call('project.summary', {});
        if (opts.json) printJson(summary);
        else process.stdout.write(`project ready: ${summary.file} (${summary.videos} videos, ${summary.classes} classes, ${summary.clips} clips)\n`);
      }, { create: true });
    });

  project
    .command('info')
    .description('summarise a project')
    .argument('<dir>', 'project folder')
    .option('--json', 'print as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const s = await client.call('project.summary', {});
        const history = await client.call('history.state', {});
        if (opts.json) printJson({ ...s, history });
        else {
          process.stdout.write(
            `${s.file}\n  schema ${s.schemaVersion}; ${s.videos} videos, ${s.classes} classes, ${s.clips} clips, ` +
              `${s.models} models, ${s.jobs} jobs; ${history.undoCount} edits to undo\n`,
          );
        }
      });
    });

  for (const direction of ['undo', 'redo'] as const) {
    project
      .command(direction)
      .description(`${direction} the ${direction === 'undo' ? 'last' : 'last undone'} label or class edit (history is kept in the project)`)
      .argument('<dir>', 'project folder')
      .option('--json', 'print the result as JSON')
      .action(async (dir: string, opts: { json?: boolean }) => {
        await withProject(dir, async ({ client }) => {
          const step = await client.call(direction === 'undo' ? 'history.undo' : 'history.redo', {});
          if (opts.json) printJson(step);
          else process.stdout.write(step.label === null ? `nothing to ${direction}\n` : `${direction === 'undo' ? 'undid' : 'redid'}: ${step.label}\n`);
        });
      });
  }
}
