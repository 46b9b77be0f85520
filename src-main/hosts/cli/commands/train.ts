import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import type { LocalApi } from '../../../api/local-client.ts';
import type { JobView } from '../../../api/contract/jobs.ts';
import type { TrainSource } from '../../../core/jobs/params.ts';
import { floatOption, intOption, printJson, UsageError, withProject } from '../context.ts';
import { progressBar, interruptSignal } from '../progress.ts';
import { parseLayers } from '../../../core/model/config.ts';
import { UserError } from '../../../core/errors.ts';
import type { CommandGroups } from './groups.ts';
import { trainDefaults as d } from '../../../api/contract/defaults.ts';
import { downloadWithProgress } from './weights.ts';

/**
 * Waits for a job with a progress bar on stderr; the first Ctrl-C cancels the job and waits for it to stop.
 * A job that does not end `done` is an error (exit 1), a cancelled one exits 130.
 */
export async function followJob(local: LocalApi, job: JobView, label: string): Promise<JobView> {
  const bar = progressBar(label);
  const interrupt = interruptSignal();
  const stopListening = local.client.on('job.progress', ({ job: j, progress }) => {
    if (j.id === job.id) bar.update(progress.done, Math.max(progress.total, 1), progress.note ?? '');
  });
  const onAbort = () => void local.client.call('jobs.cancel', { id: job.id });
  interrupt.signal.addEventListener('abort', onAbort);
  try {
    const final = await local.client.call('jobs.wait', { id: job.id });
    bar.stop();
    if (final.status === 'cancelled') {
      process.stderr.write(`${label}: cancelled (job ${job.id})\n`);
      process.exitCode = 130;
      return final;
    }
    if (final.status !== 'done') throw new UserError('internal', `${label} ${final.status} (job ${job.id}): ${final.error ?? 'no reason given'}`);
    return final;
  } finally {
    bar.stop();
    stopListening();
    interrupt.signal.removeEventListener('abort', onAbort);
    interrupt.dispose();
  }
}

/** A model of the project by id or name, or a model file (imported into the project first). */
export async function resolveModel(local: LocalApi, ref: string): Promise<number> {
  const models = await local.client.call('models.list', {});
  if (/^\d+$/.test(ref)) {
    const id = Number(ref);
    if (models.some((m) => m.id === id)) return id;
  }
  const named = models.filter((m) => m.name === ref);
  if (named.length) return named[named.length - 1].id;
  if (existsSync(ref)) {
    const imported = await local.client.call('models.import', { file: ref });
    process.stderr.write(`imported ${ref} as model ${imported.id} ("${imported.name}")\n`);
    return imported.id;
  }
  throw new UsageError(`no model "${ref}" in the project (by id or name) and no such file`);
}

