import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { UserError } from '../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { lastLine, runTool, stderrTail } from './process.ts';

/** A filmstrip sprite: one row of `columns` tiles, tile i showing frame `frames[i]`. */
export interface FilmstripInfo {
  /** The JPEG sprite on disk. */
  path: string;
  columns: number;
  tileWidth: number;
  tileHeight: number;
  frames: number[];
}

export interface FilmstripSource {
  path: string;
  fingerprint: string | null;
  displayWidth: number | null;
  displayHeight: number | null;
  framePts: Float64Array | null;
}

const TILE_HEIGHT = 72;
const MAX_TILES = 24;

function cacheName(fingerprint: string): string {
  return fingerprint.replace(/[^0-9a-zA-Z]+/g, '-');
}

/** Where the sprite of a video with this fingerprint lives in `cacheDir` (it may not exist yet). */
export function filmstripPath(cacheDir: string, fingerprint: string): string {
  return join(cacheDir, `${cacheName(fingerprint)}.jpg`);
}

/** The cached sprite of a video, or null when it has not been made. */
export function cachedFilmstrip(cacheDir: string, fingerprint: string | null): FilmstripInfo | null {
  if (!fingerprint) return null;
  const meta = join(cacheDir, `${cacheName(fingerprint)}.json`);
  const sprite = filmstripPath(cacheDir, fingerprint);
  if (!existsSync(meta) || !existsSync(sprite)) return null;
  return { ...(JSON.parse(readFileSync(meta, 'utf8')) as Omit<FilmstripInfo, 'path'>), path: sprite };
}

/**
 * Makes (or returns the cached) filmstrip sprite of a video: up to 24 evenly spaced frames, 72 px high,
 * in one JPEG row, cached in `cacheDir` by fingerprint so a moved or re-added file reuses it.
 */
export async function makeFilmstrip(
  tools: FfmpegTools,
  video: FilmstripSource,
  cacheDir: string,
  opts: { onProgress?: (fraction: number) => void; signal?: AbortSignal } = {},
): Promise<FilmstripInfo> {
  const { framePts, fingerprint, displayWidth, displayHeight } = video;
  if (!framePts?.length || !fingerprint || !displayWidth || !displayHeight) {
    throw new UserError('invalid_input', `${video.path}: the video has not been probed; add it to the project again.`);
  }
  const cached = cachedFilmstrip(cacheDir, fingerprint);
  if (cached) return cached;
  mkdirSync(cacheDir, { recursive: true });
  const columns = Math.min(MAX_TILES, framePts.length);
  const frames = Array.from({ length: columns }, (_, i) => Math.floor(((i + 0.5) * framePts.length) / columns));
  const tileHeight = TILE_HEIGHT;
  const tileWidth = Math.max(2, 2 * Math.round((tileHeight * displayWidth) / displayHeight / 2));
  const tileBytes = tileWidth * tileHeight * 3;
  const sprite = Buffer.alloc(tileBytes * columns);
  for (let i = 0; i < columns; i++) {
    if (opts.signal?.aborted) throw new UserError('cancelled', 'Filmstrip cancelled.');
    const frame = frames[i]!;
    const seek = frame > 0 ? (framePts[frame - 1]! + framePts[frame]!) / 2 : null;
    const out = await runTool(tools.ffmpeg, [
      '-v', 'error', '-nostdin', ...(seek === null ? [] : ['-ss', seek.toFixed(6)]), '-i', video.path, '-an', '-sn', '-dn',
      '-frames:v', '1', '-vf', `scale=${tileWidth}:${tileHeight}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ], { signal: opts.signal });
    if (out.stdout.length < tileBytes) throw new UserError('invalid_input', `${video.path}: frame ${frame} could not be decoded for the filmstrip (${lastLine(out.stderr)}).`);
    // Tiles sit side by side: copy row by row into the sprite.
    for (let y = 0; y < tileHeight; y++) {
      out.stdout.copy(sprite, (y * columns * tileWidth + i * tileWidth) * 3, y * tileWidth * 3, (y + 1) * tileWidth * 3);
    }
    opts.onProgress?.((i + 1) / (columns + 1));
  }
  const target = filmstripPath(cacheDir, fingerprint);
  const temporary = `${target}.${process.pid}.tmp.jpg`;
  await encodeJpeg(tools, sprite, columns * tileWidth, tileHeight, temporary);
  renameSync(temporary, target);
  const info = { columns, tileWidth, tileHeight, frames };
  writeFileSync(join(cacheDir, `${cacheName(fingerprint)}.json`), JSON.stringify(info));
  opts.onProgress?.(1);
  return { ...info, path: target };
}

function encodeJpeg(tools: FfmpegTools, rgb: Buffer, width: number, height: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tools.ffmpeg, [
      '-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0', '-frames:v', '1', '-q:v', '4', path,
    ], { windowsHide: true });
    const stderr = stderrTail(child);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new UserError('internal', `Could not write the filmstrip ${path}: ${lastLine(stderr())}`))));
    child.stdin.end(rgb);
  });
}
