/**
 * Per-frame 0/1 label tables (DeepEthogram's `<video>_labels.csv`: an unnamed frame-index column, `background`,
 * then one column per behaviour, one row per frame; SimBA- and JAABA-style tables are alike). Bouts of
 * consecutive 1s become clips; `background` is not a class; -1 (not yet labelled) and 0 are both "not this".
 * The video is `options.video`, else the file's stem with a `_labels` (or `_predictions`: DeepEthogram's exported
 * predictions, same layout without `background`) suffix dropped.
 */
import { basename, extname } from 'node:path';
import { parseCsvRecords, type ForeignLabel, type ReadContext, type ReadResult } from './labels-common.ts';

const FRAME_COLUMN = /^(|frame|frames|frame_index|frame_number|frame_idx|index)$/i;
const NOT_A_CLASS = new Set(['background', 'none']);

/** A header whose first column is a frame index or which has `background`, and whose first rows are all 0/1. */
export function looksLikePerFrame(header: readonly string[], firstRows: ReadonlyArray<readonly string[]>): boolean {
  if (header.length < 2) return false;
  const frameFirst = FRAME_COLUMN.test(header[0]!.trim());
  if (!frameFirst && !header.includes('background')) return false;
  const cells = firstRows.flatMap((row) => row.slice(frameFirst ? 1 : 0));
  return cells.length > 0 && cells.every((c) => /^(-1|0|1)(\.0+)?$/.test(c.trim()));
}

export function videoForPerFrame(file: string): string {
  return basename(file, extname(file)).replace(/_(labels|predictions)$/i, '');
}

export function readPerFrame(ctx: ReadContext): ReadResult {
  const { header, records } = parseCsvRecords(ctx.file, ctx.text, { delimiter: ',' });
  const frameColumn = FRAME_COLUMN.test(header[0]!) ? header[0]! : null;
  const candidates = header.filter((h, i) => !(frameColumn !== null && i === 0) && !NOT_A_CLASS.has(h.toLowerCase()) && h !== '');
  // SimBA-style tables carry feature columns beside the 0/1 behaviour columns: a column that is not (almost)
  // all 0/1 is not a behaviour; a stray value in a behaviour column is a problem on its line.
  const binary = (raw: string | undefined) => /^(-1|0|1)(\.0+)?$/.test((raw ?? '').trim()) || (raw ?? '').trim() === '';
  const classes = candidates.filter((name) => records.filter((r) => binary(r.values[name])).length >= 0.99 * records.length);
  const ignored = candidates.filter((name) => !classes.includes(name));
  if (ignored.length > 0) {
    const shown = ignored.slice(0, 8).join(', ') + (ignored.length > 8 ? ` and ${ignored.length - 8} more` : '');
    ctx.notes.push(`ignored ${ignored.length} column${ignored.length === 1 ? '' : 's'} that ${ignored.length === 1 ? 'is' : 'are'} not 0/1: ${shown}`);
  }
  const video = ctx.options.video ?? videoForPerFrame(ctx.file);
  const labels: ForeignLabel[] = [];
  const open = new Map<string, { frame: number; where: string }>();
  let expected = 0;
  const close = (name: string, endFrame: number) => {
    const bout = open.get(name);
    if (!bout) return;
    open.delete(name);
    labels.push({ where: bout.where, video, label: name, start: { frame: bout.frame }, end: { frame: endFrame } });
  };
  for (const { line, values } of records) {
    const where = `line ${line}`;
    let frame = expected;
    if (frameColumn !== null) {
      const raw = values[frameColumn] ?? '';
      frame = Number(raw);
      if (raw === '' || !Number.isInteger(frame) || frame < 0) {
        ctx.problems.add(where, `frame "${raw}" is not a frame index`);
        continue;
      }
      // A gap in the frame index ends every bout: frames not listed are not labelled.
      if (frame !== expected) for (const name of [...open.keys()]) close(name, expected);
    }
    expected = frame + 1;
    for (const name of classes) {
      const raw = (values[name] ?? '').trim();
      const on = /^1(\.0+)?$/.test(raw);
      if (!on && !/^(-1|0)(\.0+)?$/.test(raw) && raw !== '') {
        ctx.problems.add(where, `${name} "${raw}" must be 0 or 1`);
        continue;
      }
      if (on && !open.has(name)) open.set(name, { frame, where });
      if (!on) close(name, frame);
    }
  }
  for (const name of [...open.keys()]) close(name, expected);
  ctx.notes.push(`${records.length} frame row${records.length === 1 ? '' : 's'} for video ${video}`);
  return { kind: 'per-frame 0/1 CSV', labels };
}