function printFigures(title: string, figures: Record<string, unknown> | null): void {
  const parts = Object.entries(figures ?? {})
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : String(v)}`);
  process.stdout.write(`${title}: ${parts.join(', ')}\n`);
}

interface TrainOptions {
  from?: string;
  name?: string;
  variant: 'stm' | 'cstm' | 'cmm' | 'tsn';
  layers: string;
  width: number;
  frames: number;
  size: number;
  epochs: number;
  batch: number;
  lr: number;
  lrSchedule: 'constant' | 'cosine';
  optimizer: 'sgd' | 'adam';
  freeze: number;
  patience: number;
  preciseBn: number;
  split: 'video' | 'clip' | 'fixed';
  flip?: boolean;
  reverseAugment?: boolean;
  classWeighting: boolean;
  backend?: string;
  workers?: number;
  frozenPrefix?: string;
  engine?: string;
  resume?: number;
  json?: boolean;
}

/** Registers `train`. */
export function registerTrain(program: Command, _groups: CommandGroups): void {
  program
    .command('train')
    .description('fine-tune an STM model on the labelled clips of a project')
    .argument('<dir>', 'project folder')
    .option('--from <model|weights>', 'start from a project model (id or name), a weights file (ImageNet ResNet-50, TSM, our checkpoint) or downloaded weights by name ("weights list"; they bring their layout); default: scratch')
    .option('--name <name>', 'name of the new model')
    .option('--variant <variant>', 'stm | cstm | cmm | tsn', d.variant)
    .option('--layers <a,b,c,d>', 'blocks per stage', d.layers.join(','))
    .option('--width <n>', 'base width (64 = ResNet-50)', intOption('--width', 16), d.width)
    .option('--frames <T>', 'frames per clip', intOption('--frames', 2), d.frames)
    .option('--size <S>', 'input side in pixels (multiple of 32)', intOption('--size', 32), d.size)
    .option('--epochs <n>', 'epochs', intOption('--epochs', 1), d.epochs)
    .option('--batch <n>', 'clips per batch', intOption('--batch', 1), d.batch)
    .option('--lr <x>', 'learning rate', floatOption('--lr'), d.lr)
    .option('--lr-schedule <name>', 'constant | cosine (decay to zero by the last step)', d.lrSchedule)
    .option('--optimizer <name>', 'sgd (momentum 0.9, as in the paper) | adam', d.optimizer)
    .option('--freeze <n>', 'keep the stem and the first N stages fixed', intOption('--freeze', 0), d.freeze)
    .option('--patience <n>', 'early stopping: epochs without a better validation score (0: off)', intOption('--patience', 0), d.patience)
    .option('--precise-bn <n>', 'training batches whose BatchNorm statistics are measured before each validation (0: off)', intOption('--precise-bn', 0), d.preciseBnBatches)
    .option('--split <mode>', 'video (no clip of a validation video in training) | clip (a share of each class\'s clips, for one-video projects) | fixed (the split stored on clips)', d.split)
    .option('--flip', 'horizontal flip for classes marked flip-safe')
    .option('--reverse-augment', 'play clips of classes with a reverse partner backwards half the time, labelled as the partner')
    .option('--no-class-weighting', 'do not weight the loss by inverse class frequency')
    .option('--backend <name>', 'compute backend (auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu)')
    .option('--engine <name>', 'what computes the gradients: onnx (ONNX Runtime; default on wasm/cpu) | tfjs (the backend itself)')
    .option('--workers <n>', 'threads: ONNX Runtime\'s with --engine onnx, else data-parallel worker threads with one model replica each (default: one per core on wasm/cpu)', intOption('--workers', 1))
    .option('--frozen-prefix <where>', 'where stages kept fixed by --freeze run: onnx (ONNX Runtime; default on wasm/cpu) | tfjs')
    .option('--resume <job>', 'resume an interrupted training job from its last checkpoint', intOption('--resume', 1))
    .option('--json', 'print one JSON object with the final figures')
    .action(async (dir: string, opts: TrainOptions) => {
      await withProject(dir, async (local) => {
        let job: JobView;
        if (opts.resume !== undefined) {
          job = await local.client.call('jobs.resume', { id: opts.resume });
        } else {
          const from = opts.from === undefined ? { kind: 'scratch' as const } : await trainSource(local, opts.from);
          if (!from) return;
          job = await local.client.call('train.start', {
            from,
            ...(opts.name ? { name: opts.name } : {}),
            variant: opts.variant,
            layers: [...parseLayers(opts.layers)] as [number, number, number, number],
            width: opts.width,
            frames: opts.frames,
            size: opts.size,
            epochs: opts.epochs,
            batch: opts.batch,
            lr: opts.lr,
            lrSchedule: opts.lrSchedule,
            optimizer: opts.optimizer,
            freeze: opts.freeze,
            patience: opts.patience,
            preciseBnBatches: opts.preciseBn,
            split: opts.split,
            flip: opts.flip === true,
            reverseAugment: opts.reverseAugment === true,
            classWeighting: opts.classWeighting,
            ...(opts.backend ? { backend: opts.backend as 'auto' } : {}),
            ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
            ...(opts.frozenPrefix !== undefined ? { frozenPrefix: opts.frozenPrefix as 'onnx' } : {}),
            ...(opts.engine !== undefined ? { trainEngine: opts.engine as 'onnx' } : {}),
          });
        }
        const final = await followJob(local, job, `train (job ${job.id})`);
        if (final.status !== 'done') return;
        if (opts.json) printJson({ job: final.id, ...final.figures });
        else printFigures(`trained model ${final.modelId}`, final.figures);
      });
    });
}

async function trainSource(local: LocalApi, ref: string): Promise<TrainSource | null> {
  const models = await local.client.call('models.list', {});
  const match = models.find((m) => String(m.id) === ref || m.name === ref);
  if (match) return { kind: 'model', modelId: match.id };
  if (existsSync(ref)) return { kind: 'weights', path: ref };
  const weights = await local.client.call('weights.list', {});
  const entry = weights.catalogue.find((w) => w.name === ref);
  // Catalogue weights that are not cached yet are downloaded first (Ctrl-C cancels: null, exit code 130).
  if (entry && entry.status !== 'cached' && !(await downloadWithProgress(local.client, ref))) return null;
  if (entry || weights.custom.some((w) => w.name === ref)) return { kind: 'pretrained', name: ref };
  throw new UsageError(`--from: no model "${ref}" in the project, no such weights file and no such name in "stm-studio weights list"`);
}
