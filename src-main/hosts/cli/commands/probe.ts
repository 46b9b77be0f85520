import type { Command } from 'commander';

/** Registers the `probe` commands (filled in by its domain). */
export function registerProbe(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
