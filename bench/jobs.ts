/**
 * `npm run bench -- jobs`: end-to-end predict throughput (decode + sample + inference + store) on a 60 s
 * video with a small STM, on ONNX Runtime and on TensorFlow.js (wasm), against decoding the same windows
 * alone (informational: inference dominates); how long a queued job takes to start in its worker thread; and
 * training's clip sampling from the frame cache against one ffmpeg run per clip. Targets: ONNX ≥ 1× tfjs
 * windows/s; cached sampling ≥ 3× ffmpeg per clip.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openProject, type Project } from '../src-main/core/store/project.ts';
import { requireFfmpegTools } from '../src-main/core/media/locate.ts';
import { addVideos } from '../src-main/core/media/library.ts';
import { sampleClip, slidingWindows, type DecodableVideo, type SampleOptions } from '../src-main/core/media/decode.ts';
import type { FfmpegTools } from '../src-main/core/media/locate.ts';
import { seededRng } from '../src-main/core/media/sampling.ts';
import { ClipFrameCache } from '../src-main/core/jobs/frame-cache.ts';
import { runPredictJob } from '../src-main/core/jobs/predict.ts';
import { decodable } from '../src-main/core/jobs/dataset.ts';
import { JobQueue } from '../src-main/core/jobs/queue.ts';
import type { JobHooks } from '../src-main/core/jobs/types.ts';
import { makeTestVideo } from '../test/helpers/videos.ts';
import { report, reportRatio, round } from './lib/report.ts';
import { addBenchModel } from './lib/bench-model.ts';

const SUITE = 'jobs';
const CONFIG = { variant: 'stm' as const, layers: [1, 1, 1, 1] as [number, number, number, number], baseWidth: 32, frames: 8, classes: 4, inputSize: 128 };
const WINDOW = { value: 1, unit: 'seconds' as const };
const STRIDE = { value: 0.5, unit: 'seconds' as const };

const quietHooks: JobHooks = { report() {}, log() {}, throwIfCancelled() {} };

async function setUp(dir: string): Promise<{ project: Project; modelId: number; videoId: number }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const video = await makeTestVideo(join(dir, 'minute.mp4'), { frames: 1500, fps: 25, size: [320, 240] });
  const project = openProject(dir, { create: true });
  const [added] = await addVideos(project, await requireFfmpegTools(), [video]);
  if (!added.ok) throw new Error(added.error.message);
  const modelId = await addBenchModel(project, CONFIG);
  return { project, modelId, videoId: added.video.id };
}

async function predictRate(project: Project, modelId: number, engine: 'onnx' | 'tfjs'): Promise<{ windows: number; perSecond: number }> {
  const job = project.jobs.insert('predict', { modelId, window: WINDOW, stride: STRIDE, direction: 'forward', batch: 8, engine, backend: 'wasm' });
  const t0 = performance.now();
  const outcome = await runPredictJob(project, project.jobs.require(job.id), quietHooks);
  const seconds = (performance.now() - t0) / 1000;
  const windows = Number(outcome.figures.windows);
  return { windows, perSecond: windows / seconds };
}

/** Training-style sampling (random frames, corner crops) of 24-frame spans, a batch of 8 clips at a time. */
async function trainingSampleRate(video: DecodableVideo, sample: (options: SampleOptions) => Promise<unknown>, size: number): Promise<number> {
  const rng = seededRng(1);
  const spans = Array.from({ length: 48 }, (_, i) => i * 30);
  const t0 = performance.now();
  for (let b = 0; b < spans.length; b += 8) {
    await Promise.all(spans.slice(b, b + 8).map((start) => sample({ start, end: start + 24, frames: 4, mode: 'random', size, crop: 'train', rng })));
  }
  return spans.length / ((performance.now() - t0) / 1000);
}

async function benchFrameCache(tools: FfmpegTools, video: DecodableVideo): Promise<void> {
  for (const size of [32, 112]) {
    const direct = await trainingSampleRate(video, (o) => sampleClip(tools, video, o), size);
    const cache = new ClipFrameCache(tools);
    const firstEpoch = await trainingSampleRate(video, (o) => cache.sample(video, o), size);
    const laterEpoch = await trainingSampleRate(video, (o) => cache.sample(video, o), size);
    report({ suite: SUITE, figure: `training clips/s at ${size}², ffmpeg per clip`, value: round(direct, 1), unit: 'clips/s' });
    report({ suite: SUITE, figure: `training clips/s at ${size}², frame cache first epoch (decoding)`, value: round(firstEpoch, 1), unit: 'clips/s' });
    report({ suite: SUITE, figure: `training clips/s at ${size}², frame cache later epochs`, value: round(laterEpoch, 1), unit: 'clips/s', heldMB: round(cache.use.bytes / 2 ** 20, 1) });
    reportRatio(SUITE, `frame cache later epochs / ffmpeg per clip (${size}²)`, laterEpoch / direct, { min: 3 });
  }
}

export async function run(): Promise<void> {
  const dir = join(process.cwd(), 'bench-output', 'jobs');
  const { project, modelId, videoId } = await setUp(dir);
  try {
    const tools = await requireFfmpegTools();
    const video = project.videos.require(videoId);
    let decoded = 0;
    const t0 = performance.now();
    for await (const _ of slidingWindows(tools, decodable(video), { window: 25, stride: 12, unit: 'frames', frames: CONFIG.frames, size: CONFIG.inputSize })) decoded++;
    const decodeRate = decoded / ((performance.now() - t0) / 1000);
    report({ suite: SUITE, figure: 'decode-only windows/s (60 s 320x240, T=8, 128 px)', value: round(decodeRate, 1), unit: 'windows/s' });

    const onnx = await predictRate(project, modelId, 'onnx');
    report({ suite: SUITE, figure: 'predict windows/s, ONNX Runtime', value: round(onnx.perSecond, 1), unit: 'windows/s', windows: onnx.windows });
    const tfjs = await predictRate(project, modelId, 'tfjs');
    report({ suite: SUITE, figure: 'predict windows/s, tfjs wasm', value: round(tfjs.perSecond, 1), unit: 'windows/s', windows: tfjs.windows });
    reportRatio(SUITE, 'predict ONNX / tfjs wasm', onnx.perSecond / tfjs.perSecond, { min: 1 });
    // Informational: how much of predict is inference rather than decoding.
    report({ suite: SUITE, figure: 'predict ONNX / decode only', value: round(onnx.perSecond / decodeRate, 3), unit: 'ratio' });

    // Queue → worker start: the time a user waits between "start" and the first progress event.
    const started = await new Promise<number>((resolve) => {
      const t = performance.now();
      const queue = new JobQueue(project, {
        progress: () => {
          resolve((performance.now() - t) / 1000);
          queue.close();
        },
        updated: () => {},
      });
      queue.submit('predict', { modelId, window: WINDOW, stride: STRIDE, direction: 'forward', batch: 8, engine: 'onnx' });
    });
    report({ suite: SUITE, figure: 'job start latency (queue to first progress, worker thread)', value: round(started, 2), unit: 's' });

    await benchFrameCache(tools, decodable(video));
  } finally {
    project.close();
  }
}
