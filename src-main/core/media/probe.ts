import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { lastLine, runTool, type ToolOutput } from './process.ts';

/** Everything STM Studio needs to know about a video file, read once when it is added. */
export interface VideoProbe {
  path: string;
  name: string;
  fingerprint: string;
  sizeBytes: number;
  durationS: number;
  frameCount: number;
  /** Frames per second averaged over the whole file (frameCount / span of timestamps). */
  fps: number;
  width: number;
  height: number;
  /** Size as shown: sample aspect ratio applied, then rotation (90/270 swap the sides). */
  displayWidth: number;
  displayHeight: number;
  /** Clockwise degrees a player turns the picture: 0, 90, 180 or 270. */
  rotation: number;
  codec: string;
  hasAudio: boolean;
  /**
   * Presentation time of every frame in decode-output order, in seconds from the file's start (the origin
   * ffmpeg's `-ss` uses). Frame i of the project is framePts[i].
   */
  framePts: Float64Array;
  /** Something odd but readable (e.g. fewer frames present than the header promises). */
  warning?: string;
}

const HASH_SPAN = 1 << 20;

/** size + SHA-256 of the first and last MiB: stable under moves and renames, cheap on huge files. */
export async function fingerprintFile(path: string): Promise<string> {
  const { size } = await stat(path);
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(HASH_SPAN, size));
    await handle.read(head, 0, head.length, 0);
    hash.update(head);
    if (size > HASH_SPAN) {
      const tail = Buffer.alloc(Math.min(HASH_SPAN, size - HASH_SPAN));
      await handle.read(tail, 0, tail.length, size - tail.length);
      hash.update(tail);
    }
  } finally {
    await handle.close();
  }
  return `${size}:${hash.digest('hex').slice(0, 32)}`;
}

/** fingerprintFile, synchronously (a job checking its videos in a worker thread). */
export function fingerprintFileSync(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    const hash = createHash('sha256');
    const head = Buffer.alloc(Math.min(HASH_SPAN, size));
    readSync(fd, head, 0, head.length, 0);
    hash.update(head);
    if (size > HASH_SPAN) {
      const tail = Buffer.alloc(Math.min(HASH_SPAN, size - HASH_SPAN));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      hash.update(tail);
    }
    return `${size}:${hash.digest('hex').slice(0, 32)}`;
  } finally {
    closeSync(fd);
  }
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  nb_frames?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number | string }>;
  disposition?: { attached_pic?: number };
}

interface ProbeJson {
  streams?: ProbeStream[];
  format?: { duration?: string; start_time?: string; format_name?: string };
}

function rotationOf(stream: ProbeStream): number {
  const tag = stream.tags?.rotate;
  const side = stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  // The display matrix is what decoders apply; its angle is counter-clockwise. Old ffprobe builds only give the tag.
  const clockwise = side !== undefined ? -Number(side) : tag !== undefined ? Number(tag) : 0;
  const normalised = ((Math.round(clockwise / 90) * 90) % 360 + 360) % 360;
  return Number.isFinite(normalised) ? normalised : 0;
}

function aspectOf(sar: string | undefined): number {
  const match = /^(\d+):(\d+)$/.exec(sar ?? '');
  if (!match) return 1;
  const [num, den] = [Number(match[1]), Number(match[2])];
  return num > 0 && den > 0 ? num / den : 1;
}

function probeFailure(path: string, stderr: string): UserError {
  const reason = lastLine(stderr).replace(/^.*?:\s*(?=[A-Z])/, '');
  if (/moov atom not found|Invalid data found|End of file|could not find codec|Truncat/i.test(stderr)) {
    return new UserError('invalid_input', `${path}: not a readable video (${reason}); the file may be truncated or not a video at all.`);
  }
  return new UserError('invalid_input', `${path}: ffprobe cannot read it (${reason}).`);
}

/** Runs ffprobe, trying the fallback build when the first one crashes (killed by a signal) on this file. */
async function runProbe(tools: FfmpegTools, path: string, args: string[]): Promise<ToolOutput> {
  const out = await runTool(tools.ffprobe, [...args, path]);
  if (out.code !== null) return out;
  if (tools.ffprobeFallback) {
    const again = await runTool(tools.ffprobeFallback, [...args, path]).catch(() => null);
    if (again && again.code !== null) return again;
  }
  throw new UserError('unavailable', `${path}: ffprobe (${tools.ffprobe}) crashed reading this file; set FFPROBE_PATH to another ffprobe build.`);
}

/** Timestamps (seconds from the container start) of packets or decoded frames, in file order. */
async function readTimes(
  tools: FfmpegTools,
  path: string,
  startTime: number,
  source: 'packets' | 'frames',
  interval?: string,
): Promise<{ times: number[]; firstKeyIndex: number }> {
  const entries = source === 'frames' ? 'frame=best_effort_timestamp_time' : 'packet=pts_time,dts_time,flags';
  const out = await runProbe(tools, path, [
    '-v', 'error', '-select_streams', 'v:0', ...(interval ? ['-read_intervals', interval] : []), '-show_entries', entries, '-of', 'csv=p=0',
  ]);
  if (out.code !== 0 && source === 'packets') throw probeFailure(path, out.stderr);
  const times: number[] = [];
  let firstKeyIndex = -1;
  for (const line of out.stdout.toString('utf8').split('\n')) {
    if (!line) continue;
    const [pts, dts = 'N/A', flags = ''] = line.split(',');
    if (flags.includes('D')) continue; // discarded by an edit list: never shown
    if (firstKeyIndex < 0 && flags.includes('K')) firstKeyIndex = times.length;
    const t = Number(pts !== 'N/A' ? pts : dts);
    times.push(Number.isFinite(t) ? t - startTime : Number.NaN);
  }
  return { times, firstKeyIndex };
}

