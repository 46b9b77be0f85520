import { UserError } from '../errors.ts';

/** A source of uniform random numbers in [0, 1). Pass a seeded one for reproducible training. */
export type Rng = () => number;

export type SampleMode = 'center' | 'random';
export type CropPolicy = 'center' | 'train';

/** mulberry32: small, fast, seedable. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * TSN segment sampling: split [start, end) into `frames` equal segments and take one frame from each —
 * the middle (`center`, test time) or a random one (`random`, training). Spans shorter than `frames`
 * repeat frames, as TSN does.
 */
export function segmentIndices(start: number, end: number, frames: number, mode: SampleMode, rng: Rng = Math.random): number[] {
  if (!Number.isInteger(start) || !Number.isInteger(end) || end <= start) {
    throw new UserError('invalid_input', `The frame span [${start}, ${end}) is empty; the end frame must be after the start frame.`);
  }
  if (!Number.isInteger(frames) || frames < 1) throw new UserError('invalid_input', `The number of frames must be a positive integer, got ${frames}.`);
  const segment = (end - start) / frames;
  const indices: number[] = [];
  for (let k = 0; k < frames; k++) {
    const within = mode === 'center' ? segment / 2 : rng() * segment;
    indices.push(Math.min(end - 1, start + Math.floor(segment * k + within)));
  }
  return indices;
}

/** A crop in the coordinates of the picture scaled to `scaledWidth` × `scaledHeight`, then resized to the output size. */
export interface CropGeometry {
  scaledWidth: number;
  scaledHeight: number;
  x: number;
  y: number;
  width: number;
  height: number;
  size: number;
}

/** The short side the picture is scaled to before cropping: S·256/224 (256 for S = 224, as in the paper). */
export function shortSideFor(size: number): number {
  return Math.round((size * 256) / 224);
}

const TRAIN_SCALES = [1, 0.875, 0.75, 0.66];

/**
 * Where to crop a `displayWidth` × `displayHeight` picture to get an S×S input.
 * `center`: short side to S·256/224, centre crop S. `train`: TSN multi-scale corner cropping — crop sides
 * from {1, .875, .75, .66} × short side (width and height at most one scale step apart), placed at one of
 * 13 fixed positions (corners, centre, edge middles, quarter points), then resized to S. No flipping:
 * left/right matters for direction-sensitive actions.
 */
export function cropGeometry(displayWidth: number, displayHeight: number, size: number, policy: CropPolicy, rng: Rng = Math.random): CropGeometry {
  const short = shortSideFor(size);
  const scale = short / Math.min(displayWidth, displayHeight);
  const scaledWidth = Math.max(short, Math.round(displayWidth * scale));
  const scaledHeight = Math.max(short, Math.round(displayHeight * scale));
  if (policy === 'center') {
    return { scaledWidth, scaledHeight, width: size, height: size, x: Math.floor((scaledWidth - size) / 2), y: Math.floor((scaledHeight - size) / 2), size };
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < TRAIN_SCALES.length; i++) {
    for (let j = 0; j < TRAIN_SCALES.length; j++) if (Math.abs(i - j) <= 1) pairs.push([i, j]);
  }
  const [wi, hi] = pairs[Math.floor(rng() * pairs.length)]!;
  const width = Math.max(1, Math.round(short * TRAIN_SCALES[wi]!));
  const height = Math.max(1, Math.round(short * TRAIN_SCALES[hi]!));
  const stepX = (scaledWidth - width) / 4;
  const stepY = (scaledHeight - height) / 4;
  const positions: Array<[number, number]> = [
    [0, 0], [4, 0], [0, 4], [4, 4], [2, 2],
    [0, 2], [4, 2], [2, 4], [2, 0],
    [1, 1], [3, 1], [1, 3], [3, 3],
  ];
  const [px, py] = positions[Math.floor(rng() * positions.length)]!;
  return { scaledWidth, scaledHeight, width, height, x: Math.round(px * stepX), y: Math.round(py * stepY), size };
}

/**
 * The ffmpeg filter chain that applies a crop geometry: crop in source pixels first (as fractions of the
 * decoded size, so non-square pixels need no special case), then one resize to S×S — cheaper than
 * scaling the whole picture.
 */
