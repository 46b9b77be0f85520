/**
 * Test videos made with ffmpeg in test setup (no binary fixtures). Reused by every area that needs video.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireFfmpegTools } from '../../src-main/core/media/locate.ts';
import { cropGeometry } from '../../src-main/core/media/sampling.ts';

const run = promisify(execFile);

export type TestCodec = 'h264' | 'hevc' | 'mpeg4' | 'prores';

export interface TestVideoOptions {
  /** Number of frames (default 30). */
  frames?: number;
  /** Frame rate (default 25). With `vfr`, the mean rate is lower: every other gap is doubled. */
  fps?: number;
  /** [width, height] in pixels (default [160, 120]); odd sizes use 4:4:4 chroma so x264 accepts them. */
  size?: [number, number];
  codec?: TestCodec;
  /**
   * Paint each frame's index as a 4×4 grid of black/white cells (bit k = cell k, row-major, lowest bit top-left),
   * so decoded frames can be checked with `frameIndexOf`.
   */
  frameIndexCoded?: boolean;
  /** Variable frame rate: gaps alternate 1/fps and 2/fps. */
  vfr?: boolean;
  /** Rotation metadata (degrees) written into the container, as phones do. */
  rotation?: 0 | 90 | 180 | 270;
  /** Add a sine-tone audio track. */
  audio?: boolean;
  /** MP4 index at the front (as streaming files have): a cut copy stays readable up to the cut. */
  faststart?: boolean;
  /** Keyframe interval in frames (encoder default otherwise). */
  gop?: number;
  /** B-frames between references (h264/hevc), so decode order differs from display order. */
  bframes?: number;
}

const ENCODERS: Record<TestCodec, string[]> = {
  h264: ['-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12'],
  hevc: ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error'],
  mpeg4: ['-c:v', 'mpeg4', '-q:v', '2'],
  prores: ['-c:v', 'prores_ks', '-profile:v', '0'],
};

/** The bit pattern `frameIndexCoded` paints, as an ffmpeg geq luma expression. */
const INDEX_PATTERN = "geq=lum='255*mod(floor(N/pow(2\\,floor(X*4/W)+4*floor(Y*4/H)))\\,2)':cb=128:cr=128";

/** Makes a test video at `path` (container from the extension) and returns the path. */
export async function makeTestVideo(path: string, opts: TestVideoOptions = {}): Promise<string> {
  const tools = await requireFfmpegTools();
  const { frames = 30, fps = 25, size = [160, 120], codec = 'h264', rotation = 0 } = opts;
  const [width, height] = size;
  const source = opts.frameIndexCoded
    ? `color=black:size=${width}x${height}:rate=${fps},format=yuv444p,${INDEX_PATTERN}`
    : `testsrc2=size=${width}x${height}:rate=${fps},scale=${width}:${height},setsar=1`; // testsrc2 rounds odd sizes
  const filters = opts.vfr ? [`setpts='(N+floor(N/2))/(${fps}*TB)'`] : [];
  const odd = width % 2 === 1 || height % 2 === 1;
  const pixelFormat = codec === 'prores' ? 'yuv422p10le' : odd || opts.frameIndexCoded ? 'yuv444p' : 'yuv420p';
  const args = ['-v', 'error', '-y', '-f', 'lavfi', '-i', source];
  if (opts.audio) args.push('-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=44100`);
  args.push('-map', '0:v');
  if (opts.audio) args.push('-map', '1:a', '-c:a', 'aac', '-shortest');
  if (filters.length) args.push('-vf', filters.join(','));
  if (opts.vfr) args.push('-vsync', 'vfr');
  args.push('-frames:v', String(frames), '-pix_fmt', pixelFormat, ...ENCODERS[codec]);
  if (opts.faststart) args.push('-movflags', '+faststart');
  if (opts.gop) args.push('-g', String(opts.gop));
  if (opts.bframes) args.push('-bf', String(opts.bframes));
  mkdirSync(dirname(path), { recursive: true });
  const target = rotation ? `${path}.unrotated${extensionOf(path)}` : path;
  await run(tools.ffmpeg, [...args, target]);
  if (rotation) {
    await run(tools.ffmpeg, ['-v', 'error', '-y', '-i', target, '-c', 'copy', '-metadata:s:v:0', `rotate=${rotation}`, path]);
    rmSync(target);
  }
  return path;
}

function extensionOf(path: string): string {
  const match = /\.[^./\\]+$/.exec(path);
  return match ? match[0] : '.mp4';
}

/** An audio-only file (AAC in .m4a, or whatever the extension says). */
export async function makeAudioOnly(path: string, seconds = 1): Promise<string> {
  const tools = await requireFfmpegTools();
  await run(tools.ffmpeg, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100', '-t', String(seconds), '-c:a', 'aac', path]);
  return path;
}

/** Copies the first `fraction` of `source` to `path`: a download or copy cut short. */
export function truncateCopy(source: string, path: string, fraction = 0.5): string {
  const bytes = readFileSync(source);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * fraction)));
  return path;
}

