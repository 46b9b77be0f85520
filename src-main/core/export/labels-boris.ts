/**
 * BORIS "aggregated events" export (CSV or TSV): one row per state event with `Start (s)`, `Stop (s)`,
 * `Behavior` and the media file (`Media file name`, or `Media file` in older versions). POINT events
 * (start = stop) become one-frame clips.
 */
import { numberCell, parseCsvRecords, type ProblemList, requireColumns, type ForeignLabel } from './labels-common.ts';

const MEDIA_COLUMNS = ['Media file name', 'Media file', 'Media file path'];

export function looksLikeBoris(header: readonly string[]): boolean {
  return header.includes('Behavior') && header.includes('Start (s)');
}

/** Rows of the file; bad rows are noted in `problems` and left out. */
export function readBoris(file: string, text: string, problems: ProblemList): ForeignLabel[] {
  const { header, records } = parseCsvRecords(file, text);
  requireColumns(file, header, [['Behavior'], ['Start (s)'], ['Stop (s)'], MEDIA_COLUMNS], 'BORIS aggregated events');
  const mediaColumn = MEDIA_COLUMNS.find((c) => header.includes(c))!;
  const labels: ForeignLabel[] = [];
  for (const { line, values } of records) {
    const where = `line ${line}`;
    const video = values[mediaColumn] ?? '';
    const label = values.Behavior ?? '';
    if (!video) problems.add(where, `${mediaColumn} is empty`);
    if (!label) problems.add(where, 'Behavior is empty');
    const start = numberCell(problems, where, 'Start (s)', values['Start (s)']);
    const stop = numberCell(problems, where, 'Stop (s)', values['Stop (s)']);
    if (!video || !label || start === null || stop === null) continue;
    const point = (values['Behavior type'] ?? '').toUpperCase() === 'POINT';
    labels.push({ where, video, label, start: { seconds: start }, end: { seconds: stop }, point });
  }
  return labels;
}
