/**
 * Streams CSV rows (RFC 4180 quoting, UTF-8, header first) to a temporary file beside the target and renames
 * it into place at the end, so a failed or cancelled export never leaves a half-written file under the name.
 * Text cells that a spreadsheet would run as a formula get a leading `'` (see spreadsheetText).
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { UserError } from '../errors.ts';
import { removeStalePartials } from '../files/stale-partials.ts';

export type CsvCell = string | number | boolean | null | undefined;

/** Starts a formula in Excel, LibreOffice or Sheets (OWASP "CSV injection"); `'`s before one are ours. */
const FORMULA_START = /^'*[=+\-@\t\r]/;

/**
 * A text cell as a spreadsheet shows it without running it: a label named `=HYPERLINK(…)` is written as
 * `'=HYPERLINK(…)`. Only text is escaped; numbers (a negative score) stay numbers. Text that already starts
 * with `'` before such a character gets one more, so readingSpreadsheetText restores every name exactly.
 */
export function spreadsheetText(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/** The inverse of spreadsheetText, for reading back a CSV that we wrote. */
export function readingSpreadsheetText(text: string): string {
  return FORMULA_START.test(text) && text.startsWith("'") ? text.slice(1) : text;
}

export async function writeCsvTable(
  file: string,
  header: readonly string[],
  rows: Iterable<readonly CsvCell[]> | AsyncIterable<readonly CsvCell[]>,
  opts: { delimiter?: string } = {},
): Promise<number> {
  removeStalePartials(file);
  const temp = `${file}.${process.pid}.partial`;
  const out = createWriteStream(temp, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  const write = async (cells: CsvCell[][]) => {
    const text = stringify(cells, { delimiter: opts.delimiter ?? ',', cast: { boolean: (b) => (b ? 'true' : 'false'), string: spreadsheetText } });
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  let count = 0;
  try {
    await write([[...header]]);
    let batch: CsvCell[][] = [];
    for await (const row of rows) {
      batch.push([...row]);
      count += 1;
      if (batch.length >= 500) {
        await write(batch);
        batch = [];
      }
    }
    if (batch.length) await write(batch);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(temp, file);
    return count;
  } catch (err) {
    out.destroy();
    await rm(temp, { force: true });
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new UserError('unavailable', `Disk full while writing ${file}; nothing was written.`);
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new UserError('invalid_input', `Cannot write ${file}: ${(err as Error).message}`);
    }
    throw err;
  }
}

/** Seconds with microsecond precision: enough to place a frame, short enough to read. */
export function seconds(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
