/**
 * Splits a predict or probe job into shards: one per video, a long video's windows (or labelled clips) in
 * chunks of `shardSize`. Each shard carries only what a worker needs to decode and classify its spans.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../errors.ts';
import type { Project } from '../../store/project.ts';
import type { VideoRecord } from '../../store/videos.ts';
import { windowSpans } from '../../media/decode.ts';
import { presentVideos } from '../dataset.ts';
import { inFrames, measuredFps } from '../predict.ts';
import { DEFAULT_PREDICT_PARAMS } from '../params.ts';
import { chooseClips } from '../probe.ts';
import type { PredictParams, ProbeParams } from '../params.ts';
import type { CheckpointInfo } from '../../model/checkpoint.ts';
import type { ModelRecord } from '../../store/models.ts';
import type { JobHooks, JobRecord } from '../types.ts';
import type { ModelRef, ShardDirection, ShardKind, ShardTask } from './shards.ts';

export const DEFAULT_SHARD_SIZE = 256;

/** What the coordinator keeps about a labelled clip of a shard (the worker sees only its frames). */
export interface ShardClip {
  clipId: number;
  classId: number;
  label: string;
}

export interface PlannedShard {
  /** BullMQ job id: the same for the same project, job and shard, so a restarted coordinator finds it. */
  id: string;
  kind: ShardKind;
  task: ShardTask;
  video: VideoRecord;
  /** Windows or clips in the shard. */
  size: number;
  /** Clip shards: the clip behind each span, in order. */
  clips?: ShardClip[];
}

export interface ShardPlan {
  shards: PlannedShard[];
  videos: number;
  skippedVideos: number;
}

/** A key for a project's job that stays the same across restarts of the coordinator. */
export function jobKey(project: Project, job: JobRecord): string {
  return createHash('sha256').update(`${project.dir}\0${job.id}\0${job.createdAt}`).digest('hex').slice(0, 16);
}

function timesOf(video: VideoRecord): number[] {
  if (!video.framePts?.length || !video.displayWidth || !video.displayHeight) {
    throw new UserError('invalid_input', `${video.path}: the video has not been probed (no frame timestamps); add it to the project again.`);
  }
  return Array.from(video.framePts);
}

function shardVideo(video: VideoRecord, frames: number): ShardTask['video'] {
  return { path: video.path, name: video.name, displayWidth: video.displayWidth!, displayHeight: video.displayHeight!, framePts: timesOf(video).slice(0, frames) };
}

interface Common {
  key: string;
  kind: ShardKind;
  model: ModelRef;
  batch: number;
  backend: ShardTask['backend'];
  engine: ShardTask['engine'];
  shardSize: number;
}

function windowShards(common: Common, videos: Iterable<VideoRecord>, window: PredictParams['window'], stride: PredictParams['stride'], directions: ShardDirection[]): PlannedShard[] {
  const shards: PlannedShard[] = [];
  for (const video of videos) {
    const frameCount = timesOf(video).length;
    const fps = measuredFps(video);
    const w = inFrames(window, fps);
    const s = inFrames(stride, fps);
    const spans = windowSpans(frameCount, w, s);
    for (let first = 0; first < spans.length; first += common.shardSize) {
      const count = Math.min(common.shardSize, spans.length - first);
      shards.push({
        id: `${common.key}-${shards.length}`,
        kind: common.kind,
        video,
        size: count,
        task: {
          version: 1, model: common.model, video: shardVideo(video, spans[first + count - 1]![1]),
          spans: { kind: 'windows', window: w, stride: s, first, count }, directions, batch: common.batch,
          ...(common.backend ? { backend: common.backend } : {}), ...(common.engine ? { engine: common.engine } : {}),
        },
      });
    }
  }
  return shards;
}

function commonOf(project: Project, job: JobRecord, kind: ShardKind, model: ModelRef, params: PredictParams | ProbeParams): Common {
  return {
    key: jobKey(project, job), kind, model, batch: params.batch, backend: params.backend, engine: params.engine,
    shardSize: params.shardSize ?? DEFAULT_SHARD_SIZE,
  };
}

export function planPredict(project: Project, job: JobRecord, params: PredictParams, model: ModelRef, hooks: Pick<JobHooks, 'log'>): ShardPlan {
  const chosen = params.videoIds ?? project.videos.list().map((v) => v.id);
  const videos = presentVideos(project, chosen, hooks);
  if (videos.size === 0) throw new UserError('invalid_input', 'None of the chosen videos is on disk; nothing to predict.');
  const directions: ShardDirection[] = params.direction === 'both' ? ['forward', 'reversed'] : [params.direction];
  const shards = windowShards(commonOf(project, job, 'predict', model, params), videos.values(), params.window, params.stride, directions);
  return { shards, videos: videos.size, skippedVideos: chosen.length - videos.size };
}

export function planProbe(
  project: Project, job: JobRecord, params: ProbeParams, model: ModelRef, record: ModelRecord, info: CheckpointInfo, hooks: JobHooks,
): ShardPlan {
  const common = commonOf(project, job, 'probe', model, params);
  if (params.clips === 'windows') {
    const chosen = params.videoIds ?? project.videos.list().map((v) => v.id);
    const videos = presentVideos(project, chosen, hooks);
    if (videos.size === 0) throw new UserError('invalid_input', 'None of the chosen videos is on disk; nothing to probe.');
    const shards = windowShards(common, videos.values(), params.window ?? DEFAULT_PREDICT_PARAMS.window, params.stride ?? DEFAULT_PREDICT_PARAMS.stride, ['forward', 'reversed']);
    return { shards, videos: videos.size, skippedVideos: chosen.length - videos.size };
  }
  const { dataset, clips } = chooseClips(project, record, info, params, hooks);
  const byVideo = new Map<number, typeof clips>();
  for (const clip of clips) byVideo.set(clip.videoId, [...(byVideo.get(clip.videoId) ?? []), clip]);
  const shards: PlannedShard[] = [];
  for (const [videoId, videoClips] of byVideo) {
    const video = dataset.videos.get(videoId)!;
    for (let first = 0; first < videoClips.length; first += common.shardSize) {
      const part = videoClips.slice(first, first + common.shardSize);
      shards.push({
        id: `${common.key}-${shards.length}`,
        kind: 'probe',
        video,
        size: part.length,
        clips: part.map((c) => ({ clipId: c.id, classId: c.classId, label: c.className })),
        task: {
          version: 1, model, video: shardVideo(video, Math.max(...part.map((c) => c.endFrame))),
          spans: { kind: 'clips', clips: part.map((c) => ({ startFrame: c.startFrame, endFrame: c.endFrame })) },
          directions: ['forward', 'reversed'], batch: common.batch,
          ...(common.backend ? { backend: common.backend } : {}), ...(common.engine ? { engine: common.engine } : {}),
        },
      });
    }
  }
  return { shards, videos: byVideo.size, skippedVideos: 0 };
}
