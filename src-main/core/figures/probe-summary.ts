/**
 * The reversal probe's figures: for each clip, forward and reversed predictions; whether the prediction
 * flipped (the forward class turned into its reverse partner) or stayed put where the class has no partner;
 * and whether the reversed one is the class the labelled action should look like reversed. Summed up per
 * class and for the whole model.
 */
import { argmax, jensenShannon } from './metrics.ts';

export interface ProbeOutcome {
  forwardTop1: string;
  forwardScore: number;
  reversedTop1: string;
  reversedScore: number;
  /** The label's `reverse_of` class, or the label itself where it has none. */
  expectedReversed: string;
  /** The forward top-1's `reverse_of` partner at probe time; null where that class has none. */
  forwardPartner: string | null;
  /** The prediction flipped: the forward top-1 has a reverse partner and the reversed top-1 is that partner. */
  flipped: boolean;
  /** The forward top-1 has no reverse partner and the reversed top-1 is the same class. */
  invariant: boolean;
  /** The reversed top-1 equals `expectedReversed` (whatever the forward prediction was). */
  reversedAsExpected: boolean;
  jsDivergence: number;
}

/**
 * Compares the forward and reversed probabilities of one clip whose reversed action should look like
 * `expectedReversed`; `partnerOf` gives a class's reverse partner (null where it has none).
 */
export function probeOutcome(
  classNames: readonly string[],
  forward: ArrayLike<number>,
  reversed: ArrayLike<number>,
  expectedReversed: string,
  partnerOf: (className: string) => string | null,
): ProbeOutcome {
  const forwardTop1 = classNames[argmax(forward)];
  const reversedTop1 = classNames[argmax(reversed)];
  const forwardPartner = partnerOf(forwardTop1);
  return {
    forwardTop1,
    forwardScore: forward[argmax(forward)],
    reversedTop1,
    reversedScore: reversed[argmax(reversed)],
    expectedReversed,
    forwardPartner,
    flipped: forwardPartner !== null && reversedTop1 === forwardPartner,
    invariant: forwardPartner === null && reversedTop1 === forwardTop1,
    reversedAsExpected: reversedTop1 === expectedReversed,
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
  /** Share of clips whose reversed top-1 is the label's expected reversed class (its partner, else itself). */
  matchRate: number;
  meanDivergence: number;
}

export interface ProbeSummary {
  clips: number;
  forwardAccuracy: number;
  /** Over clips whose forward top-1 has a reverse partner: the reversed top-1 is that partner. Null when no such clip. */
  flipRate: number | null;
  /** Over clips whose forward top-1 has no partner: the reversed top-1 is the same class. Null when no such clip. */
  invarianceRate: number | null;
  /** Over all clips: the reversed top-1 is the label's expected reversed class. */
  reversedAsExpectedRate: number;
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
    matchRate: rate(rs.map((r) => r.reversedAsExpected)) ?? 0,
    meanDivergence: mean(rs.map((r) => r.jsDivergence)),
  }));
  return {
    clips: records.length,
    forwardAccuracy: rate(records.map((r) => r.forwardTop1 === r.label)) ?? 0,
    flipRate: rate(records.filter((r) => r.forwardPartner !== null).map((r) => r.flipped)),
    invarianceRate: rate(records.filter((r) => r.forwardPartner === null).map((r) => r.invariant)),
    reversedAsExpectedRate: rate(records.map((r) => r.reversedAsExpected)) ?? 0,
    meanDivergence: mean(records.map((r) => r.jsDivergence)),
    perClass,
  };
}
