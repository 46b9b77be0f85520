import type { Command } from 'commander';

/** Registers the `class` commands (filled in by its domain). */
export function registerClass(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
