import { spawn } from 'node:child_process';
import { UserError } from '../errors.ts';
import type { FfmpegTools } from './locate.ts';
import { fixedRecords, lastLine, runTool, stderrTail } from './process.ts';
import { containerStartTime } from './probe.ts';
import { cropFilter, cropGeometry, reverseFrames, segmentIndices, uprightFilters, type CropGeometry, type CropPolicy, type Rng, type SampleMode } from './sampling.ts';

/** What decoding needs to know about a video (a VideoProbe or a stored video record both fit). */
export interface DecodableVideo {
  path: string;
  displayWidth: number | null;
  displayHeight: number | null;
  /** Presentation time of every frame (seconds from the file's start); frame i is framePts[i]. */
  framePts: Float64Array | null;
  /**
   * Clockwise rotation as probed. When given, only the sampled frames are turned upright (faster for phone
   * videos); when absent, ffmpeg turns every decoded frame.
   */
  rotation?: number | null;
}

/** Input flags and the filter chain after `select`: turn upright (if the rotation is known), then `shape` (crop, resize). */
function pictureSteps(video: DecodableVideo, shape: string): { inputFlags: string[]; filters: string } {
  const known = typeof video.rotation === 'number';
  return {
    inputFlags: known ? ['-noautorotate'] : [],
    filters: [...(known ? uprightFilters(video.rotation!) : []), shape].join(','),
  };
}

export interface SampleOptions {
  /** First frame of the span (inclusive). */
  start: number;
  /** End of the span (exclusive). */
  end: number;
  /** T: how many frames to take. */
  frames: number;
  mode: SampleMode;
  /** S: output side in pixels. */
  size: number;
  crop: CropPolicy;
  reversed?: boolean;
  rng?: Rng;
  signal?: AbortSignal;
}

/** A decoded clip: `data` is uint8 RGB laid out [T, S, S, 3]; `frameIndices[t]` is the source frame of row t. */
export interface SampledClip {
  data: Uint8Array;
  frameIndices: number[];
}

function checkedTimes(video: DecodableVideo): Float64Array {
  if (!video.framePts || video.framePts.length === 0 || !video.displayWidth || !video.displayHeight) {
    throw new UserError('invalid_input', `${video.path}: the video has not been probed (no frame timestamps); add it to the project again.`);
  }
  return video.framePts;
}

/** How far from frame i's timestamp a decoded frame still counts as frame i: a quarter of the gap to its neighbours. */
function timeTolerance(times: Float64Array, i: number): number {
  const before = i > 0 ? times[i]! - times[i - 1]! : Infinity;
  const after = i + 1 < times.length ? times[i + 1]! - times[i]! : Infinity;
  return Math.min(before, after, 2) / 4;
}

/**
 * `select` expression keeping exactly the given frames, matched by their absolute timestamp (run with
 * `-copyts`) within a quarter of the gap to their neighbours. Matching by time rather than by count stays
 * exact wherever a demuxer's seek lands.
 */
function selectByTime(times: Float64Array, frames: number[], startTime: number): string {
  return frames
    .map((i) => `lt(abs(t-${(times[i]! + startTime).toFixed(6)})\\,${timeTolerance(times, i).toFixed(6)})`)
    .join('+');
}

/**
 * Where to seek before frame `index`: halfway between its timestamp and the previous frame's (so the
 * accurate seek can neither drop it nor keep its predecessor), minus `margin` seconds; null = from the start.
 */
function seekTimeFor(times: Float64Array, index: number, margin: number): number | null {
  if (index <= 0) return null;
  const seek = (times[index - 1]! + times[index]!) / 2 - margin;
  return seek > 0 ? seek : null;
}

function decodeFailure(video: DecodableVideo, frame: number, stderr: string): UserError {
  return new UserError('invalid_input', `${video.path}: frame ${frame} could not be decoded (${lastLine(stderr)}); the file may be truncated or damaged.`);
}

