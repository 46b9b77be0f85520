import type { Command } from 'commander';

/** Registers the `video` commands (filled in by its domain). */
export function registerVideo(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
