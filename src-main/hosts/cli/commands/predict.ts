import type { Command } from 'commander';

/** Registers the `predict` commands (filled in by its domain). */
export function registerPredict(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