/**
 * Runs one ffmpeg decode that keeps `count` frames, the first of them source frame `first`: `select` picks
 * them by timestamp (run with `-copyts`), `filters` shape them into `frameBytes`-sized rgb24 pictures. The
 * seek lands just before `first`; some demuxers (MPEG-TS) land after the requested time, so a short decode
 * backs off, then decodes from the start.
 */
async function decodeSelected(
  tools: FfmpegTools,
  video: DecodableVideo,
  picks: { first: number; count: number; select: string },
  picture: { inputFlags: string[]; filters: string },
  frameBytes: number,
  signal: AbortSignal | undefined,
): Promise<Buffer> {
  const times = checkedTimes(video);
  const decode = async (margin: number) => {
    const seek = seekTimeFor(times, picks.first, margin);
    const out = await runTool(tools.ffmpeg, [
      '-v', 'error', '-nostdin',
      ...(seek === null ? [] : ['-ss', seek.toFixed(6)]),
      '-copyts', ...picture.inputFlags, '-i', video.path,
      '-an', '-sn', '-dn',
      '-vf', `select=${picks.select}${picture.filters ? `,${picture.filters}` : ''}`,
      ...tools.passthroughFlags,
      '-frames:v', String(picks.count),
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    ], { signal });
    return { out, decoded: Math.floor(out.stdout.length / frameBytes), fromStart: seek === null };
  };
  let attempt = await decode(0);
  if (attempt.decoded < picks.count && !attempt.fromStart) attempt = await decode(10);
  if (attempt.decoded < picks.count && !attempt.fromStart) attempt = await decode(Infinity);
  const { out, decoded } = attempt;
  if (decoded < picks.count) throw decodeFailure(video, picks.first + decoded, out.stderr);
  return out.stdout;
}

function checkedSpan(video: DecodableVideo, start: number, end: number): Float64Array {
  const times = checkedTimes(video);
  if (end > times.length || start < 0) {
    throw new UserError('invalid_input', `${video.path}: the span [${start}, ${end}) is outside the video's ${times.length} frames.`);
  }
  return times;
}

/**
 * Decodes T frames of a span, frame-exact, as the model sees them: TSN segment sampling (`center` or
 * `random`), crop policy `center` or `train`, forward or reversed. Frame i is the frame whose probed
 * timestamp is framePts[i], matched by timestamp in the decoded stream, never by time × fps, so
 * variable-frame-rate files are exact. Safe to call from worker threads; one short ffmpeg run per call.
 */
export async function sampleClip(tools: FfmpegTools, video: DecodableVideo, opts: SampleOptions): Promise<SampledClip> {
  return sampleFrames(tools, video, { ...planSample(video, opts), reversed: opts.reversed, signal: opts.signal });
}

/**
 * Which frames and which crop a sample takes: every random draw of `sampleClip`, in its order, so other ways
 * of serving the same sample (the training frame cache) stay reproducible with the same seed.
 */
export function planSample(video: DecodableVideo, opts: SampleOptions): { indices: number[]; geometry: CropGeometry } {
  checkedSpan(video, opts.start, opts.end);
  const rng = opts.rng ?? Math.random;
  const indices = segmentIndices(opts.start, opts.end, opts.frames, opts.mode, rng);
  return { indices, geometry: cropGeometry(video.displayWidth!, video.displayHeight!, opts.size, opts.crop, rng) };
}

/** `sampleClip` with the frames and the crop already chosen. */
export async function sampleFrames(
  tools: FfmpegTools,
  video: DecodableVideo,
  pick: { indices: number[]; geometry: CropGeometry; reversed?: boolean; signal?: AbortSignal },
): Promise<SampledClip> {
  const { indices, geometry } = pick;
  const times = checkedTimes(video);
  const unique = [...new Set(indices)].sort((a, b) => a - b);
  const frameBytes = geometry.size * geometry.size * 3;
  const select = selectByTime(times, unique, await containerStartTime(tools, video.path));
  const decoded = await decodeSelected(tools, video, { first: unique[0]!, count: unique.length, select }, pictureSteps(video, cropFilter(geometry)), frameBytes, pick.signal);

  return assembleClip(indices, frameBytes, pick.reversed, (frame) => {
    const row = unique.indexOf(frame);
    return decoded.subarray(row * frameBytes, (row + 1) * frameBytes);
  });
}

