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

/**
 * Crops `geometry`'s region out of one rgb24 picture of `geometry.scaledWidth` × `geometry.scaledHeight`
 * and resizes it to S×S, bilinear with pixel centres aligned (as ffmpeg's scaler places them).
 */
export function cropResize(picture: Uint8Array, geometry: CropGeometry): Uint8Array {
  const { scaledWidth: width, scaledHeight: height, x, y, size } = geometry;
  const out = new Uint8Array(size * size * 3);
  const stepX = geometry.width / size;
  const stepY = geometry.height / size;
  for (let oy = 0; oy < size; oy++) {
    const sy = Math.min(height - 1, Math.max(0, y + (oy + 0.5) * stepY - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let ox = 0; ox < size; ox++) {
      const sx = Math.min(width - 1, Math.max(0, x + (ox + 0.5) * stepX - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      const a = (y0 * width + x0) * 3;
      const b = (y0 * width + x1) * 3;
      const c = (y1 * width + x0) * 3;
      const d = (y1 * width + x1) * 3;
      const o = (oy * size + ox) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = picture[a + ch]! + (picture[b + ch]! - picture[a + ch]!) * fx;
        const bottom = picture[c + ch]! + (picture[d + ch]! - picture[c + ch]!) * fx;
        out[o + ch] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}
