/**
 * Renders demo frames as packed RGB bytes (rgb24, row-major): a textured background and one anti-aliased
 * object, blended with the object's opacity.
 */
import type { BackgroundSpec, ObjectShape, ObjectState, Rgb, SegmentPlan } from './actions.ts';

/** Sub-pixel samples per axis for the object's edge coverage. */
const SUPERSAMPLE = 3;

/** Whether a point in the object's unit frame (radius 1, before rotation) lies inside the shape. */
function inside(shape: ObjectShape, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
    case 'triangle':
      // Equilateral, a vertex pointing along +u: three edges at distance 0.5 from the centre.
      return -u <= 0.5 && 0.5 * u + 0.866 * v <= 0.5 && 0.5 * u - 0.866 * v <= 0.5;
    case 'ring': {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
    case 'star': {
      const r = Math.hypot(u, v);
      const lobe = (1 + Math.cos(5 * Math.atan2(v, u))) / 2;
      return r <= 0.4 + 0.6 * lobe * lobe;
    }
  }
}

/** The marker: a dark cap on one side of the object, turning with it; large enough to read at the model's input. */
function inMarker(u: number, v: number): boolean {
  return u >= 0.2 && Math.abs(v) <= 0.55;
}

export function renderBackground(spec: BackgroundSpec, size: number): Uint8Array {
  const out = new Uint8Array(size * size * 3);
  const [a, b] = spec.colours;
  const cos = Math.cos(spec.angle);
  const sin = Math.sin(spec.angle);
  const k = (2 * Math.PI) / spec.period;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const along = x * cos + y * sin;
      const across = -x * sin + y * cos;
      let mix: number;
      switch (spec.family) {
        case 'stripes':
          mix = 0.5 + 0.5 * Math.sin(k * along + spec.phase);
          break;
        case 'plaid':
          // Two soft gratings at right angles, the second one finer.
          mix = 0.5 + 0.25 * Math.sin(k * along + spec.phase) + 0.25 * Math.sin(1.7 * k * across);
          break;
        case 'checker':
          mix = Math.sin(k * along + spec.phase) * Math.sin(k * across) >= 0 ? 0.85 : 0.15;
          break;
        case 'dots': {
          const du = ((along / spec.period + spec.phase) % 1 + 1) % 1 - 0.5;
          const dv = ((across / spec.period) % 1 + 1) % 1 - 0.5;
          mix = Math.max(0, Math.min(1, (0.3 - Math.hypot(du, dv)) * 12));
          break;
        }
        case 'blobs': {
          let sum = 0;
          for (const blob of spec.blobs) sum += Math.exp(-((x - blob.x) ** 2 + (y - blob.y) ** 2) / (blob.radius * blob.radius));
          mix = Math.min(1, sum) * (0.75 + 0.25 * Math.sin(k * along + spec.phase));
          break;
        }
      }
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[i + c] = Math.round(a[c] + (b[c] - a[c]) * mix);
    }
  }
  return out;
}

/** Draws the object over a copy of the background. */
export function renderFrame(
  background: Uint8Array,
  size: number,
  shape: ObjectShape,
  colour: Rgb,
  marker: Rgb | null,
  state: ObjectState,
): Uint8Array {
  const frame = Uint8Array.from(background);
  if (state.alpha <= 0) return frame;
  const cos = Math.cos(state.angle);
  const sin = Math.sin(state.angle);
  const reach = state.size + 1;
  const x0 = Math.max(0, Math.floor(state.x - reach));
  const x1 = Math.min(size - 1, Math.ceil(state.x + reach));
  const y0 = Math.max(0, Math.floor(state.y - reach));
  const y1 = Math.min(size - 1, Math.ceil(state.y + reach));
  const weight = state.alpha / (SUPERSAMPLE * SUPERSAMPLE);
  const paint = [0, 0, 0];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let cover = 0;
      paint.fill(0);
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const dx = (x + (sx + 0.5) / SUPERSAMPLE - state.x) / state.size;
          const dy = (y + (sy + 0.5) / SUPERSAMPLE - state.y) / state.size;
          // Screen → object frame: undo the rotation (y points down, so a growing angle turns clockwise).
          const u = dx * cos + dy * sin;
          const v = -dx * sin + dy * cos;
          if (!inside(shape, u, v)) continue;
          const c = marker && inMarker(u, v) ? marker : colour;
          cover += weight;
          paint[0] += c[0] * weight;
          paint[1] += c[1] * weight;
          paint[2] += c[2] * weight;
        }
      }
      if (cover === 0) continue;
      const i = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) frame[i + c] = Math.round(frame[i + c] * (1 - cover) + paint[c]);
    }
  }
  return frame;
}

/** Every frame of one segment, in play order. */
export function* renderSegment(segment: SegmentPlan, size: number): Generator<Uint8Array> {
  const background = renderBackground(segment.background, size);
  for (const state of segment.states) yield renderFrame(background, size, segment.shape, segment.colour, segment.marker, state);
}