/**
 * Presentation timestamps of every frame, sorted. From packets (one per frame, fast, exact for variable
 * frame rate); packets before the first keyframe (a stream cut mid-GOP) that never decode are dropped.
 * With `decode`, from actually decoded frames — for damaged files whose last packets cannot be decoded.
 */
async function frameTimes(tools: FfmpegTools, path: string, startTime: number, decode = false): Promise<Float64Array> {
  let { times, firstKeyIndex } = await readTimes(tools, path, startTime, decode ? 'frames' : 'packets');
  if (times.some((t) => Number.isNaN(t))) {
    // No timestamps in the container (raw streams): frames are evenly spaced by definition.
    return Float64Array.from(times, (_, i) => i);
  }
  if (!decode && firstKeyIndex > 0) {
    const head = await readTimes(tools, path, startTime, 'frames', `%+#${firstKeyIndex + 32}`);
    const firstShown = Math.min(...head.times.filter((t) => Number.isFinite(t)));
    if (Number.isFinite(firstShown)) times = times.filter((t) => t >= firstShown - 1e-6);
  }
  return Float64Array.from(times).sort();
}

/**
 * Reads a video's facts with ffprobe: size, rotation, codec, audio, fingerprint and the timestamp of every
 * frame (from packets, so variable-frame-rate files are exact). Throws `invalid_input` naming the file
 * for anything that is not a readable video.
 */
export async function probeVideo(tools: FfmpegTools, path: string): Promise<VideoProbe> {
  let sizeBytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UserError('invalid_input', `${path}: not a file.`);
    sizeBytes = info.size;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError('not_found', `${path}: no such file.`);
  }
  if (sizeBytes === 0) throw new UserError('invalid_input', `${path}: the file is empty (0 bytes).`);

  const out = await runProbe(tools, path, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json']);
  if (out.code !== 0) throw probeFailure(path, out.stderr);
  const json = JSON.parse(out.stdout.toString('utf8')) as ProbeJson;
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video) {
    const kinds = streams.map((s) => s.codec_type).filter(Boolean);
    const what = kinds.includes('audio') ? 'it has audio but no video stream' : 'it has no video stream';
    throw new UserError('invalid_input', `${path}: ${what}.`);
  }
  const width = video.width ?? 0;
  const height = video.height ?? 0;
  if (width <= 0 || height <= 0) throw new UserError('invalid_input', `${path}: the video stream has no picture size (${video.codec_name ?? 'unknown codec'}).`);

  const startTime = Number(json.format?.start_time ?? 0) || 0;
  const declared = Number(video.nb_frames);
  let framePts = await frameTimes(tools, path, startTime);
  const truncated = Number.isFinite(declared) && declared > framePts.length;
  if (truncated) framePts = await frameTimes(tools, path, startTime, true);
  if (framePts.length === 0) throw new UserError('invalid_input', `${path}: the video stream has no frames; the file may be truncated.`);

  const frameCount = framePts.length;
  const first = framePts[0];
  const last = framePts[frameCount - 1];
  const meanGap = frameCount > 1 ? (last - first) / (frameCount - 1) : 0;
  const formatDuration = Number(json.format?.duration);
  const durationS = Number.isFinite(formatDuration) && formatDuration > 0 ? formatDuration : last + (meanGap || 0);
  const fps = meanGap > 0 ? 1 / meanGap : frameCount / Math.max(durationS, 1e-9);

  const rotation = rotationOf(video);
  const sarWidth = Math.round(width * aspectOf(video.sample_aspect_ratio));
  const turned = rotation === 90 || rotation === 270;
  const probe: VideoProbe = {
    path,
    name: basename(path),
    fingerprint: await fingerprintFile(path),
    sizeBytes,
    durationS,
    frameCount,
    fps,
    width,
    height,
    displayWidth: turned ? height : sarWidth,
    displayHeight: turned ? sarWidth : height,
    rotation,
    codec: video.codec_name ?? 'unknown',
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
    framePts,
  };
  if (truncated) {
    probe.warning = `only ${frameCount} of the ${declared} frames the header declares can be decoded; the file looks truncated`;
  }
  return probe;
}

const startTimes = new Map<string, { stamp: string; startTime: number }>();

/**
 * The container's start time (seconds): framePts are relative to it, stream timestamps are absolute.
 * Cached per file (path, size and modification time), so repeated sampling pays for it once.
 */
export async function containerStartTime(tools: FfmpegTools, path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (!info) throw new UserError('not_found', `${path}: the video file is missing; relink it.`);
  const stamp = `${info.size}:${info.mtimeMs}`;
  const cached = startTimes.get(path);
  if (cached?.stamp === stamp) return cached.startTime;
  const out = await runProbe(tools, path, ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0']);
  if (out.code !== 0) throw probeFailure(path, out.stderr);
  const startTime = Number(out.stdout.toString('utf8').trim()) || 0;
  startTimes.set(path, { stamp, startTime });
  return startTime;
}
