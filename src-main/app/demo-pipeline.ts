/**
 * Builds the demo project through the contract, as a user would: generated videos added to a project,
 * classes with their reverse partners, labels, an STM and a TSN trained with the same budget, the reversal
 * probe on the validation clips, predictions over the validation videos and the CSV exports.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiClient } from '../api/client.ts';
import type { JobView, ProbeResultView } from '../api/contract/jobs.ts';
import { UserError } from '../core/errors.ts';
import { requireFfmpegTools } from '../core/media/locate.ts';
import { demoClasses } from '../core/demo/catalogue.ts';
import { generateDemoVideos, type GeneratedVideo } from '../core/demo/generate.ts';
import type { DemoSettings } from '../core/demo/settings.ts';
import { removeDemoBuildMark, writeDemoBuildMark } from '../core/demo/build-mark.ts';

export type DemoStage = 'generate' | 'import' | 'train stm' | 'train tsn' | 'probe' | 'predict' | 'export';

export interface DemoHooks {
  /** Progress within a stage (done of total units). */
  onProgress?: (stage: DemoStage, done: number, total: number) => void;
  signal?: AbortSignal;
}

/** Validation figures of one model on the demo's validation clips. */
export interface ModelFigures {
  modelId: number;
  /** Top-1 over clips of the temporal (reverse-pair) classes. */
  temporalTop1: number;
  /** Top-1 over clips of the scene classes. */
  sceneTop1: number;
  /** Share of temporal clips whose prediction flipped: reversed, the forward top-1 turned into its partner. */
  flipRate: number;
}

export interface DemoOutcome {
  dir: string;
  stm: ModelFigures;
  tsn: ModelFigures;
  /** The CSV files written under `<dir>/exports`. */
  exports: string[];
  seconds: number;
}

/** The contract calls the demo makes; with `on`, job progress is relayed to `DemoHooks.onProgress`. */
export type DemoApi = Pick<ApiClient, 'call'> & Partial<Pick<ApiClient, 'on'>>;

export const DEMO_VIDEOS_DIR = 'videos';
/** Written last: the demo's figures and settings. Its presence means the demo project is complete. */
export const DEMO_SUMMARY_FILE = 'demo.json';
export const DEMO_EXPORTS_DIR = 'exports';

/** Generates the demo into `dir`, whose project must be open in `api` (and empty). */
export async function buildDemoProject(api: DemoApi, dir: string, settings: DemoSettings, hooks: DemoHooks = {}): Promise<DemoOutcome> {
  const started = Date.now();
  const progress = hooks.onProgress ?? (() => {});
  const summary = await api.call('project.summary', {});
  if (summary.videos > 0 || summary.clips > 0) {
    throw new UserError('conflict', `${dir} already holds a project with ${summary.videos} videos and ${summary.clips} clips; give the demo an empty folder.`);
  }

  // What the builder has made so far (counted by the builder, so someone else's edit never passes for its own),
  // so a later start never deletes a demo someone worked in.
  const demoModels = ['stm', 'tsn'].map(modelName);
  const mark = async (made: { videos: number; classes: number; clips: number }) => {
    const history = await api.call('history.state', {});
    writeDemoBuildMark(dir, { undoCount: history.undoCount, ...made, demoModels });
  };
  await mark({ videos: 0, classes: 0, clips: 0 });

  const tools = await requireFfmpegTools();
  const videos = await generateDemoVideos(tools.ffmpeg, join(dir, DEMO_VIDEOS_DIR), settings.data, {
    signal: hooks.signal,
    onVideo: (done, total) => progress('generate', done, total),
  });
  const videoIds = await importDemo(api, videos, (done, total) => progress('import', done, total));
  await mark({ videos: videos.length, classes: demoClasses().length, clips: videos.reduce((n, v) => n + v.labels.length, 0) });
  hooks.signal?.throwIfAborted();

  const stmId = await trainModel(api, 'stm', settings, hooks);
  const tsnId = await trainModel(api, 'tsn', settings, hooks);
  const stm = await probeModel(api, stmId, hooks);
  const tsn = await probeModel(api, tsnId, hooks);

  const valVideoIds = videos.flatMap((v, i) => (v.split === 'val' ? [videoIds[i]] : []));
  const window = { value: settings.window.frames, unit: 'frames' as const };
  const stride = { value: settings.window.stride, unit: 'frames' as const };
  for (const modelId of [stmId, tsnId]) {
    const job = await api.call('predict.start', { modelId, videoIds: valVideoIds, window, stride, direction: 'both', batch: 8 });
    await finished(api, job, 'predict', hooks);
  }

  const exports = await exportCsvs(api, dir, { stm: stmId, tsn: tsnId });
  progress('export', exports.length, exports.length);
  const outcome: DemoOutcome = { dir, stm, tsn, exports, seconds: (Date.now() - started) / 1000 };
  await writeFile(join(dir, DEMO_SUMMARY_FILE), `${JSON.stringify({ ...outcome, settings }, null, 2)}\n`);
  removeDemoBuildMark(dir);
  return outcome;
}

