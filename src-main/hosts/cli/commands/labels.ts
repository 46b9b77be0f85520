import type { Command } from 'commander';

/** Registers the `labels` commands (filled in by its domain). */
export function registerLabels(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
