import type { Command } from 'commander';

/** Registers the `project` commands (filled in by its domain). */
export function registerProject(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
