/**
 * The visible window of a timeline: which frame sits at the left edge and how many pixels one frame
 * takes. Pure arithmetic, shared by drawing, hit testing and the keyboard/mouse handlers.
 */
export class TimelineView {
  /** Frame (fractional) at x = 0. */
  start = 0;
  /** Pixels per frame. */
  scale = 1;
  width = 1;
  frameCount = 1;

  /** Fit the whole video into `width` pixels. */
  fit(width: number, frameCount: number): void {
    this.width = Math.max(1, width);
    this.frameCount = Math.max(1, frameCount);
    this.scale = this.width / this.frameCount;
    this.start = 0;
  }

  resize(width: number): void {
    const wasFit = Math.abs(this.scale - this.minScale) < 1e-9;
    this.width = Math.max(1, width);
    if (wasFit || this.scale < this.minScale) this.scale = this.minScale;
    this.clamp();
  }

  get minScale(): number {
    return this.width / this.frameCount;
  }

  /** At most 40 px per frame: enough to see and grab single frames. */
  get maxScale(): number {
    return 40;
  }

  get end(): number {
    return this.start + this.width / this.scale;
  }

  x(frame: number): number {
    return (frame - this.start) * this.scale;
  }

  frameAt(x: number): number {
    return this.start + x / this.scale;
  }

  /** Zoom by `factor` keeping the frame under `x` where it is (Ctrl+wheel around the cursor). */
  zoomAround(x: number, factor: number): void {
    const anchor = this.frameAt(x);
    this.scale = Math.min(this.maxScale, Math.max(this.minScale, this.scale * factor));
    this.start = anchor - x / this.scale;
    this.clamp();
  }

  panBy(dx: number): void {
    this.start += dx / this.scale;
    this.clamp();
  }

  /** Scroll just enough that `frame` is visible, keeping a margin. */
  reveal(frame: number): void {
    const margin = (this.width / this.scale) * 0.05;
    if (frame < this.start + margin) this.start = frame - margin;
    else if (frame + 1 > this.end - margin) this.start = frame + 1 + margin - this.width / this.scale;
    this.clamp();
  }

  private clamp(): void {
    const span = this.width / this.scale;
    this.start = Math.max(0, Math.min(this.start, Math.max(0, this.frameCount - span)));
  }
}

/** A tick spacing in frames that gives labels about `minPx` apart: 1,2,5 × 10^k frames or whole seconds. */
export function tickStep(scale: number, fps: number, minPx = 80): { frames: number; unit: 'frame' | 'second' } {
  const minFrames = minPx / scale;
  if (minFrames <= fps / 2) {
    for (const f of [1, 2, 5, 10, 25, 50]) if (f >= minFrames && f < fps) return { frames: f, unit: 'frame' };
  }
  const minSeconds = minFrames / Math.max(1, fps);
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]) if (s >= minSeconds) return { frames: s, unit: 'second' };
  return { frames: 7200, unit: 'second' };
}

/**
 * Index of the first item that can overlap [frame, …) in items sorted by start frame, given the
 * longest item's length: where drawing of the visible range begins.
 */
export function firstVisible(sortedByStart: readonly { startFrame: number }[], frame: number, maxLength: number): number {
  const from = frame - maxLength;
  let lo = 0;
  let hi = sortedByStart.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sortedByStart[mid].startFrame < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
