import { describe, expect, it } from 'vitest';
import { HeatPyramid } from '../../../src-renderer/src/lib/heat-pyramid.ts';

/** 2000 overlapping windows of 16 frames, stride 5, over 10k frames, with a spike at window 777. */
function track() {
  const n = 2000;
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  const probs = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    starts[i] = i * 5;
    ends[i] = i * 5 + 16;
    probs[i] = i === 777 ? 0.99 : 0.3 + 0.2 * Math.sin(i / 50);
  }
  return { starts, ends, probs, frames: 10_000 };
}

function bruteMax(t: ReturnType<typeof track>, f0: number, f1: number): number {
  let m = 0;
  for (let i = 0; i < t.starts.length; i++) if (t.starts[i] < f1 && t.ends[i] > f0 && t.probs[i] > m) m = t.probs[i];
  return m;
}

describe('heat track pyramid', () => {
  it('shows, at one pixel per frame, exactly the highest window probability on each frame', () => {
    const t = track();
    const pyramid = new HeatPyramid(t.frames, t.starts, t.ends, t.probs);
    const out = new Float32Array(400);
    pyramid.sample(3800, 1, out);
    for (let x = 0; x < out.length; x++) expect(out[x]).toBeCloseTo(bruteMax(t, 3800 + x, 3801 + x), 6);
  });

  it('never hides a spike when zoomed out: each pixel shows the max of the frames under it', () => {
    const t = track();
    const pyramid = new HeatPyramid(t.frames, t.starts, t.ends, t.probs);
    const out = new Float32Array(500);
    const scale = 500 / t.frames;
    pyramid.sample(0, scale, out);
    const spikeX = Math.floor((777 * 5) * scale);
    expect(out[spikeX]).toBeCloseTo(0.99, 5);
    for (let x = 0; x < out.length; x++) {
      const f0 = x / scale;
      const f1 = (x + 1) / scale;
      expect(out[x]).toBeGreaterThanOrEqual(bruteMax(t, f0, f1) - 1e-6);
      expect(out[x]).toBeLessThanOrEqual(bruteMax(t, f0 - 32, f1 + 32) + 1e-6);
    }
  });
});
