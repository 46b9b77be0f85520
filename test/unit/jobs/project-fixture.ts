/** A small labelled project made for real: colour videos encoded by ffmpeg, probed and added, clips labelled. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach } from 'vitest';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import { requireFfmpegTools } from '../../../src-main/core/media/locate.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import type { JobHooks } from '../../../src-main/core/jobs/types.ts';
import { UserError } from '../../../src-main/core/errors.ts';

const run = promisify(execFile);

/** A video of a solid colour with moving noise (seeded, so every video differs), `frames` long at 10 fps, 64×48. */
export async function makeColourVideo(path: string, colour: string, seed: number, frames = 24): Promise<string> {
  const tools = await requireFfmpegTools();
  await run(tools.ffmpeg, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `color=${colour}:size=64x48:rate=10`,
    '-vf', `noise=alls=20:allf=t:all_seed=${seed}`, '-frames:v', String(frames), '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '18', path,
  ]);
  return path;
}

export interface LabelledProject {
  dir: string;
  project: Project;
  classIds: Record<string, number>;
  videoIds: number[];
  cleanup(): void;
}

/**
 * Two classes ("red", "blue"), two videos each, two clips per video. `reverse` pairs the classes as each
 * other's reverse for probe tests.
 */
export async function labelledProject(options: { reverse?: boolean; classes?: string[] } = {}): Promise<LabelledProject> {
  const dir = mkdtempSync(join(tmpdir(), 'stm-jobs-'));
  const project = openProject(dir, { create: true });
  const colours = options.classes ?? ['red', 'blue'];
  const paths: string[] = [];
  for (const colour of colours) {
    for (const n of [1, 2]) paths.push(await makeColourVideo(join(dir, `${colour}-${n}.mp4`), colour, paths.length + 1));
  }
  const added = await addVideos(project, await requireFfmpegTools(), paths);
  const videoIds = added.map((r) => {
    if (!r.ok) throw new Error(r.error.message);
    return r.video.id;
  });
  const classIds: Record<string, number> = {};
  for (const colour of colours) classIds[colour] = project.classes.add({ name: colour }).id;
  if (options.reverse && colours.length >= 2) project.classes.update(classIds[colours[0]], { reverseOf: classIds[colours[1]] });
  colours.forEach((colour, c) => {
    for (const v of [0, 1]) {
      const videoId = videoIds[c * 2 + v];
      project.clips.create({ videoId, classId: classIds[colour], startFrame: 0, endFrame: 12 });
      project.clips.create({ videoId, classId: classIds[colour], startFrame: 12, endFrame: 24 });
    }
  });
  return { dir, project, classIds, videoIds, cleanup: () => (project.close(), rmSync(dir, { recursive: true, force: true })) };
}

/** Hooks that collect what a job reports, for jobs run in-process. */
export function recordingHooks(
  options: { cancelAfterReports?: number; onReport?: (update: Parameters<JobHooks['report']>[0]) => void } = {},
): JobHooks & { lines: string[]; reports: number } {
  const state = {
    lines: [] as string[],
    reports: 0,
    report(update: Parameters<JobHooks['report']>[0]) {
      state.reports += 1;
      options.onReport?.(update);
    },
    log(line: string) {
      state.lines.push(line);
    },
    throwIfCancelled() {
      if (options.cancelAfterReports !== undefined && state.reports >= options.cancelAfterReports) {
        throw new UserError('cancelled', 'cancelled by the test');
      }
    },
  };
  return state;
}

/** The smallest network worth training in a test: layers 1,1,1,1, width 16, T = 4, 32 px. */
export const TINY = { variant: 'stm', layers: [1, 1, 1, 1], width: 16, frames: 4, size: 32, batch: 4, backend: 'wasm' } as const;

/**
 * TINY as training parameters: no dropout, a fixed learning rate, one thread (starting worker threads would
 * take longer than training a network this small; train-parallel.test.ts trains with several).
 */
export const TINY_TRAIN = { ...TINY, layers: [...TINY.layers] as [number, number, number, number], dropout: 0, lr: 0.01, workers: 1 };

/**
 * Projects and API sessions for training tests, all closed and removed after each test. Call once at the top
 * of a test file: it registers the `afterEach` that cleans up.
 */
export function trainingTestbed() {
  let fixtures: LabelledProject[] = [];
  let apis: LocalApi[] = [];

  afterEach(() => {
    for (const api of apis) api.context.session.close();
    for (const f of fixtures) f.cleanup();
    fixtures = [];
    apis = [];
  });

  return {
    async fixture(options: Parameters<typeof labelledProject>[0] = {}): Promise<LabelledProject> {
      const f = await labelledProject(options);
      fixtures.push(f);
      return f;
    },

    /** A CLI-style API session with the project at `dir` open (its job queue running). */
    openApi(dir: string): LocalApi {
      const api = createLocalApi('cli');
      api.context.session.open(dir);
      apis.push(api);
      return api;
    },

    /** Runs a training job in-process (same code as the worker runs) and returns its outcome or error. */
    trainInProcess(f: LabelledProject, params: Record<string, unknown>, hooks = recordingHooks()) {
      const job = f.project.jobs.insert('train', { ...TINY_TRAIN, from: { kind: 'scratch' }, ...params });
      return { job, hooks, run: runTrainJob(f.project, f.project.jobs.require(job.id), hooks) };
    },
  };
}
