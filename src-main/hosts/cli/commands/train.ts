import type { Command } from 'commander';

/** Registers the `train` commands (filled in by its domain). */
export function registerTrain(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
