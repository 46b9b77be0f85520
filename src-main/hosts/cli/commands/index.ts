import type { Command } from 'commander';
import { registerProject } from './project.ts';
import { registerClass } from './class.ts';
import { registerLabels } from './labels.ts';
import { registerVideo } from './video.ts';
import { registerModel } from './model.ts';
import { registerModelOnnx } from './model-onnx.ts';
import { registerTrain } from './train.ts';
import { registerPredict } from './predict.ts';
import { registerProbe } from './probe.ts';
import { registerExport } from './export.ts';
import { registerDemo } from './demo.ts';
import { registerWeights } from './weights.ts';

/** Command groups that several domains add subcommands to. */
export interface CommandGroups {
  model: Command;
}

export function registerDomainCommands(program: Command): void {
  const groups: CommandGroups = {
    model: program.command('model').description('inspect, run, import and export STM models'),
  };
  registerProject(program, groups);
  registerClass(program, groups);
  registerLabels(program, groups);
  registerVideo(program, groups);
  registerModel(program, groups);
  registerModelOnnx(program, groups);
  registerTrain(program, groups);
  registerPredict(program, groups);
  registerProbe(program, groups);
  registerExport(program, groups);
  registerDemo(program, groups);
  registerWeights(program, groups);
}
