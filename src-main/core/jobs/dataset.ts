/**
 * The labelled clips a job works on, checked the way a user needs: enough classes, every class with clips,
 * videos present on disk (a missing one is skipped by name), clips shorter than T noted (sampled with
 * repeats).
 */
import { existsSync } from 'node:fs';
import { UserError } from '../errors.ts';
import type { Project } from '../store/project.ts';
import type { ClassRecord } from '../store/classes.ts';
import type { VideoRecord } from '../store/videos.ts';
import type { DecodableVideo } from '../media/decode.ts';
import { changedVideoError, videoFileState } from '../media/library.ts';
import type { JobHooks } from './types.ts';

export interface LabelledClip {
  id: number;
  videoId: number;
  classId: number;
  className: string;
  startFrame: number;
  endFrame: number;
  split: 'train' | 'val' | null;
}

export interface ProjectDataset {
  classes: ClassRecord[];
  clips: LabelledClip[];
  videos: Map<number, VideoRecord>;
}

export function decodable(video: VideoRecord): DecodableVideo {
  return { path: video.path, displayWidth: video.displayWidth, displayHeight: video.displayHeight, framePts: video.framePts };
}

/** Loads videos by id, skipping (and logging) those whose file is gone. */
export function presentVideos(project: Project, ids: Iterable<number>, hooks: Pick<JobHooks, 'log'>): Map<number, VideoRecord> {
  const videos = new Map<number, VideoRecord>();
  for (const id of ids) {
    const video = project.videos.require(id);
    const state = video.status === 'missing' || !existsSync(video.path) ? 'missing' : videoFileState(video);
    if (state === 'missing') {
      hooks.log(`skipped video "${video.name}": ${video.path} is missing on disk`);
      continue;
    }
    // Labels and predictions belong to the frames of the file that was added; another file would train on
    // (or predict for) the wrong frames without a word.
    if (state === 'changed') throw changedVideoError(video);
    videos.set(id, video);
  }
  return videos;
}

/**
 * The active classes and their clips, for training (`requireTrainable`: at least two classes, each with a
 * clip) or for the probe (any labelled clip).
 */
export function loadDataset(
  project: Project,
  hooks: Pick<JobHooks, 'log'>,
  options: { frames: number; requireTrainable: boolean },
): ProjectDataset {
  const classes = project.classes.list();
  const byId = new Map(classes.map((c) => [c.id, c]));
  const all = project.clips.list().filter((c) => byId.has(c.classId));
  if (options.requireTrainable) {
    if (classes.length < 2) {
      throw new UserError('invalid_input', `Training needs at least two classes; the project has ${classes.length}${classes.length ? ` ("${classes[0].name}")` : ''}. Add classes and label clips first.`);
    }
    const empty = classes.filter((c) => !all.some((clip) => clip.classId === c.id));
    if (empty.length) {
      throw new UserError('invalid_input', `Class${empty.length > 1 ? 'es' : ''} ${empty.map((c) => `"${c.name}"`).join(', ')} ha${empty.length > 1 ? 've' : 's'} no labelled clips; label some or archive the class before training.`);
    }
  }
  const videos = presentVideos(project, new Set(all.map((c) => c.videoId)), hooks);
  const clips = all
    .filter((c) => videos.has(c.videoId))
    .map((c): LabelledClip => ({
      id: c.id,
      videoId: c.videoId,
      classId: c.classId,
      className: byId.get(c.classId)!.name,
      startFrame: c.startFrame,
      endFrame: c.endFrame,
      split: c.split,
    }));
  if (options.requireTrainable) {
    const lost = classes.filter((c) => !clips.some((clip) => clip.classId === c.id));
    if (lost.length) {
      throw new UserError('invalid_input', `Every clip of ${lost.map((c) => `"${c.name}"`).join(', ')} is in a video missing on disk; relink the video first.`);
    }
  }
  const short = clips.filter((c) => c.endFrame - c.startFrame < options.frames);
  if (short.length) {
    const names = short.slice(0, 5).map((c) => `clip ${c.id} (${c.endFrame - c.startFrame} frames)`).join(', ');
    hooks.log(`${short.length} clip(s) shorter than T = ${options.frames} frames are sampled with repeated frames: ${names}${short.length > 5 ? ', …' : ''}`);
  }
  return { classes, clips, videos };
}

/** uint8 RGB [T,S,S,3] → float32 normalised (x/255 − mean) / std, written into `out` at `offset`. */
export function normalizeInto(
  data: Uint8Array,
  out: Float32Array,
  offset: number,
  normalization: { mean: [number, number, number]; std: [number, number, number] },
): void {
  const { mean, std } = normalization;
  for (let i = 0; i < data.length; i += 3) {
    out[offset + i] = (data[i] / 255 - mean[0]) / std[0];
    out[offset + i + 1] = (data[i + 1] / 255 - mean[1]) / std[1];
    out[offset + i + 2] = (data[i + 2] / 255 - mean[2]) / std[2];
  }
}

/** Mirrors every frame of a [T,S,S,3] clip left↔right. */
export function flipHorizontal(data: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  const row = size * 3;
  for (let r = 0; r < data.length / row; r++) {
    for (let x = 0; x < size; x++) {
      const from = r * row + x * 3;
      const to = r * row + (size - 1 - x) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return out;
}