/** Adds the videos, the classes (reverse partners linked) and one clip per labelled span. */
async function importDemo(api: DemoApi, videos: GeneratedVideo[], onProgress: (done: number, total: number) => void): Promise<number[]> {
  const added = await api.call('videos.add', { paths: videos.map((v) => v.path) });
  const videoIds = added.map((result) => {
    if (!result.ok) throw new UserError('internal', `${result.path}: the generated demo video could not be added (${result.error.message})`);
    return result.video.id;
  });
  const classIds = new Map<string, number>();
  for (const demoClass of demoClasses()) {
    const record = await api.call('classes.add', { name: demoClass.name, flipSafe: demoClass.flipSafe });
    classIds.set(demoClass.name, record.id);
  }
  for (const demoClass of demoClasses()) {
    // reverse_of is symmetric: setting it on the first of a pair links both.
    if (demoClass.reverseOf && classIds.get(demoClass.name)! < classIds.get(demoClass.reverseOf)!) {
      await api.call('classes.update', { id: classIds.get(demoClass.name)!, reverseOf: classIds.get(demoClass.reverseOf)!, flipSafe: demoClass.flipSafe });
    }
  }
  for (const [i, video] of videos.entries()) {
    for (const label of video.labels) {
      await api.call('clips.create', {
        videoId: videoIds[i],
        classId: classIds.get(label.className)!,
        startFrame: label.startFrame,
        endFrame: label.endFrame,
        split: video.split,
        source: 'imported',
      });
    }
    onProgress(i + 1, videos.length);
  }
  return videoIds;
}

const modelName = (variant: string) => `demo ${variant.toUpperCase()}`;

async function trainModel(api: DemoApi, variant: 'stm' | 'tsn', settings: DemoSettings, hooks: DemoHooks): Promise<number> {
  const t = settings.train;
  const job = await api.call('train.start', {
    name: modelName(variant),
    from: { kind: 'scratch' },
    variant,
    layers: t.layers,
    width: t.width,
    frames: t.frames,
    size: t.size,
    dropout: t.dropout,
    epochs: t.epochs,
    batch: t.batch,
    lr: t.lr,
    optimizer: t.optimizer,
    momentum: 0.9,
    weightDecay: t.weightDecay,
    classWeighting: false,
    patience: 0,
    freeze: 0,
    flip: false,
    reverseAugment: t.reverseAugment,
    split: 'fixed',
    valFraction: 0,
    seed: t.seed,
  });
  const done = await finished(api, job, variant === 'stm' ? 'train stm' : 'train tsn', hooks);
  if (done.modelId === null) throw new UserError('internal', `training job ${job.id} finished without a model`);
  return done.modelId;
}

async function probeModel(api: DemoApi, modelId: number, hooks: DemoHooks): Promise<ModelFigures> {
  const job = await api.call('probe.start', { modelId, clips: 'val', batch: 8 });
  await finished(api, job, 'probe', hooks);
  return figuresOf(modelId, await api.call('probe.results', { jobId: job.id }));
}

/** Splits the probe's per-clip outcomes into the temporal-pair and scene figures. */
function figuresOf(modelId: number, results: readonly ProbeResultView[]): ModelFigures {
  const kinds = new Map(demoClasses().map((c) => [c.name, c.kind]));
  const temporal = results.filter((r) => r.label !== null && kinds.get(r.label) === 'temporal');
  const scene = results.filter((r) => r.label !== null && kinds.get(r.label) === 'scene');
  const share = (rows: readonly ProbeResultView[], hit: (r: ProbeResultView) => boolean) => (rows.length ? rows.filter(hit).length / rows.length : 0);
  return {
    modelId,
    temporalTop1: share(temporal, (r) => r.forwardTop1 === r.label),
    sceneTop1: share(scene, (r) => r.forwardTop1 === r.label),
    flipRate: share(temporal, (r) => r.flipped),
  };
}

/** Waits for a job, relaying its progress; a job that did not finish is an error naming it. */
async function finished(api: DemoApi, job: JobView, stage: DemoStage, hooks: DemoHooks): Promise<JobView> {
  const unsubscribe = api.on?.('job.progress', ({ job: current, progress }) => {
    if (current.id === job.id) hooks.onProgress?.(stage, progress.done, progress.total);
  });
  const abort = () => void api.call('jobs.cancel', { id: job.id }).catch(() => {});
  hooks.signal?.addEventListener('abort', abort, { once: true });
  try {
    const done = await api.call('jobs.wait', { id: job.id });
    if (done.status !== 'done') {
      throw new UserError(done.status === 'cancelled' ? 'cancelled' : 'internal', `demo ${stage} job ${job.id} ${done.status}${done.error ? `: ${done.error}` : ''}`);
    }
    return done;
  } finally {
    unsubscribe?.();
    hooks.signal?.removeEventListener('abort', abort);
  }
}

async function exportCsvs(api: DemoApi, dir: string, models: { stm: number; tsn: number }): Promise<string[]> {
  const out = join(dir, DEMO_EXPORTS_DIR);
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  const write = async (kind: 'labels' | 'predictions' | 'segments' | 'probe', name: string, modelId?: number) => {
    const result = await api.call('export.csv', { kind, file: join(out, name), ...(modelId ? { modelId } : {}) });
    files.push(result.file);
  };
  await write('labels', 'labels.csv');
  for (const [variant, modelId] of Object.entries(models)) {
    await write('predictions', `${variant}-predictions.csv`, modelId);
    await write('segments', `${variant}-segments.csv`, modelId);
    await write('probe', `${variant}-probe.csv`, modelId);
  }
  return files;
}
