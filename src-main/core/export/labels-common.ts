/** What every label reader produces: rows still naming videos and classes as the foreign file does. */
import { parse } from 'csv-parse/sync';
import { UserError } from '../errors.ts';
import type { ClipSplit } from '../store/clips.ts';

/** A time position as the file gives it: a frame index, or seconds to map through the video's timestamps. */
export type LabelTime = { frame: number } | { seconds: number };

export interface ForeignLabel {
  /** Where the row is in the file, for messages: "line 7", "task 2 (id 14), result 1". */
  where: string;
  /** A path or a file name; matched to project videos by path, then file name. */
  video: string;
  start: LabelTime;
  end: LabelTime;
  label: string;
  split?: ClipSplit | null;
  /** A point event (BORIS POINT): becomes a one-frame clip instead of failing as zero-length. */
  point?: boolean;
}

export interface LabelProblem {
  where: string;
  message: string;
}

/** Collects problems and throws them together, so a user fixes a file in one pass. */
export class ProblemList {
  readonly items: LabelProblem[] = [];
  add(where: string, message: string): void {
    // A problem may quote a field of the file: a field of megabytes is not echoed whole.
    this.items.push({ where, message: message.length > 300 ? `${message.slice(0, 300)}…` : message });
  }
  /** Throws every problem noted, in file order. */
  throwIfAny(file: string): void {
    if (this.items.length === 0) return;
    const position = (p: LabelProblem) => Number(p.where.match(/\d+/)?.[0] ?? 0);
    this.items.sort((a, b) => position(a) - position(b));
    const shown = this.items.slice(0, 30).map((p) => `  ${p.where}: ${p.message}`);
    const more = this.items.length > 30 ? [`  … and ${this.items.length - 30} more`] : [];
    throw new UserError(
      'invalid_input',
      `${file}: ${this.items.length} problem${this.items.length === 1 ? '' : 's'}; nothing was imported.\n${[...shown, ...more].join('\n')}`,
      { problems: this.items },
    );
  }
}

export interface CsvRecord {
  /** 1-based line of the record's first line in the file. */
  line: number;
  values: Record<string, string>;
}

/**
 * Parses CSV text with a header row. `skipLine` drops leading comment lines (VIA). Quoting errors become
 * a UserError naming the line.
 */
export function parseCsvRecords(file: string, text: string, opts: { delimiter?: string } = {}): { header: string[]; records: CsvRecord[] } {
  let rows: Array<{ record: string[]; info: { lines: number }; raw: string }>;
  try {
    rows = parse(text.replace(/^\uFEFF/, ''), {
      delimiter: opts.delimiter ?? detectDelimiter(text),
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      raw: true,
      trim: false,
    }) as unknown as Array<{ record: string[]; info: { lines: number }; raw: string }>;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new UserError('invalid_input', `${file}: line ${e.lines ?? '?'}: ${e.message.replace(/^Invalid Record Length: /, '')}; nothing was imported.`);
  }
  if (rows.length === 0) throw new UserError('invalid_input', `${file} is empty: no header row; nothing was imported.`);
  const header = rows[0]!.record.map((h) => h.trim());
  const records: CsvRecord[] = [];
  for (const row of rows.slice(1)) {
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = (row.record[i] ?? '').trim()));
    // info.lines is the line the record ends on; a quoted cell may span lines before it.
    const innerBreaks = row.raw.replace(/^(\r?\n)+/, '').replace(/\r?\n$/, '').split('\n').length - 1;
    records.push({ line: row.info.lines - innerBreaks, values });
  }
  return { header, records };
}

function detectDelimiter(text: string): string {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  return (firstLine.match(/\t/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? '\t' : ',';
}

/** A number from a cell, or a problem noted and null. */
export function numberCell(problems: ProblemList, where: string, column: string, raw: string | undefined): number | null {
  if (raw === undefined || raw === '') {
    problems.add(where, `${column} is empty`);
    return null;
  }
  const n = Number(raw);
  if (!Number.isFinite(n)) {
    problems.add(where, `${column} "${raw}" is not a number`);
    return null;
  }
  return n;
}

export function requireColumns(file: string, header: readonly string[], needed: readonly string[][], format: string): void {
  const missing = needed.filter((alternatives) => !alternatives.some((c) => header.includes(c)));
  if (missing.length > 0) {
    throw new UserError(
      'invalid_input',
      `${file}: line 1: the ${format} header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => m.join(' or ')).join(', ')}; nothing was imported.`,
    );
  }
}
