import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { LocalApi } from '../../../api/local-client.ts';
import { intOption, printJson, UsageError, withProject } from '../context.ts';
import { followJob, resolveModel } from './train.ts';
import type { CommandGroups } from './groups.ts';
import { predictDefaults } from '../../../api/contract/defaults.ts';

/** "2s" / "2.5" → seconds; "48f" → frames. */
export function parseSpan(option: string) {
  return (text: string): { value: number; unit: 'seconds' | 'frames' } => {
    const match = /^(\d+(?:\.\d+)?)\s*(s|f)?$/i.exec(text.trim());
    const value = match ? Number(match[1]) : NaN;
    if (!match || !(value > 0)) throw new UsageError(`${option} must look like 2s (seconds) or 48f (frames), got "${text}"`);
    return { value, unit: match[2]?.toLowerCase() === 'f' ? 'frames' : 'seconds' };
  };
}

async function resolveVideos(local: LocalApi, refs: string[]): Promise<number[]> {
  const videos = await local.client.call('videos.list', {});
  return refs.map((ref) => {
    const found = videos.find((v) => String(v.id) === ref || v.name === ref || v.path === resolve(ref));
    if (!found) throw new UsageError(`--videos: no video "${ref}" in the project (by id, name or path)`);
    return found.id;
  });
}

/** Options shared by predict and probe for running on the worker queue. */
export interface QueueOptions {
  queue?: string;
  attempts?: number;
  shardSize?: number;
  resume?: number;
}

export function addQueueOptions(command: Command): Command {
  return command
    .option('--queue <url>', 'run on the workers of this Redis queue (redis://[user:pass@]host:port or rediss://) instead of this machine')
    .option('--attempts <n>', 'with --queue: tries per shard before it counts as failed', intOption('--attempts', 1))
    .option('--shard-size <n>', 'with --queue: windows (or clips) per shard; longer videos are split', intOption('--shard-size', 1))
    .option('--resume <job>', 'continue an interrupted job (on the queue: re-attach to its shards)', intOption('--resume', 1));
}

export function queueParams(opts: QueueOptions): { queue?: string; attempts?: number; shardSize?: number } {
  if (!opts.queue && (opts.attempts !== undefined || opts.shardSize !== undefined)) throw new UsageError('--attempts and --shard-size go with --queue');
  return {
    ...(opts.queue ? { queue: opts.queue } : {}),
    ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
    ...(opts.shardSize !== undefined ? { shardSize: opts.shardSize } : {}),
  };
}

/** The model to run: required unless a job is resumed. */
export function requireModelOption(opts: { model?: string; resume?: number }): string {
  if (!opts.model) throw new UsageError("required option '--model <model>' not specified");
  return opts.model;
}

interface PredictOptions extends QueueOptions {
  model?: string;
  videos?: string[];
  window: { value: number; unit: 'seconds' | 'frames' };
  stride: { value: number; unit: 'seconds' | 'frames' };
  direction: 'forward' | 'reversed' | 'both';
  batch: number;
  backend?: string;
  engine: string;
  out: string;
  json?: boolean;
}

/** Registers `predict`. */
export function registerPredict(program: Command, _groups: CommandGroups): void {
  const command = program
    .command('predict')
    .description('run a model over videos in sliding windows and write the probabilities as CSV')
    .argument('<dir>', 'project folder')
    .option('--model <model>', 'a project model (id or name) or a model file')
    .option('--videos <video...>', 'videos by id, name or path (default: all)')
    .option('--window <span>', 'window length: 2s (seconds) or 48f (frames)', parseSpan('--window'), predictDefaults.window)
    .option('--stride <span>', 'step between windows: 1s or 24f', parseSpan('--stride'), predictDefaults.stride)
    .option('--direction <dir>', 'forward | reversed | both', predictDefaults.direction)
    .option('--batch <n>', 'windows per forward pass', intOption('--batch', 1), predictDefaults.batch)
    .option('--backend <name>', 'compute backend (auto, tfjs-node-gpu, webgpu, tfjs-node, wasm, cpu)')
    .option('--engine <engine>', 'auto (ONNX Runtime on CPU, tfjs on a GPU) | onnx | tfjs', 'auto')
    .requiredOption('--out <file.csv>', 'predictions CSV (all videos in one file)')
    .option('--json', 'print one JSON object with the figures');
  addQueueOptions(command).action(async (dir: string, opts: PredictOptions) => {
      await withProject(dir, async (local) => {
        const job = opts.resume !== undefined ? await local.client.call('jobs.resume', { id: opts.resume }) : await local.client.call('predict.start', {
          modelId: await resolveModel(local, requireModelOption(opts)),
          ...(opts.videos ? { videoIds: await resolveVideos(local, opts.videos) } : {}),
          window: opts.window,
          stride: opts.stride,
          direction: opts.direction,
          batch: opts.batch,
          engine: opts.engine as 'auto',
          ...(opts.backend ? { backend: opts.backend as 'auto' } : {}),
          ...queueParams(opts),
        });
        const final = await followJob(local, job, `predict (job ${job.id})`);
        if (final.status !== 'done') return;
        const written = await local.client.call('export.csv', { kind: 'predictions', file: resolve(opts.out), jobId: job.id });
        const log = (await local.client.call('jobs.log', { id: job.id })).log;
        for (const line of log.split('\n').filter((l) => l.includes('skipped video'))) process.stderr.write(`${line.replace(/^\S+ /, '')}\n`);
        if (opts.json) printJson({ job: final.id, ...final.figures, rows: written.rows, file: written.file });
        else process.stdout.write(`wrote ${written.rows} window rows to ${written.file}\n`);
      });
    });
}
