/**
 * Max-probability pyramid of one heat track: level 0 holds, per frame, the highest probability of the
 * windows covering it; level k holds the max over 2^k frames. Drawing reads the level whose bins are
 * about one pixel wide, so a frame costs O(width) whatever the number of windows.
 */
export class HeatPyramid {
  readonly levels: Float32Array[];

  constructor(frameCount: number, starts: Int32Array, ends: Int32Array, probs: Float32Array) {
    const base = new Float32Array(Math.max(1, frameCount));
    for (let i = 0; i < starts.length; i++) {
      const p = probs[i];
      const end = Math.min(frameCount, ends[i]);
      for (let f = Math.max(0, starts[i]); f < end; f++) if (p > base[f]) base[f] = p;
    }
    this.levels = [base];
    let prev = base;
    while (prev.length > 1) {
      const next = new Float32Array(Math.ceil(prev.length / 2));
      for (let i = 0; i < next.length; i++) next[i] = Math.max(prev[2 * i], prev[2 * i + 1] ?? 0);
      this.levels.push(next);
      prev = next;
    }
  }

  /**
   * Fills `out[x]` with the highest probability over frames [start + x/scale, start + (x+1)/scale).
   * `scale` is pixels per frame.
   */
  sample(start: number, scale: number, out: Float32Array): void {
    const framesPerPx = 1 / scale;
    const level = Math.max(0, Math.min(this.levels.length - 1, Math.floor(Math.log2(Math.max(1, framesPerPx)))));
    const bins = this.levels[level];
    const binFrames = 2 ** level;
    for (let x = 0; x < out.length; x++) {
      const f0 = start + x * framesPerPx;
      const f1 = f0 + framesPerPx;
      let b0 = Math.floor(f0 / binFrames);
      const b1 = Math.min(bins.length, Math.max(b0 + 1, Math.ceil(f1 / binFrames)));
      let m = 0;
      for (b0 = Math.max(0, b0); b0 < b1; b0++) if (bins[b0] > m) m = bins[b0];
      out[x] = m;
    }
  }
}