/** A [T, S, S, 3] clip of the pictures of `indices` (`frameBytes` each), in play order or reversed. */
export function assembleClip(indices: number[], frameBytes: number, reversed: boolean | undefined, pictureOf: (frame: number) => Uint8Array): SampledClip {
  const data = new Uint8Array(indices.length * frameBytes);
  indices.forEach((frame, t) => data.set(pictureOf(frame), t * frameBytes));
  if (reversed) return { data: reverseFrames(data, indices.length), frameIndices: [...indices].reverse() };
  return { data, frameIndices: indices };
}

/** Every frame of a span, upright and scaled to `width` × `height`: uint8 RGB laid out [end − start, height, width, 3]. */
export interface DecodedSpan {
  start: number;
  end: number;
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decodes every frame of [start, end) in one ffmpeg run, scaled to `width` × `height` (bilinear), for
 * callers that sample the same span many times (training's frame cache). Frames are matched by timestamp
 * as in `sampleClip`.
 */
export async function decodeSpan(
  tools: FfmpegTools,
  video: DecodableVideo,
  span: { start: number; end: number; width: number; height: number; signal?: AbortSignal },
): Promise<DecodedSpan> {
  const times = checkedSpan(video, span.start, span.end);
  if (span.end <= span.start) throw new UserError('invalid_input', `${video.path}: the span [${span.start}, ${span.end}) is empty.`);
  const startTime = await containerStartTime(tools, video.path);
  const from = times[span.start]! + startTime - timeTolerance(times, span.start);
  const to = times[span.end - 1]! + startTime + timeTolerance(times, span.end - 1);
  const picture = pictureSteps(video, `scale=${span.width}:${span.height}:flags=bilinear`);
  const count = span.end - span.start;
  const frameBytes = span.width * span.height * 3;
  const decoded = await decodeSelected(tools, video, { first: span.start, count, select: `between(t\\,${from.toFixed(6)}\\,${to.toFixed(6)})` }, picture, frameBytes, span.signal);
  return { start: span.start, end: span.end, width: span.width, height: span.height, data: new Uint8Array(decoded.buffer, decoded.byteOffset, count * frameBytes) };
}

export interface WindowOptions {
  /** Window length, in `unit`s. */
  window: number;
  /** Step between window starts, in `unit`s. */
  stride: number;
  /** `seconds` are turned into frames with the video's average frame rate. Default `frames`. */
  unit?: 'frames' | 'seconds';
  /** T sampled frames per window (TSN centre sampling inside the window). */
  frames: number;
  /** S: output side (centre crop). */
  size: number;
  /** Only windows first … first + count − 1 (a shard of a long video); frame numbering stays the video's. */
  range?: { first: number; count: number };
  signal?: AbortSignal;
}

/** One window of a sliding-window pass: frames [startFrame, endFrame), sampled to uint8 [T, S, S, 3]. */
export interface VideoWindow {
  index: number;
  startFrame: number;
  endFrame: number;
  frameIndices: number[];
  data: Uint8Array;
}

/** The windows a sliding-window pass produces: [j·stride, j·stride + window), clamped to the video. */
export function windowSpans(frameCount: number, windowFrames: number, strideFrames: number): Array<[number, number]> {
  if (windowFrames >= frameCount) return [[0, frameCount]];
  const count = Math.floor((frameCount - windowFrames) / strideFrames) + 1;
  return Array.from({ length: count }, (_, j) => [j * strideFrames, j * strideFrames + windowFrames] as [number, number]);
}

function toFrames(value: number, unit: 'frames' | 'seconds', fps: number, what: string): number {
  const frames = unit === 'seconds' ? Math.round(value * fps) : value;
  if (!Number.isInteger(frames) || frames < 1) throw new UserError('invalid_input', `The ${what} must be at least one frame, got ${value} ${unit}.`);
  return frames;
}

/**
 * Streams sliding windows over a whole video for inference: one sequential ffmpeg decode from the first
 * frame, each frame decoded once and counted (frame i = the i-th decoded frame), only the sampled frames
 * turned, cropped and resized, windows handed out in order as soon as their last frame arrives. Frames
 * after the last whole window are not covered. Breaking out of the loop stops ffmpeg.
 */
export async function* slidingWindows(tools: FfmpegTools, video: DecodableVideo, opts: WindowOptions): AsyncGenerator<VideoWindow> {
  const times = checkedTimes(video);
  const frameCount = times.length;
  const unit = opts.unit ?? 'frames';
  const fps = frameCount > 1 ? (frameCount - 1) / (times[frameCount - 1]! - times[0]!) : 1;
  const windowFrames = toFrames(opts.window, unit, fps, 'window');
  const strideFrames = toFrames(opts.stride, unit, fps, 'stride');
  const first = opts.range?.first ?? 0;
  const spans = windowSpans(frameCount, windowFrames, strideFrames).slice(first, opts.range ? first + opts.range.count : undefined);
  if (!spans.length) return;
  const perWindow = spans.map(([s, e]) => segmentIndices(s, e, opts.frames, 'center'));
  const needed = [...new Set(perWindow.flat())].sort((a, b) => a - b);

  // Every window but a lone short one shares the same offsets, so the selection is periodic: T terms.
  const offsets = [...new Set(perWindow[0]!.map((i) => i - spans[0]![0]))];
  const lastStart = spans.at(-1)![0];
  const select = offsets
    .map((o) => `gte(n\\,${o + spans[0]![0]})*lte(n\\,${o + lastStart})*not(mod(n-${o}\\,${strideFrames}))`)
    .join('+');
  const picture = pictureSteps(video, cropFilter(cropGeometry(video.displayWidth!, video.displayHeight!, opts.size, 'center')));
  const child = spawn(tools.ffmpeg, [
    '-v', 'error', '-nostdin', ...picture.inputFlags, '-i', video.path, '-an', '-sn', '-dn',
    '-vf', `select=${select},${picture.filters}`,
    ...tools.passthroughFlags,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ], { windowsHide: true, signal: opts.signal });
  const stderr = stderrTail(child);
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', resolve);
    child.on('error', () => resolve(null));
  });

  const frameBytes = opts.size * opts.size * 3;
  const held = new Map<number, Buffer>();
  let received = 0;
  let next = 0;
  try {
    for await (const frame of fixedRecords(child.stdout, frameBytes)) {
      held.set(needed[received]!, frame);
      received++;
      const newest = needed[received - 1]!;
      while (next < spans.length && perWindow[next]!.at(-1)! <= newest) {
        const indices = perWindow[next]!;
        const data = new Uint8Array(indices.length * frameBytes);
        indices.forEach((i, t) => data.set(held.get(i)!, t * frameBytes));
        yield { index: first + next, startFrame: spans[next]![0], endFrame: spans[next]![1], frameIndices: indices, data };
        next++;
        const keepFrom = next < spans.length ? perWindow[next]![0]! : Infinity;
        for (const key of held.keys()) if (key < keepFrom) held.delete(key);
      }
      if (received === needed.length) break;
    }
    if (received === needed.length) return; // the frames after the last window are never decoded
    await exited;
    if (opts.signal?.aborted) throw new UserError('cancelled', 'Sliding-window decoding was cancelled.');
    if (received < needed.length) throw decodeFailure(video, needed[received]!, stderr());
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
