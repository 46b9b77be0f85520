import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { UserError } from '../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { lastLine, runTool, stderrTail } from './process.ts';

/**
 * Scrub proxies: H.264 copies of a video that Chromium can seek in quickly. A seek decodes forward from
 * the previous keyframe, so its cost grows with the keyframe interval times the picture size. The copy
 * has a keyframe every few frames, no B-frames and at most 720 lines, and keeps every frame at its
 * original timestamp, so frame numbers and labels are those of the original.
 */

/** Tallest picture of a scrub proxy; the player scales it back to the display size. */
export const SCRUB_MAX_HEIGHT = 720;
/** Keyframe interval of a scrub proxy: a seek decodes at most this many frames. */
export const SCRUB_GOP = 6;
/** Copies this small are all-intra: every frame decodes on its own. */
const ALL_INTRA_MAX_HEIGHT = 360;

/**
 * Pixels a worst-case seek may decode before the video needs a scrub proxy. Measured (bench ui):
 * 1080p with a 60-frame keyframe interval (124 Mpx) shows a clicked frame in 157 ms p50 / 236 ms p95,
 * 320×180 with the same interval (3.5 Mpx) in 30 / 61 ms; 25 Mpx keeps a seek well under 100 ms.
 */
export const SLOW_SEEK_PIXELS = 25e6;

/** Why a video does or does not have a scrub proxy, kept next to it so each file is looked at once. */
export interface ScrubDecision {
  /** `not_frame_exact`: the copy's frame timestamps differed from the original's, so it was dropped. */
  proxy: 'made' | 'not_needed' | 'not_frame_exact';
  /** Most frames from one keyframe up to the next (what a seek may have to decode). */
  longestGopFrames: number;
}

/**
 * The first frame whose timestamp differs between the original and the copy (beyond the 0.1 ms the
 * player tolerates when it maps media time to frames), or null when every frame is where it was.
 */
export function firstTimestampMismatch(original: ArrayLike<number>, copy: ArrayLike<number>): number | null {
  for (let i = 0; i < Math.max(original.length, copy.length); i++) {
    if (i >= original.length || i >= copy.length || Math.abs(original[i]! - copy[i]!) > 1e-4) return i;
  }
  return null;
}

/** The rule: a scrub proxy when a seek may decode more than SLOW_SEEK_PIXELS. */
export function needsScrubProxy(video: { width: number | null; height: number | null }, longestGopFrames: number): boolean {
  return longestGopFrames * (video.width ?? 0) * (video.height ?? 0) > SLOW_SEEK_PIXELS;
}

/** The longest run of frames from a keyframe to the next, read from packet flags (no decoding). */
export async function longestGop(tools: FfmpegTools, path: string, signal?: AbortSignal): Promise<number> {
  const out = await runTool(tools.ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=flags', '-of', 'csv=p=0', path], { signal });
  if (out.code !== 0) throw new UserError('invalid_input', `${path}: cannot read its keyframes (${lastLine(out.stderr)}).`);
  let longest = 0;
  let run = 0;
  for (const flags of out.stdout.toString('utf8').split('\n')) {
    if (!flags || flags.includes('D')) continue; // discarded packets are never shown
    if (flags.includes('K')) run = 0;
    run++;
    longest = Math.max(longest, run);
  }
  return longest;
}

function cacheName(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-zA-Z]+/g, '-');
}

/** Where the scrub proxy of a video with this fingerprint lives in `dir` (it may not exist yet). */
export function scrubProxyPath(dir: string, fingerprint: string): string {
  return join(dir, `${cacheName(fingerprint)}.mp4`);
}

function decisionPath(dir: string, fingerprint: string): string {
  return join(dir, `${cacheName(fingerprint)}.json`);
}

