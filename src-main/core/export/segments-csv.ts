/** The segments CSV (docs/formats.md): post-processed predictions, one row per labelled span. */
import { seconds, writeCsvTable, type CsvCell } from './csv-table.ts';

export interface SegmentCsvRow {
  video: string;
  startFrame: number;
  endFrame: number;
  startS: number;
  endS: number;
  label: string;
  meanScore: number;
}

export const SEGMENTS_CSV_HEADER = ['video', 'start_frame', 'end_frame', 'start_s', 'end_s', 'label', 'mean_score'];

export async function writeSegmentsCsv(file: string, rows: Iterable<SegmentCsvRow>): Promise<number> {
  function* cells(): Iterable<CsvCell[]> {
    for (const r of rows) yield [r.video, r.startFrame, r.endFrame, seconds(r.startS), seconds(r.endS), r.label, r.meanScore];
  }
  return writeCsvTable(file, SEGMENTS_CSV_HEADER, cells());
}
