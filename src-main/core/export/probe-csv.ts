/** The probe CSV (docs/formats.md): one row per probed clip, forward vs reversed. */
import { seconds, writeCsvTable, type CsvCell } from './csv-table.ts';
import type { ProbeOutcome } from '../figures/probe-summary.ts';

export interface ProbeCsvRow extends ProbeOutcome {
  video: string;
  clip: number | null;
  label: string;
  startFrame: number;
  endFrame: number;
  startS: number;
  endS: number;
}

export const PROBE_CSV_HEADER = [
  'video', 'clip', 'label', 'start_frame', 'end_frame', 'start_s', 'end_s', 'forward_top1', 'forward_score',
  'reversed_top1', 'reversed_score', 'expected_reversed', 'flipped', 'invariant', 'reversed_as_expected', 'js_divergence',
];

export async function writeProbeCsv(file: string, rows: Iterable<ProbeCsvRow>): Promise<number> {
  function* cells(): Iterable<CsvCell[]> {
    for (const r of rows) {
      yield [
        r.video, r.clip, r.label, r.startFrame, r.endFrame, seconds(r.startS), seconds(r.endS), r.forwardTop1,
        r.forwardScore, r.reversedTop1, r.reversedScore, r.expectedReversed, r.flipped, r.invariant,
        r.reversedAsExpected, r.jsDivergence,
      ];
    }
  }
  return writeCsvTable(file, PROBE_CSV_HEADER, cells());
}
