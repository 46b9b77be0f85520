import type { Command } from 'commander';

/** Registers the `export` commands (filled in by its domain). */
export function registerExport(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
