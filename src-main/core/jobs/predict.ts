/**
 * Predict job: sliding windows over the chosen videos (window and stride in seconds or frames, T centre
 * frames per window, centre crop), forward and/or reversed playback; probabilities stored per window.
 */
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { NewPrediction } from '../store/results.ts';
import { requireFfmpegTools } from '../media/locate.ts';
import { slidingWindows, windowSpans } from '../media/decode.ts';
import { reverseFrames } from '../media/sampling.ts';
import type { VideoRecord } from '../store/videos.ts';
import { decodable, presentVideos } from './dataset.ts';
import { openClassifier } from './inference.ts';
import { jobParamsOf, type WindowSpec } from './params.ts';
import type { JobHooks, JobOutcome, JobRecord } from './types.ts';

/** Frames per second measured from the decoded timestamps (what seconds are converted with). */
export function measuredFps(video: VideoRecord): number {
  const pts = video.framePts;
  if (!pts || pts.length < 2) return video.fps ?? 1;
  return (pts.length - 1) / (pts[pts.length - 1] - pts[0]);
}

export function inFrames(spec: WindowSpec, fps: number): number {
  return Math.max(1, spec.unit === 'seconds' ? Math.round(spec.value * fps) : Math.round(spec.value));
}

/** How many windows a video yields (for progress totals). */
export function windowCount(video: VideoRecord, window: WindowSpec, stride: WindowSpec): number {
  const frames = video.framePts?.length ?? video.frameCount ?? 0;
  if (frames === 0) return 0;
  const fps = measuredFps(video);
  return windowSpans(frames, inFrames(window, fps), inFrames(stride, fps)).length;
}

export async function runPredictJob(project: Project, job: JobRecord, hooks: JobHooks): Promise<JobOutcome> {
  const params = jobParamsOf(job, 'predict');
  const tools = await requireFfmpegTools();
  const chosen = params.videoIds ?? project.videos.list().map((v) => v.id);
  const videos = presentVideos(project, chosen, hooks);
  if (videos.size === 0) throw new UserError('invalid_input', 'None of the chosen videos is on disk; nothing to predict.');
  const classifier = await openClassifier(project, params.modelId, params, hooks);
  const { model } = classifier;
  const directions = params.direction === 'both' ? (['forward', 'reversed'] as const) : ([params.direction] as const);
  project.predictions.deleteForJob(job.id);
  const total = [...videos.values()].reduce((n, v) => n + windowCount(v, params.window, params.stride), 0);
  let done = 0;
  let stored = 0;
  try {
    for (const video of videos.values()) {
      hooks.throwIfCancelled();
      const fps = measuredFps(video);
      const windows = slidingWindows(tools, decodable(video), {
        window: inFrames(params.window, fps),
        stride: inFrames(params.stride, fps),
        unit: 'frames',
        frames: classifier.frames,
        size: classifier.size,
      });
      let pending: Array<{ index: number; startFrame: number; endFrame: number; data: Uint8Array }> = [];
      const flush = async () => {
        if (!pending.length) return;
        const rows: NewPrediction[] = [];
        for (const direction of directions) {
          const clips = pending.map((w) => (direction === 'reversed' ? reverseFrames(w.data, classifier.frames) : w.data));
          const probabilities = await classifier.classify(clips);
          pending.forEach((w, i) => rows.push({
            jobId: job.id, modelId: model.id, videoId: video.id, windowIndex: w.index,
            startFrame: w.startFrame, endFrame: w.endFrame, direction, probabilities: probabilities[i],
          }));
        }
        project.predictions.insertMany(rows);
        stored += rows.length;
        done += pending.length;
        pending = [];
        hooks.report({ phase: 'predicting', done, total, unit: 'windows', note: video.name });
      };
      for await (const w of windows) {
        hooks.throwIfCancelled();
        pending.push(w);
        if (pending.length >= params.batch) await flush();
      }
      await flush();
    }
  } finally {
    await classifier.dispose();
  }
  return { modelId: model.id, figures: { model_id: model.id, videos: videos.size, skipped_videos: chosen.length - videos.size, windows: done, predictions: stored } };
}