/** The recorded decision, or null when the video has not been looked at (or its copy is gone). */
export function scrubDecision(dir: string, fingerprint: string | null): ScrubDecision | null {
  if (!fingerprint || !existsSync(decisionPath(dir, fingerprint))) return null;
  const decision = JSON.parse(readFileSync(decisionPath(dir, fingerprint), 'utf8')) as ScrubDecision;
  return decision.proxy === 'made' && !existsSync(scrubProxyPath(dir, fingerprint)) ? null : decision;
}

/** The ready scrub proxy of a video, or null. */
export function cachedScrubProxy(dir: string, fingerprint: string | null): string | null {
  return scrubDecision(dir, fingerprint)?.proxy === 'made' ? scrubProxyPath(dir, fingerprint!) : null;
}

/** Records the decision; written after the copy, so an interrupted copy is made again next time. */
export function recordScrubDecision(dir: string, fingerprint: string, decision: ScrubDecision): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(decisionPath(dir, fingerprint), JSON.stringify(decision));
}

/** Deletes a video's scrub proxy and its decision. */
export function removeScrubProxy(dir: string, fingerprint: string | null): void {
  if (!fingerprint) return;
  rmSync(scrubProxyPath(dir, fingerprint), { force: true });
  rmSync(decisionPath(dir, fingerprint), { force: true });
}

/** ffmpeg arguments of the copy: short GOP, no B-frames, fast-decoding H.264, original timestamps. */
function scrubArgs(tools: FfmpegTools, source: string, height: number, target: string): string[] {
  const outHeight = Math.min(SCRUB_MAX_HEIGHT, height);
  const gop = outHeight <= ALL_INTRA_MAX_HEIGHT ? 1 : SCRUB_GOP;
  return [
    '-v', 'error', '-nostdin', '-y', '-i', source,
    '-map', '0:v:0', '-map', '0:a:0?',
    // Even sides for 4:2:0; ffmpeg applies rotation first, so the height limit is on the picture as shown.
    '-vf', `scale=w=-2:h='2*trunc(min(${SCRUB_MAX_HEIGHT},ih)/2)'`, '-pix_fmt', 'yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'fastdecode', '-crf', '23',
    '-g', String(gop), '-keyint_min', String(gop), '-bf', '0',
    // Every frame kept at its timestamp. (A finer encoder time base, -enc_time_base -1, makes the bundled
    // ffmpeg build cut the last frame by an edit list; copies are checked frame by frame instead.)
    ...tools.passthroughFlags,
    '-c:a', 'aac', '-b:a', '128k',
    '-movflags', '+faststart', '-progress', 'pipe:1', target,
  ];
}

/**
 * Makes the scrub proxy of a video at `target` (written to a temp file and renamed, so a half-made copy
 * never looks finished). `onProgress` gets the fraction done.
 */
export function makeScrubProxy(
  tools: FfmpegTools,
  source: { path: string; durationS: number | null; displayHeight: number | null; height: number | null },
  target: string,
  opts: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  mkdirSync(join(target, '..'), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp.mp4`;
  const height = source.displayHeight ?? source.height ?? SCRUB_MAX_HEIGHT;
  const cancelled = () => new UserError('cancelled', 'Scrub proxy cancelled.');
  return new Promise((resolve, reject) => {
    const child = spawn(tools.ffmpeg, scrubArgs(tools, source.path, height, temporary), { windowsHide: true, signal: opts.signal });
    const stderr = stderrTail(child);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const match = /out_time_us=(\d+)/.exec(text);
      if (match && source.durationS) opts.onProgress?.(Math.max(0, Math.min(0.99, Number(match[1]) / 1e6 / source.durationS)));
    });
    child.on('error', (err) => {
      rmSync(temporary, { force: true });
      reject(opts.signal?.aborted ? cancelled() : err);
    });
    child.on('close', (code) => {
      if (code !== 0) {
        rmSync(temporary, { force: true });
        if (opts.signal?.aborted) return reject(cancelled());
        return reject(new UserError('invalid_input', `${source.path}: could not make a scrub proxy (${lastLine(stderr())}).`));
      }
      renameSync(temporary, target);
      opts.onProgress?.(1);
      resolve(target);
    });
  });
}
