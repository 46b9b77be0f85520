/**
 * The reversal probe's figures: for each clip, forward and reversed predictions and whether the reversed one
 * is the class the reversed action should look like; summed up per class and for the whole model.
 */
import { argmax, jensenShannon } from './metrics.ts';

export interface ProbeOutcome {
  forwardTop1: string;
  forwardScore: number;
  reversedTop1: string;
  reversedScore: number;
  /** The label's `reverse_of` class, or the label itself where it has none. */
  expectedReversed: string;
  /** The reversed prediction equals `expectedReversed`. */
  flipped: boolean;
  jsDivergence: number;
}

/** Compares the forward and reversed probabilities of one clip labelled `label`. */
export function probeOutcome(
  classNames: readonly string[],
  forward: ArrayLike<number>,
  reversed: ArrayLike<number>,
  expectedReversed: string,
): ProbeOutcome {
  const f = argmax(forward);
  const r = argmax(reversed);
  return {
    forwardTop1: classNames[f],
    forwardScore: forward[f],
    reversedTop1: classNames[r],
    reversedScore: reversed[r],
    expectedReversed,
    flipped: classNames[r] === expectedReversed,
    jsDivergence: jensenShannon(forward, reversed),
  };
}

export interface ProbeClipRecord extends ProbeOutcome {
  label: string;
  /** The label has a reverse partner (a different expected class). */
  paired: boolean;
}

export interface ProbeClassSummary {
  label: string;
  clips: number;
  expectedReversed: string;
  paired: boolean;
  /** Share of clips whose forward top-1 is the label. */
  forwardAccuracy: number;
  /** Share of clips whose reversed top-1 is the expected class (a flip rate when paired, invariance otherwise). */
  matchRate: number;
  meanDivergence: number;
}

export interface ProbeSummary {
  clips: number;
  forwardAccuracy: number;
  /** Over clips of classes with a reverse partner: reversed top-1 = the partner. Null when no such clip. */
  flipRate: number | null;
  /** Over clips of classes without a partner: reversed top-1 = the label. Null when no such clip. */
  invarianceRate: number | null;
  /** Mean Jensen–Shannon divergence (bits) over all clips: the model's temporal sensitivity. */
  meanDivergence: number;
  perClass: ProbeClassSummary[];
}

const mean = (values: number[]): number => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const rate = (flags: boolean[]): number | null => (flags.length ? flags.filter(Boolean).length / flags.length : null);

export function summarizeProbe(records: readonly ProbeClipRecord[]): ProbeSummary {
  const byLabel = new Map<string, ProbeClipRecord[]>();
  for (const r of records) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const perClass = [...byLabel.entries()].map(([label, rs]): ProbeClassSummary => ({
    label,
    clips: rs.length,
    expectedReversed: rs[0].expectedReversed,
    paired: rs[0].paired,
    forwardAccuracy: rate(rs.map((r) => r.forwardTop1 === label)) ?? 0,
    matchRate: rate(rs.map((r) => r.flipped)) ?? 0,
    meanDivergence: mean(rs.map((r) => r.jsDivergence)),
  }));
  return {
    clips: records.length,
    forwardAccuracy: rate(records.map((r) => r.forwardTop1 === r.label)) ?? 0,
    flipRate: rate(records.filter((r) => r.paired).map((r) => r.flipped)),
    invarianceRate: rate(records.filter((r) => !r.paired).map((r) => r.flipped)),
    meanDivergence: mean(records.map((r) => r.jsDivergence)),
    perClass,
  };
}