export function cropFilter(geometry: CropGeometry): string {
  const { scaledWidth, scaledHeight, x, y, width, height, size } = geometry;
  const fraction = (value: number, whole: number) => (value / whole).toFixed(6);
  return (
    `crop=w=iw*${fraction(width, scaledWidth)}:h=ih*${fraction(height, scaledHeight)}` +
    `:x=iw*${fraction(x, scaledWidth)}:y=ih*${fraction(y, scaledHeight)},scale=${size}:${size}:flags=bilinear`
  );
}

/**
 * Filters that turn decoded frames upright, for use with `-noautorotate` after `select`, so only the
 * sampled frames are turned. `rotation` is clockwise degrees as probed.
 */
export function uprightFilters(rotation: number): string[] {
  if (rotation === 90) return ['transpose=clock'];
  if (rotation === 270) return ['transpose=cclock'];
  if (rotation === 180) return ['hflip', 'vflip'];
  return [];
}

/** Reverses the frame order of a [T, S, S, 3] clip (the arrow-of-time probe's reversed playback). */
export function reverseFrames(data: Uint8Array, frames: number): Uint8Array {
  const frameBytes = data.length / frames;
  const out = new Uint8Array(data.length);
  for (let t = 0; t < frames; t++) out.set(data.subarray(t * frameBytes, (t + 1) * frameBytes), (frames - 1 - t) * frameBytes);
  return out;
}

/** Source taps and weights of one output pixel along one axis. */
interface Taps {
  index: Int32Array;
  weight: Float32Array;
}

/**
 * Resampling taps for `outputs` pixels covering [from, from + length) of an axis of `extent` pixels: a
 * triangle filter, widened by the scale factor when shrinking so every source pixel counts (ffmpeg's
 * bilinear scaler does the same), pixel centres aligned, edges clamped.
 */
function axisTaps(from: number, length: number, outputs: number, extent: number): Taps[] {
  const step = length / outputs;
  const radius = Math.max(1, step);
  return Array.from({ length: outputs }, (_, o) => {
    const centre = from + (o + 0.5) * step - 0.5;
    const first = Math.ceil(centre - radius);
    const last = Math.floor(centre + radius);
    const index: number[] = [];
    const weight: number[] = [];
    let total = 0;
    for (let i = first; i <= last; i++) {
      const w = 1 - Math.abs(i - centre) / radius;
      if (w <= 0) continue;
      index.push(Math.min(extent - 1, Math.max(0, i)));
      weight.push(w);
      total += w;
    }
    return { index: Int32Array.from(index), weight: Float32Array.from(weight, (w) => w / total) };
  });
}

/**
 * Crops `geometry`'s region out of one rgb24 picture of `width` × `height` (the picture the geometry was
 * planned on, at any resolution) and resamples it to S×S.
 */
export function cropResize(picture: Uint8Array, width: number, height: number, geometry: CropGeometry): Uint8Array {
  const { size } = geometry;
  const sx = width / geometry.scaledWidth;
  const sy = height / geometry.scaledHeight;
  const columns = axisTaps(geometry.x * sx, geometry.width * sx, size, width);
  const rows = axisTaps(geometry.y * sy, geometry.height * sy, size, height);
  // Horizontal pass over only the rows the vertical pass reads, each into its own slot of one buffer.
  const slotOf = new Int32Array(height).fill(-1);
  let slots = 0;
  for (const taps of rows) for (const y of taps.index) if (slotOf[y] === -1) slotOf[y] = slots++;
  const line = size * 3;
  const horizontal = new Float32Array(slots * line);
  for (let y = 0; y < height; y++) {
    const slot = slotOf[y]!;
    if (slot === -1) continue;
    const base = y * width * 3;
    for (let ox = 0; ox < size; ox++) {
      const { index, weight } = columns[ox]!;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < index.length; k++) {
        const p = base + index[k]! * 3;
        const w = weight[k]!;
        r += picture[p]! * w;
        g += picture[p + 1]! * w;
        b += picture[p + 2]! * w;
      }
      const o = slot * line + ox * 3;
      horizontal[o] = r;
      horizontal[o + 1] = g;
      horizontal[o + 2] = b;
    }
  }
  const out = new Uint8Array(size * line);
  for (let oy = 0; oy < size; oy++) {
    const { index, weight } = rows[oy]!;
    const offsets = Int32Array.from(index, (y) => slotOf[y]! * line);
    for (let i = 0; i < line; i++) {
      let v = 0;
      for (let k = 0; k < offsets.length; k++) v += horizontal[offsets[k]! + i]! * weight[k]!;
      out[oy * line + i] = Math.round(v);
    }
  }
  return out;
}
