/**
 * Frame ↔ time on a video's decoded frame timestamps (seconds, one per frame, ascending). Frame numbers
 * come from these timestamps, never from time × fps, so variable-frame-rate video stays exact.
 */
export type FrameTimes = ArrayLike<number>;

/** The frame on screen at media time `t`: the last frame whose timestamp is ≤ t (with a small tolerance). */
export function frameAtTime(pts: FrameTimes, t: number): number {
  const n = pts.length;
  if (n === 0) return 0;
  const target = t + 1e-4;
  let lo = 0;
  let hi = n - 1;
  if (target < pts[0]) return 0;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pts[mid] <= target) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * The media time to seek to so that `frame` is shown: a little into its display interval, which avoids
 * landing on the previous frame through rounding in the decoder.
 */
export function seekTimeOf(pts: FrameTimes, frame: number, duration: number): number {
  const f = Math.max(0, Math.min(pts.length - 1, frame));
  const start = pts[f] ?? 0;
  const next = f + 1 < pts.length ? pts[f + 1] : Math.max(duration, start + 1 / 30);
  return start + Math.min(0.25 * (next - start), 0.004);
}

/** Timestamp of `frame` (an exclusive end may be one past the last frame: the duration). */
export function timeOfFrame(pts: FrameTimes, frame: number, duration: number): number {
  if (frame <= 0) return pts.length ? pts[0] : 0;
  if (frame >= pts.length) return duration;
  return pts[frame];
}

/** The frame one second (or `seconds`) away from `frame`, by timestamp. */
export function frameAfterSeconds(pts: FrameTimes, frame: number, seconds: number): number {
  const t = (pts[Math.max(0, Math.min(pts.length - 1, frame))] ?? 0) + seconds;
  return Math.max(0, Math.min(pts.length - 1, frameAtTime(pts, t)));
}

/** 83.25 → "1:23.250"; 3723.5 → "1:02:03.500". */
export function formatTime(seconds: number, digits = 3): string {
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = (s % 60).toFixed(digits).padStart(digits ? digits + 3 : 2, '0');
  return h ? `${sign}${h}:${String(m).padStart(2, '0')}:${sec}` : `${sign}${m}:${sec}`;
}
