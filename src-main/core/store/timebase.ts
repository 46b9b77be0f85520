import type { VideoRecord } from './videos.ts';

/** What frame↔time conversion needs from a video. */
export type Timebase = Pick<VideoRecord, 'framePts' | 'frameCount' | 'durationS' | 'fps'>;

/**
 * Seconds at which `frame` starts, from the decoded stream's timestamps. `frame === frameCount` (an
 * exclusive end at the last frame) maps to the video's duration. Only a video never decoded (no
 * timestamps) falls back to the declared frame rate.
 */
export function frameToSeconds(video: Timebase, frame: number): number {
  const pts = video.framePts;
  if (pts && pts.length > 0) {
    if (frame < pts.length) return pts[Math.max(0, frame)]!;
    return video.durationS ?? pts[pts.length - 1]! + lastFrameDuration(pts);
  }
  return frame / (video.fps || 1);
}

/** The frame whose start time is nearest to `seconds` (the duration maps to frameCount, an end boundary). */
export function secondsToFrame(video: Timebase, seconds: number): number {
  const pts = video.framePts;
  if (!pts || pts.length === 0) return Math.round(seconds * (video.fps || 1));
  const end = video.durationS ?? pts[pts.length - 1]! + lastFrameDuration(pts);
  // Binary search for the first frame starting at or after `seconds`.
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pts[mid]! < seconds) lo = mid + 1;
    else hi = mid;
  }
  const after = lo < pts.length ? pts[lo]! : end;
  if (lo === 0) return 0;
  const before = pts[lo - 1]!;
  return seconds - before <= after - seconds ? lo - 1 : lo;
}

function lastFrameDuration(pts: Float64Array): number {
  return pts.length > 1 ? pts[pts.length - 1]! - pts[pts.length - 2]! : 0;
}