/**
 * An H.264 MP4 with one damaged slice, like a file from a flaky camera card: the first IDR slice's header
 * says "P slice" (as in OpenCV's sample box.mp4). ffmpeg skips the broken group of pictures and decodes the
 * rest; Chromium refuses the file at once with a decode error.
 */
export async function makeDamagedH264(path: string, opts: Pick<TestVideoOptions, 'frames' | 'fps' | 'size'> = {}): Promise<string> {
  await makeTestVideo(path, { frames: 60, fps: 25, ...opts, gop: 12, faststart: true });
  const bytes = readFileSync(path);
  // The mdat box holds length-prefixed NAL units (AVCC); the first of type 5 is the first IDR slice.
  let at = bytes.indexOf('mdat') + 4;
  while (at + 5 < bytes.length && (bytes[at + 4]! & 0x1f) !== 5) at += 4 + bytes.readUInt32BE(at);
  // first_mb_in_slice 0 ("1"), slice_type 7 ("0001000") is 0x88; "1" then ue(5) "00110" makes a P slice.
  if (bytes[at + 5] !== 0x88) throw new Error(`unexpected IDR slice header in ${path}`);
  bytes[at + 5] = 0x98;
  writeFileSync(path, bytes);
  return path;
}

/**
 * Reads the frame index painted by `frameIndexCoded` from one centre-cropped RGB frame of side `size`,
 * checking every pixel of the inner half of each cell: returns null if any pixel is neither clearly black
 * nor clearly white, a cell is mixed or cropped away (use a square video). `videoSize` is its display size.
 */
export function frameIndexOf(rgb: Uint8Array, size: number, videoSize: [number, number]): number | null {
  const geometry = cropGeometry(videoSize[0], videoSize[1], size, 'center');
  const sx = geometry.scaledWidth / videoSize[0];
  const sy = geometry.scaledHeight / videoSize[1];
  let index = 0;
  for (let cell = 0; cell < 16; cell++) {
    const col = cell % 4;
    const row = Math.floor(cell / 4);
    // Inner half of the cell in video coordinates, mapped into the crop.
    const x0 = Math.ceil(((col + 0.25) * videoSize[0]) / 4 * sx) - geometry.x;
    const x1 = Math.floor(((col + 0.75) * videoSize[0]) / 4 * sx) - geometry.x;
    const y0 = Math.ceil(((row + 0.25) * videoSize[1]) / 4 * sy) - geometry.y;
    const y1 = Math.floor(((row + 0.75) * videoSize[1]) / 4 * sy) - geometry.y;
    let bit: number | null = null;
    let seen = 0;
    for (let y = Math.max(0, y0); y < Math.min(size, y1); y++) {
      for (let x = Math.max(0, x0); x < Math.min(size, x1); x++) {
        const o = (y * size + x) * 3;
        const mean = (rgb[o]! + rgb[o + 1]! + rgb[o + 2]!) / 3;
        const value = mean > 200 ? 1 : mean < 55 ? 0 : -1;
        if (value < 0 || (bit !== null && value !== bit)) return null;
        bit = value;
        seen++;
      }
    }
    if (seen === 0) return null; // the crop cut this cell away: use a square video
    if (bit) index |= 1 << cell;
  }
  return index;
}
