/**
 * Classification figures computed from plain arrays (no tensors): softmax, top-1, per-class
 * precision / recall / F1, the confusion matrix, and the Jensen–Shannon divergence used by the probe.
 */

export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Clips whose true class is this one. */
  support: number;
}

export interface Evaluation {
  top1: number;
  /** Keyed by class name, in the model's class order. */
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted] counts, rows and columns in the model's class order. */
  confusion: number[][];
}

export function softmax(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i] - max);
    sum += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Confusion matrix, top-1 and per-class P/R/F1; a class never predicted (or never present) scores 0. */
export function evaluate(truth: readonly number[], predicted: readonly number[], classNames: readonly string[]): Evaluation {
  const k = classNames.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  truth.forEach((t, i) => {
    confusion[t][predicted[i]] += 1;
    if (t === predicted[i]) correct += 1;
  });
  const perClass: Record<string, ClassMetrics> = {};
  classNames.forEach((name, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    perClass[name] = { precision, recall, f1, support };
  });
  return { top1: truth.length > 0 ? correct / truth.length : 0, perClass, confusion };
}

/**
 * Jensen–Shannon divergence in bits (log base 2), so 0 = identical distributions and 1 = disjoint ones.
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) js += 0.5 * p[i] * Math.log2(p[i] / m);
    if (q[i] > 0) js += 0.5 * q[i] * Math.log2(q[i] / m);
  }
  return Math.max(0, js);
}
