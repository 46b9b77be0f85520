/**
 * Turns overlapping window probabilities into labelled segments: every frame gets the mean probabilities of
 * the windows that cover it, its label is the top class when that class clears its threshold, runs of one
 * label become segments, and segments shorter than the minimum duration are dropped.
 */

export interface WindowScores {
  startFrame: number;
  /** Exclusive. */
  endFrame: number;
  probabilities: ArrayLike<number>;
}

export interface Segment {
  startFrame: number;
  /** Exclusive. */
  endFrame: number;
  label: string;
  /** Mean probability of the label over the segment's frames. */
  meanScore: number;
}

export interface SegmentOptions {
  /** Per-class probability a frame must reach to carry the class (by name); `defaultThreshold` otherwise. */
  thresholds?: Record<string, number>;
  defaultThreshold?: number;
  /** Segments shorter than this many frames are dropped. */
  minFrames?: number;
}

export function windowsToSegments(
  windows: readonly WindowScores[],
  classNames: readonly string[],
  options: SegmentOptions = {},
): Segment[] {
  if (windows.length === 0) return [];
  const k = classNames.length;
  const first = Math.min(...windows.map((w) => w.startFrame));
  const last = Math.max(...windows.map((w) => w.endFrame));
  const span = last - first;
  // Difference arrays: add each window's probabilities to its frame range in O(classes) per window.
  const sums = new Float64Array((span + 1) * k);
  const counts = new Int32Array(span + 1);
  for (const w of windows) {
    const a = w.startFrame - first;
    const b = w.endFrame - first;
    counts[a] += 1;
    counts[b] -= 1;
    for (let c = 0; c < k; c++) {
      sums[a * k + c] += w.probabilities[c];
      sums[b * k + c] -= w.probabilities[c];
    }
  }
  const thresholds = classNames.map((name) => options.thresholds?.[name] ?? options.defaultThreshold ?? 0.5);
  const minFrames = Math.max(1, options.minFrames ?? 1);
  const segments: Segment[] = [];
  const running = new Float64Array(k);
  let coverage = 0;
  let run: { label: number; start: number; scoreSum: number } | null = null;
  const closeRun = (open: { label: number; start: number; scoreSum: number }, end: number) => {
    if (end - open.start < minFrames) return;
    segments.push({
      startFrame: open.start + first,
      endFrame: end + first,
      label: classNames[open.label],
      meanScore: open.scoreSum / (end - open.start),
    });
  };
  for (let f = 0; f < span; f++) {
    coverage += counts[f];
    let best = -1;
    for (let c = 0; c < k; c++) {
      running[c] += sums[f * k + c];
      if (coverage > 0 && (best < 0 || running[c] > running[best])) best = c;
    }
    const score = best >= 0 ? running[best] / coverage : 0;
    const label = best >= 0 && score >= thresholds[best] ? best : -1;
    if (run && run.label !== label) {
      closeRun(run, f);
      run = null;
    }
    if (label >= 0) {
      run ??= { label, start: f, scoreSum: 0 };
      run.scoreSum += score;
    }
  }
  if (run) closeRun(run, span);
  return segments;
}
