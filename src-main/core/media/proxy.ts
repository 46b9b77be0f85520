import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { spawn } from 'node:child_process';
import { UserError } from '../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { lastLine, stderrTail } from './process.ts';

const PLAYABLE_CODECS = new Set(['h264', 'vp8', 'vp9', 'av1']);
const PLAYABLE_CONTAINERS = new Set(['.mp4', '.m4v', '.mov', '.webm']);

/** Whether Chromium's <video> can play the file as it is; otherwise it needs an H.264 proxy. */
export function playableInChromium(path: string, codec: string | null): boolean {
  return codec !== null && PLAYABLE_CODECS.has(codec) && PLAYABLE_CONTAINERS.has(extname(path).toLowerCase());
}

/**
 * Transcodes a video to an H.264/AAC MP4 that Chromium plays and seeks well (faststart, a keyframe every
 * second), keeping every frame and its timestamp so frame numbers match the original. Written to a temp
 * file and renamed, so a half-made proxy never looks finished.
 */
export function makeProxy(
  tools: FfmpegTools,
  source: { path: string; durationS: number | null },
  target: string,
  opts: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  mkdirSync(dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.tmp.mp4`;
  return new Promise((resolve, reject) => {
    const child = spawn(tools.ffmpeg, [
      '-v', 'error', '-nostdin', '-y', '-i', source.path,
      '-map', '0:v:0', '-map', '0:a:0?',
      '-vf', 'scale=trunc(iw/2)*2:trunc(ih/2)*2', '-pix_fmt', 'yuv420p',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-g', '30',
      '-c:a', 'aac', '-b:a', '128k',
      ...tools.passthroughFlags,
      '-movflags', '+faststart', '-progress', 'pipe:1', temporary,
    ], { windowsHide: true, signal: opts.signal });
    const stderr = stderrTail(child);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      const match = /out_time_us=(\d+)/.exec(text);
      if (match && source.durationS) opts.onProgress?.(Math.min(0.99, Number(match[1]) / 1e6 / source.durationS));
    });
    child.on('error', (err) => {
      rmSync(temporary, { force: true });
      reject(opts.signal?.aborted ? new UserError('cancelled', 'Proxy cancelled.') : err);
    });
    child.on('close', (code) => {
      if (code !== 0) {
        rmSync(temporary, { force: true });
        if (opts.signal?.aborted) return reject(new UserError('cancelled', 'Proxy cancelled.'));
        return reject(new UserError('invalid_input', `${source.path}: could not make a playable copy (${lastLine(stderr())}).`));
      }
      renameSync(temporary, target);
      opts.onProgress?.(1);
      resolve(target);
    });
  });
}
