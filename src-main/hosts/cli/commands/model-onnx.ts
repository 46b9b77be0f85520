import type { Command } from 'commander';
import type { CommandGroups } from './groups.ts';
import type { ExportOnnxResult } from '../../../core/model/onnx/export-file.ts';
import type { OnnxInputFormat } from '../../../core/model/onnx/export.ts';
import { projectModelWeights } from '../../../core/model/onnx/project-model.ts';
import { intOption, printJson, UsageError, withProject } from '../context.ts';

interface ExportOptions {
  out: string;
  weights?: string;
  input: string;
  size?: number;
  clips?: number;
  json?: boolean;
}

const INPUT_FORMATS: readonly OnnxInputFormat[] = ['float-nchw', 'uint8-nhwc'];

/** Registers `model export-onnx`. */
export function registerModelOnnx(_program: Command, groups: CommandGroups): void {
  groups.model
    .command('export-onnx')
    .description('export a model of a project (DIR MODEL) or a weights file (--weights) to ONNX (opset 17, BatchNorm folded)')
    .argument('[dir]', 'project folder')
    .argument('[model]', 'model id or name in the project')
    .requiredOption('--out <file>', 'ONNX file to write')
    .option('--weights <file>', 'checkpoint or weights file (safetensors) instead of a project model')
    .option('--input <format>', `input layout: float-nchw = normalised float [clips·T,3,S,S]; uint8-nhwc = raw RGB bytes [clips·T,S,S,3]`, 'float-nchw')
    .option('--size <n>', 'square input side (multiple of 32); default: the model\'s', intOption('--size', 32))
    .option('--clips <n>', 'fix the batch at N clips per run (faster in ONNX Runtime); default: a dynamic batch', intOption('--clips', 1))
    .option('--json', 'print one JSON object')
    .action(async (dir: string | undefined, model: string | undefined, opts: ExportOptions) => {
      if (!INPUT_FORMATS.includes(opts.input as OnnxInputFormat)) {
        throw new UsageError(`--input must be one of ${INPUT_FORMATS.join(', ')}, got "${opts.input}"`);
      }
      const input = opts.input as OnnxInputFormat;
      // Reading checkpoints loads tfjs: only for this command, not for every start of the CLI.
      const { exportOnnxFile } = await import('../../../core/model/onnx/export-file.ts');
      let result: ExportOnnxResult;
      if (opts.weights) {
        if (dir !== undefined) throw new UsageError('give either DIR MODEL or --weights, not both');
        result = exportOnnxFile({ weights: opts.weights, out: opts.out, input, size: opts.size, clips: opts.clips });
      } else {
        if (dir === undefined || model === undefined) throw new UsageError('give a project folder and a model (DIR MODEL), or --weights FILE');
        result = await withProject(dir, async ({ context }) => {
          const { weights } = projectModelWeights(context.session.project, model);
          return exportOnnxFile({ weights, out: opts.out, input, size: opts.size, clips: opts.clips });
        });
      }
      if (opts.json) printJson(result);
      else process.stdout.write(`${describeExport(result)}\n`);
    });
}

function describeExport(r: ExportOnnxResult): string {
  const mib = (r.bytes / 2 ** 20).toFixed(1);
  const outputs = r.outputs.map((o) => `${o.name} [${o.shape.join(', ')}]`).join(', ');
  return [
    `wrote ${r.out} (${mib} MiB, opset ${r.opset}, ${r.variant}, T = ${r.frames}, ${r.size}², ${r.classes} classes)`,
    `  input  ${r.input.name} ${r.input.format} [${r.input.shape.join(', ')}]`,
    `  output ${outputs}`,
  ].join('\n');
}
