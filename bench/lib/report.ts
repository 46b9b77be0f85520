/** Shared helpers for bench suites: timing and one JSON line per figure. */

export interface Figure {
  suite: string;
  figure: string;
  value: number;
  unit: string;
  [extra: string]: unknown;
}

export function report(figure: Figure): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** A ratio between two figures measured in this run, with its target and whether it is met. */
export function reportRatio(suite: string, figure: string, ratio: number, target: { max?: number; min?: number }): void {
  const ok = (target.max === undefined || ratio <= target.max) && (target.min === undefined || ratio >= target.min);
  report({ suite, figure, value: round(ratio, 3), unit: 'ratio', target: target.max !== undefined ? `<= ${target.max}` : `>= ${target.min}`, ok });
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Median wall time of `fn` in ms after `warmup` calls; repeats until `minMs` has passed or `maxReps` ran. */
export async function timeMedian(fn: () => Promise<void> | void, opts: { warmup?: number; minMs?: number; maxReps?: number; minReps?: number } = {}): Promise<number> {
  const { warmup = 2, minMs = 1500, maxReps = 20, minReps = 3 } = opts;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minReps || (times.length < maxReps && performance.now() - start < minMs)) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Best (minimum) wall time of each function, measured in interleaved rounds. On a shared machine the
 * minimum is the run least disturbed by other processes, and interleaving exposes every function to the
 * same load, so ratios between them stay meaningful.
 */
export async function timeInterleaved(fns: Array<() => Promise<void> | void>, opts: { warmup?: number; rounds?: number } = {}): Promise<number[]> {
  const { warmup = 1, rounds = 10 } = opts;
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const best = fns.map(() => Infinity);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      best[i] = Math.min(best[i]!, performance.now() - t0);
    }
  }
  return best;
}
