import type { Command } from 'commander';
import type { CommandGroups } from './index.ts';
import { floatOption, intOption, printJson, UsageError, withoutProject } from '../context.ts';

const VARIANTS = ['stm', 'cstm', 'cmm', 'tsn'] as const;
type Variant = (typeof VARIANTS)[number];
const BACKENDS = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];

function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
    return value as T;
  };
}

function layersOption(value: string): [number, number, number, number] {
  const parts = value.split(',').map(Number);
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 1)) {
    throw new UsageError(`--layers must be four positive integers like 3,4,6,3, got "${value}"`);
  }
  return [parts[0], parts[1], parts[2], parts[3]];
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function classList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError('--classes must list class names separated by commas');
  return names;
}

/** Registers `model info`, `model describe`, `model init` and `model forward` in the shared `model` group. */
export function registerModel(_program: Command, groups: CommandGroups): void {
  groups.model
    .command('info')
    .description('parameters and multiply-accumulates (conv + fc, one clip) of an STM architecture')
    .option('--arch <name>', 'architecture', 'stm-r50')
    .option('--variant <v>', `temporal modules: ${VARIANTS.join(' | ')}`, choice('--variant', VARIANTS), 'stm' as Variant)
    .option('--layers <a,b,c,d>', 'blocks per stage (overrides the arch)', layersOption)
    .option('--base-width <n>', 'first-stage bottleneck width (overrides the arch)', intOption('--base-width', 16))
    .option('--frames <n>', 'frames per clip (T)', intOption('--frames', 2), 8)
    .option('--classes <n>', 'number of classes', intOption('--classes', 1), 174)
    .option('--size <n>', 'input side in pixels (multiple of 32)', intOption('--size', 32), 224)
    .option('--json', 'print one JSON object')
    .action(async (opts: { arch: string; variant: Variant; layers?: [number, number, number, number]; baseWidth?: number; frames: number; classes: number; size: number; json?: boolean }) => {
      const { client } = withoutProject();
      const info = await client.call('model.info', {
        arch: opts.arch,
        variant: opts.variant,
        layers: opts.layers,
        baseWidth: opts.baseWidth,
        frames: opts.frames,
        classes: opts.classes,
        size: opts.size,
      });
      if (opts.json) {
        printJson({ params: info.params, macs: info.macs, config: info.config });
        return;
      }
      const c = info.config;
      process.stdout.write(
        `${opts.arch} variant ${c.variant}, layers ${c.layers.join(',')}, base width ${c.baseWidth}, T=${c.frames}, ${c.classes} classes, ${c.inputSize}²\n` +
          `parameters: ${formatCount(info.params)}\n` +
          `multiply-accumulates per clip: ${formatCount(info.macs)} (${(info.macs / 1e9).toFixed(2)} G)\n`,
      );
    });

  groups.model
    .command('describe')
    .description('architecture, classes, normalisation and sampling stored in a checkpoint (reads the header only)')
    .argument('<file>', 'checkpoint or weights file (.safetensors)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { client } = withoutProject();
      const info = await client.call('model.describe', { path: file });
      if (opts.json) {
        printJson(info);
        return;
      }
      const c = info.config;
      const norm = info.normalization;
      process.stdout.write(
        `${info.path}\n` +
          `${c.variant}, layers ${c.layers.join(',')}, base width ${c.baseWidth}, T=${c.frames}, ${c.inputSize}², dropout ${c.dropout}; ${formatCount(info.params)} parameters\n` +
          `classes (${c.classes}): ${info.classNames.join(', ')}\n` +
          `normalisation: mean ${norm.mean.join(', ')}, std ${norm.std.join(', ')}; sampling: ${info.sampling.strategy}, ${info.sampling.frames} frames at ${info.sampling.size}²\n` +
          (info.extra.started_from ? `started from: ${info.extra.started_from} (sha256 ${info.extra.started_from_sha256 ?? '?'}, ${info.extra.started_from_file ?? '?'})\n` : ''),
      );
    });

  groups.model
    .command('forward')
    .description('run a weights file over clips in a safetensors file and write frame_logits and clip_logits')
    .requiredOption('--weights <file>', 'weights (.safetensors, PyTorch names; metadata gives the architecture)')
    .requiredOption('--input <file>', 'clips [clips·T, 3, S, S] (.safetensors, normalised)')
    .option('--input-key <name>', 'tensor to read from the input file (default: its only tensor, input or golden.input)')
    .requiredOption('--out <file>', 'output .safetensors')
    .option('--features', 'also write the stem and layer1…layer4 feature maps (NCHW) to compare with a reference stage by stage')
    .option('--backend <name>', `compute backend: ${BACKENDS.join(' | ')}`, choice('--backend', BACKENDS), 'auto' as Backend)
    .option('--json', 'print one JSON object')
    .action(async (opts: { weights: string; input: string; inputKey?: string; out: string; features?: boolean; backend: Backend; json?: boolean }) => {
      const { client } = withoutProject();
      const result = await client.call('model.forward', {
        weights: opts.weights,
        input: opts.input,
        inputKey: opts.inputKey,
        out: opts.out,
        features: opts.features ?? false,
        backend: opts.backend,
      });
      if (opts.json) printJson(result);
      else process.stdout.write(`${result.clips} clips × ${result.frames} frames → ${result.out} (${result.classes} classes, ${result.backend})\n`);
    });

  groups.model
    .command('init')
    .description('write a new checkpoint for your classes (paper init), optionally from pretrained ResNet-50 / TSM weights')
    .requiredOption('--out <file>', 'checkpoint to write (.safetensors)')
    .requiredOption('--classes <names>', 'class names in order, comma-separated', classList)
    .option('--arch <name>', 'architecture', 'stm-r50')
    .option('--variant <v>', `temporal modules: ${VARIANTS.join(' | ')}`, choice('--variant', VARIANTS), 'stm' as Variant)
    .option('--layers <a,b,c,d>', 'blocks per stage (overrides the arch)', layersOption)
    .option('--base-width <n>', 'first-stage bottleneck width (overrides the arch)', intOption('--base-width', 16))
    .option('--frames <n>', 'frames per clip (T)', intOption('--frames', 2), 8)
    .option('--size <n>', 'input side in pixels (multiple of 32)', intOption('--size', 32), 224)
    .option('--dropout <p>', 'dropout before the classifier', floatOption('--dropout'), 0.5)
    .option('--pretrained <file>', 'start the backbone from these weights: torchvision ResNet-50, TSM or STM (.safetensors or PyTorch .pth/.pth.tar)')
    .option('--seed <n>', 'seed for the random init', intOption('--seed'))
    .option('--json', 'print one JSON object')
    .action(
      async (opts: {
        out: string;
        classes: string[];
        arch: string;
        variant: Variant;
        layers?: [number, number, number, number];
        baseWidth?: number;
        frames: number;
        size: number;
        dropout: number;
        pretrained?: string;
        seed?: number;
        json?: boolean;
      }) => {
        const { client } = withoutProject();
        const result = await client.call('model.create', {
          out: opts.out,
          classNames: opts.classes,
          arch: opts.arch,
          variant: opts.variant,
          layers: opts.layers,
          baseWidth: opts.baseWidth,
          frames: opts.frames,
          size: opts.size,
          dropout: opts.dropout,
          pretrained: opts.pretrained,
          seed: opts.seed,
        });
        if (opts.json) {
          printJson(result);
          return;
        }
        const lines = [`wrote ${result.path}: ${result.config.variant}, ${result.config.classes} classes, ${formatCount(result.params)} parameters`];
        const imported = result.imported;
        if (imported) {
          lines.push(
            `pretrained (${imported.source}): ${imported.matched.length} tensors loaded, ${imported.missing.length} kept at init, ` +
              `${imported.unexpected.length} unexpected, ${imported.skipped.length} skipped`,
          );
          if (imported.unexpected.length > 0) lines.push(`unexpected: ${imported.unexpected.slice(0, 10).join(', ')}${imported.unexpected.length > 10 ? ', …' : ''}`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      },
    );
}
