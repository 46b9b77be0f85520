import type { Command } from 'commander';

/** Registers the `demo` commands (filled in by its domain). */
export function registerDemo(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
