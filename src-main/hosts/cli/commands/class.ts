import type { Command } from 'commander';
import type { ApiClient } from '../../../api/client.ts';
import { UserError } from '../../../core/errors.ts';
import { printJson, withProject } from '../context.ts';
import type { CommandGroups } from './groups.ts';

async function classIdByName(client: ApiClient, name: string): Promise<number> {
  const classes = await client.call('classes.list', {});
  const found = classes.find((c) => c.name.toLowerCase() === name.trim().toLowerCase());
  if (!found) throw new UserError('not_found', `No class named "${name}" in this project.`);
  return found.id;
}

/** `class add DIR NAME …`, `class list DIR`, `class rename|merge|archive …`. */
export function registerClass(program: Command, _groups: CommandGroups): void {
  const cls = program.command('class').description('manage action classes');

  cls
    .command('add')
    .description('add an action class')
    .argument('<dir>', 'project folder')
    .argument('<name>', 'class name')
    .option('--hotkey <key>', 'one key that labels with this class')
    .option('--color <#RRGGBB>', 'display colour')
    .option('--reverse-of <name>', 'the class this action looks like played backwards (set both ways)')
    .option('--flip', 'horizontal flip keeps this action: mirror its clips in training (default: yes, unless the name has a direction word or --reverse-of is given)')
    .option('--no-flip', 'horizontal flip changes this action (e.g. "push left"): never flip it in training')
    .option('--json', 'print the class as JSON')
    .action(
      async (dir: string, name: string, opts: { hotkey?: string; color?: string; reverseOf?: string; flip?: boolean; json?: boolean }) => {
        await withProject(dir, async ({ client }) => {
          const reverseOf = opts.reverseOf !== undefined ? await classIdByName(client, opts.reverseOf) : undefined;
          const added = await client.call('classes.add', { name, hotkey: opts.hotkey, color: opts.color, reverseOf, flipSafe: opts.flip });
          if (opts.json) printJson(added);
          else process.stdout.write(`added class ${added.id} "${added.name}" ${added.color}${opts.reverseOf ? ` ↔ "${opts.reverseOf}"` : ''}\n`);
        });
      },
    );

  cls
    .command('list')
    .description('list the classes with their clip counts')
    .argument('<dir>', 'project folder')
    .option('--all', 'include archived classes')
    .option('--json', 'print as JSON')
    .action(async (dir: string, opts: { all?: boolean; json?: boolean }) => {
      await withProject(dir, async ({ client }) => {
        const all = await client.call('classes.list', { includeArchived: true });
        const classes = opts.all ? all : all.filter((c) => !c.archived);
        if (opts.json) {
          printJson({ classes });
          return;
        }
        if (classes.length === 0) process.stdout.write('no classes\n');
        const names = new Map(all.map((c) => [c.id, c.name]));
        for (const c of classes) {
          const extras = [
            c.hotkey ? `key ${c.hotkey}` : '',
            c.reverseOf !== null ? `reverse of "${names.get(c.reverseOf) ?? c.reverseOf}"` : '',
            c.flipSafe ? '' : 'no flip',
            c.archived ? 'archived' : '',
          ].filter(Boolean);
          process.stdout.write(`${c.id}\t${c.name}\t${c.color}\t${c.clipCount} clips${extras.length ? `\t${extras.join(', ')}` : ''}\n`);
        }
      });
    });

  cls
    .command('rename')
    .description('rename a class (its clips keep it)')
    .argument('<dir>', 'project folder')
    .argument('<name>', 'current name')
    .argument('<new-name>', 'new name')
    .action(async (dir: string, name: string, newName: string) => {
      await withProject(dir, async ({ client }) => {
        const updated = await client.call('classes.update', { id: await classIdByName(client, name), name: newName });
        process.stdout.write(`renamed class ${updated.id} to "${updated.name}"\n`);
      });
    });

  cls
    .command('merge')
    .description('relabel every clip of SOURCE as TARGET and archive SOURCE (undo with `project undo`)')
    .argument('<dir>', 'project folder')
    .argument('<source>', 'class to merge away')
    .argument('<target>', 'class that keeps the clips')
    .action(async (dir: string, source: string, target: string) => {
      await withProject(dir, async ({ client }) => {
        const merged = await client.call('classes.merge', {
          sourceId: await classIdByName(client, source),
          targetId: await classIdByName(client, target),
        });
        process.stdout.write(`merged "${source}" into "${merged.name}" (${merged.clipCount} clips)\n`);
      });
    });

  cls
    .command('archive')
    .description('hide a class from pickers; its clips keep their label')
    .argument('<dir>', 'project folder')
    .argument('<name>', 'class name')
    .action(async (dir: string, name: string) => {
      await withProject(dir, async ({ client }) => {
        const archived = await client.call('classes.archive', { id: await classIdByName(client, name), archived: true });
        process.stdout.write(`archived class ${archived.id} "${archived.name}" (${archived.clipCount} clips kept)\n`);
      });
    });
}
