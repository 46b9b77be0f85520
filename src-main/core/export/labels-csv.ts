/**
 * Our labels CSV (DESIGN §4): `video,video_path,start_frame,end_frame,start_s,end_s,label,split,source,subject`,
 * end exclusive; `subject` is empty for a clip without one (files written before it existed lack the column). Frames win over seconds when both are present; seconds are mapped through the video's
 * decoded timestamps.
 */
import { readingSpreadsheetText, seconds, writeCsvTable, type CsvCell } from '../jobs/csv-table.ts';
import type { ClipSplit } from '../store/clips.ts';
import { numberCell, parseCsvRecords, type ProblemList, requireColumns, type ForeignLabel, type LabelTime, type ReadContext, type ReadResult } from './labels-common.ts';

export const LABELS_CSV_HEADER = ['video', 'video_path', 'start_frame', 'end_frame', 'start_s', 'end_s', 'label', 'split', 'source', 'subject'];

export interface LabelCsvRow {
  video: string;
  videoPath: string;
  startFrame: number;
  endFrame: number;
  startS: number;
  endS: number;
  label: string;
  split: ClipSplit | null;
  source: string;
  subject: string | null;
}

export function writeLabelsCsv(file: string, rows: Iterable<LabelCsvRow>): Promise<number> {
  function* cells(): Iterable<CsvCell[]> {
    for (const r of rows) {
      yield [r.video, r.videoPath, r.startFrame, r.endFrame, seconds(r.startS), seconds(r.endS), r.label, r.split ?? '', r.source, r.subject ?? ''];
    }
  }
  return writeCsvTable(file, LABELS_CSV_HEADER, cells());
}

export function looksLikeStmCsv(header: readonly string[]): boolean {
  return header.includes('label') && (header.includes('start_frame') || header.includes('start_s'));
}

/** Rows of the file; bad rows are noted in `problems` and left out. */
export function readLabelsCsv({ file, text, problems }: ReadContext): ReadResult {
  const { header, records } = parseCsvRecords(file, text, { delimiter: ',' });
  requireColumns(file, header, [['video', 'video_path'], ['start_frame', 'start_s'], ['end_frame', 'end_s'], ['label']], 'labels CSV');
  const labels: ForeignLabel[] = [];
  for (const { line, values: raw } of records) {
    const where = `line ${line}`;
    const values = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, readingSpreadsheetText(v)]));
    const video = values.video_path || values.video || '';
    if (!video) problems.add(where, 'video and video_path are both empty');
    const label = values.label ?? '';
    if (!label) problems.add(where, 'label is empty');
    const start = time(problems, where, values, 'start');
    const end = time(problems, where, values, 'end');
    const split = values.split ?? '';
    if (split !== '' && split !== 'train' && split !== 'val') problems.add(where, `split "${split}" must be train, val or empty`);
    if (!video || !label || !start || !end) continue;
    labels.push({
      where,
      video,
      start,
      end,
      label,
      split: split === 'train' || split === 'val' ? split : null,
      subject: values.subject || null,
    });
  }
  return { kind: 'labels CSV', labels };
}

function time(problems: ProblemList, where: string, values: Record<string, string>, side: 'start' | 'end'): LabelTime | null {
  const frameText = values[`${side}_frame`];
  if (frameText) {
    const frame = numberCell(problems, where, `${side}_frame`, frameText);
    if (frame === null) return null;
    if (!Number.isInteger(frame)) {
      problems.add(where, `${side}_frame "${frameText}" is not a whole number`);
      return null;
    }
    return { frame };
  }
  const s = numberCell(problems, where, `${side}_frame/${side}_s`, values[`${side}_s`]);
  return s === null ? null : { seconds: s };
}
