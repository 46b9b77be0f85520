import type { Command } from 'commander';

/** Registers the `model-onnx` commands (filled in by its domain). */
export function registerModelOnnx(_program: Command, _groups: CommandGroups): void {}

import type { CommandGroups } from './index.ts';
