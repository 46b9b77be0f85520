import { z } from 'zod';
import { request, event, type RequestMap, type EventMap } from '../define.ts';
import type { VideoInfo } from '../../core/store/videos.ts';
import type { VideoAddResult } from '../../core/media/library.ts';
import type { MediaTaskProgress } from '../../core/media/background.ts';

/** A listed video plus how the renderer can play it. */
export interface VideoListItem extends VideoInfo {
  /** `original`: served as is; `proxy`: served from its H.264 copy; `converting`: the copy is being made; `unplayable`: no copy (yet). */
  playback: 'original' | 'proxy' | 'converting' | 'unplayable';
  /** Why a converted copy plays instead of the original; null when the original plays. */
  playbackNote: string | null;
  /**
   * The scrub proxy (a short-keyframe-interval copy that seeks fast; fetch it from mediaUrl('scrub', id)):
   * `ready` to use, `making` while it is made, null when the video seeks fast as it is or has not been looked at.
   */
  scrub: 'ready' | 'making' | null;
  /** The timeline's filmstrip sprite (fetch it from mediaUrl('filmstrip', id)), or null while it is made. */
  filmstrip: { columns: number; tileWidth: number; tileHeight: number; frames: number[] } | null;
}

/** Per-frame timing of one video, for the frame-exact timeline. */
export interface VideoFrameInfo {
  id: number;
  frameCount: number;
  fps: number;
  durationS: number;
  /** Presentation time in seconds of every frame; frame i starts at framePts[i]. */
  framePts: number[];
}

export interface FramesExport {
  out: string;
  frameIndices: number[];
  shape: [number, number, number, number];
}

const id = z.number().int().positive();

export const mediaRequests = {
  /** Probes and adds files; good files go in even when others fail. Emits `videos.probeProgress`. */
  'videos.add': request(z.object({ paths: z.array(z.string().min(1)).min(1) }).strict()).returns<VideoAddResult[]>(),
  'videos.list': request(z.object({}).strict()).returns<VideoListItem[]>(),
  /** Removes a video with its clips, predictions and probe results. */
  'videos.remove': request(z.object({ id }).strict()).returns<{ removed: number }>(),
  /** Points a moved video at its new path; refused unless the file's fingerprint matches. */
  'videos.relink': request(z.object({ id, path: z.string().min(1) }).strict()).returns<VideoInfo>(),
  'videos.frameInfo': request(z.object({ id }).strict()).returns<VideoFrameInfo>(),
  /**
   * The window could not play a video it should have (`error`: what the browser engine said): the video plays
   * through an H.264 copy from now on, made in the background. `copying` is false when it already did.
   */
  'videos.playbackFailed': request(z.object({ id, error: z.string().max(500) }).strict()).returns<{ copying: boolean }>(),
  /** Samples frames as the model sees them and writes them to a safetensors file (`frames`, `frame_indices`). */
  'videos.exportFrames': request(
    z
      .object({
        video: z.string().min(1),
        from: z.number().int().min(0),
        to: z.number().int().positive(),
        frames: z.number().int().positive().max(256),
        size: z.number().int().min(8).max(1024),
        mode: z.enum(['center', 'random']).default('center'),
        crop: z.enum(['center', 'train']).default('center'),
        reversed: z.boolean().default(false),
        seed: z.number().int().optional(),
        out: z.string().min(1),
      })
      .strict(),
  ).returns<FramesExport>(),
} satisfies RequestMap;

export const mediaEvents = {
  /** One more file of a `videos.add` call was probed. */
  'videos.probeProgress': event<{ done: number; total: number; path: string }>(),
  /** Filmstrip, proxy and scrub proxy progress for one video. */
  'videos.mediaProgress': event<MediaTaskProgress>(),
} satisfies EventMap;
