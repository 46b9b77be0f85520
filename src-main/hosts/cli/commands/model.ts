import type { Command } from 'commander';

/** Registers the `model` commands (filled in by its domain). */
export function registerModel(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
