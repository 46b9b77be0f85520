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
  /** Further names to try when `video` matches nothing (Label Studio's upload name without its prefix). */
  videoAlternatives?: string[];
  start: LabelTime;
  end: LabelTime;
  label: string;
  split?: ClipSplit | null;
  /** A point event (BORIS POINT): becomes a one-frame clip instead of failing as zero-length. */
  point?: boolean;
  /** Who does the action (BORIS subject, a Label Studio timeline, a VIA attribute, an ELAN participant). */
  subject?: string | null;
  /** The frame rate the labelling tool assumed to turn frames into times (Label Studio); checked against the video's. */
  assumedFps?: number;
}

/** Options some readers need; each reader ignores the rest. */
export interface LabelReadOptions {
  /** Label Studio: the labelling project's `<Video framerate>` (frames are counted at this rate). */
  fps?: number;
  /** BORIS project: observations to import (default: every media observation whose videos are in the project). */
  observations?: string[];
  /** Per-frame CSV and ELAN: the project video the file labels (default: from the file). */
  video?: string;
  /** ELAN: tiers to import (default: every tier). */
  tiers?: string[];
}

/** What a reader is given: the file, where to note problems and remarks, and what it may ask the project. */
export interface ReadContext {
  file: string;
  text: string;
  problems: ProblemList;
  /** Remarks for the user that do not stop the import ("skipped 3 spatial regions"). */
  notes: string[];
  options: LabelReadOptions;
  /** True when the project has a video of this path or file name. */
  hasVideo(name: string): boolean;
}

export interface ReadResult {
  /** What the file was recognised as, in words: "BORIS tabular events (TSV)". */
  kind: string;
  labels: ForeignLabel[];
}

export interface LabelProblem {
  where: string;
  message: string;
}

/** How many times one message may repeat, line by line, before it is summarised instead. */
const REPEAT_LIMIT = 3;
const SHOWN_LIMIT = 40;

/**
 * Collects problems and throws them together, so a user fixes a file in one pass. Each place (line, task) is
 * listed once with all of its problems; a message that repeats on many places is listed once with a count.
 */
export class ProblemList {
  readonly items: LabelProblem[] = [];
  add(where: string, message: string): void {
    // A problem may quote a field of the file: a field of megabytes is not echoed whole.
    this.items.push({ where, message: message.length > 300 ? `${message.slice(0, 300)}…` : message });
  }
  /** Throws every problem noted, in file order. */
  throwIfAny(file: string): void {
    if (this.items.length === 0) return;
    throw new UserError(
      'invalid_input',
      `${file}: ${this.items.length} problem${this.items.length === 1 ? '' : 's'}; nothing was imported.\n${this.report().join('\n')}`,
      { problems: this.items },
    );
  }

  /** The report lines: repeated messages summarised first, then each place with its own problems. */
  report(): string[] {
    const firstSeen = new Map<string, number>();
    this.items.forEach((p, i) => firstSeen.has(p.where) || firstSeen.set(p.where, i));
    const lineOf = (where: string) => Number(where.match(/^line (\d+)/)?.[1] ?? NaN);
    const order = (a: string, b: string) => {
      const la = lineOf(a);
      const lb = lineOf(b);
      if (!Number.isNaN(la) && !Number.isNaN(lb) && la !== lb) return la - lb;
      return firstSeen.get(a)! - firstSeen.get(b)!;
    };
    const placesByMessage = new Map<string, Set<string>>();
    for (const p of this.items) {
      if (!placesByMessage.has(p.message)) placesByMessage.set(p.message, new Set());
      placesByMessage.get(p.message)!.add(p.where);
    }
    const summarised = new Set([...placesByMessage].filter(([, places]) => places.size > REPEAT_LIMIT).map(([m]) => m));
    const lines: string[] = [];
    for (const message of summarised) {
      const places = [...placesByMessage.get(message)!].sort(order);
      const named = places.slice(0, 5).join(', ') + (places.length > 5 ? ` and ${places.length - 5} more` : '');
      lines.push(`  ${places.length} times (${named}): ${message}`);
    }
    const byPlace = new Map<string, string[]>();
    for (const p of this.items) {
      if (summarised.has(p.message)) continue;
      if (!byPlace.has(p.where)) byPlace.set(p.where, []);
      const messages = byPlace.get(p.where)!;
      if (!messages.includes(p.message)) messages.push(p.message);
    }
    const places = [...byPlace.keys()].sort(order);
    for (const where of places.slice(0, SHOWN_LIMIT)) lines.push(`  ${where}: ${byPlace.get(where)!.join('; ')}`);
    if (places.length > SHOWN_LIMIT) lines.push(`  … and ${places.length - SHOWN_LIMIT} more places with problems`);
    return lines;
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
export function parseCsvRecords(file: string, text: string, opts: { delimiter?: string; lineOffset?: number } = {}): { header: string[]; records: CsvRecord[] } {
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
    throw new UserError('invalid_input', `${file}: line ${e.lines === undefined ? '?' : e.lines + (opts.lineOffset ?? 0)}: ${e.message.replace(/^Invalid Record Length: /, '')}; nothing was imported.`);
  }
  if (rows.length === 0) throw new UserError('invalid_input', `${file} is empty: no header row; nothing was imported.`);
  const header = rows[0]!.record.map((h) => h.trim());
  const records: CsvRecord[] = [];
  for (const row of rows.slice(1)) {
    const values: Record<string, string> = {};
    header.forEach((name, i) => (values[name] = (row.record[i] ?? '').trim()));
    // info.lines is the line the record ends on; a quoted cell may span lines before it.
    const innerBreaks = row.raw.replace(/^(\r?\n)+/, '').replace(/\r?\n$/, '').split('\n').length - 1;
    records.push({ line: row.info.lines - innerBreaks + (opts.lineOffset ?? 0), values });
  }
  return { header, records };
}

export function detectDelimiter(text: string): string {
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

export function requireColumns(file: string, header: readonly string[], needed: readonly string[][], format: string, headerLine = 1): void {
  const missing = needed.filter((alternatives) => !alternatives.some((c) => header.includes(c)));
  if (missing.length > 0) {
    throw new UserError(
      'invalid_input',
      `${file}: line ${headerLine}: the ${format} header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => m.join(' or ')).join(', ')}; nothing was imported.`,
    );
  }
}

/** Parses JSON text or throws a UserError naming the file; a byte-order mark is allowed. */
export function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UserError('invalid_input', `${file} is not valid JSON (${(err as Error).message}); nothing was imported.`);
  }
}

/** A path's last component, for either slash. */
export function fileNameOf(path: string): string {
  return path.replace(/\\/g, '/').split('/').pop() ?? path;
}
