/**
 * BORIS (olivierfriard/BORIS) exports and project files:
 * - aggregated events (CSV/TSV): one row per event with `Start (s)`, `Stop (s)`, `Behavior`, `Subject` and the media
 *   file (`Media file name`; `Media file` in older versions);
 * - tabular events (CSV/TSV): one row per START, STOP or POINT (`Behavior type`, or `Status` after the header block
 *   of older versions) at `Time`;
 * - `.boris` project files (JSON): every observation with its events `[time, subject, code, modifier, comment]`.
 *
 * BORIS counts time over the whole observation: `Time offset (s)` is added to the media position, and an
 * observation that plays several files one after the other counts on across them. Times are brought back to
 * each video's own clock here.
 */
import { UserError } from '../errors.ts';
import {
  detectDelimiter,
  fileNameOf,
  numberCell,
  parseCsvRecords,
  parseJson,
  requireColumns,
  type CsvRecord,
  type ForeignLabel,
  type ReadContext,
  type ReadResult,
} from './labels-common.ts';

const MEDIA_COLUMNS = ['Media file name', 'Media file', 'Media file path'];
const NO_SUBJECT = 'No focal subject';

export function looksLikeBorisProject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'observations' in value && ('behaviors_conf' in value || 'project_format_version' in value);
}

/** The line index (0-based) of a BORIS events header, or -1: aggregated (`Start (s)`) or tabular (`Time`). */
function headerLineIndex(lines: readonly string[]): { index: number; kind: 'aggregated' | 'tabular' } | null {
  for (let i = 0; i < Math.min(lines.length, 200); i++) {
    const cells = splitSimple(lines[i]!);
    if (!cells.includes('Behavior')) continue;
    if (cells.includes('Start (s)')) return { index: i, kind: 'aggregated' };
    if (cells.includes('Time') && (cells.includes('Behavior type') || cells.includes('Status'))) return { index: i, kind: 'tabular' };
  }
  return null;
}

function splitSimple(line: string): string[] {
  return line.split(detectDelimiter(line)).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/** True for BORIS aggregated or tabular events text. */
export function looksLikeBorisEvents(text: string): boolean {
  return headerLineIndex(text.slice(0, 65536).split(/\r?\n/)) !== null;
}

/** Reads any BORIS file: a project (JSON) or an events table (CSV/TSV). */
export function readBoris(ctx: ReadContext): ReadResult {
  if (/^\s*\{/.test(ctx.text)) return readBorisProject(ctx);
  const lines = ctx.text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const found = headerLineIndex(lines);
  if (!found) {
    throw new UserError(
      'invalid_input',
      `${ctx.file}: no BORIS events header (a row with Behavior and Start (s), or Behavior, Time and Behavior type); nothing was imported.`,
    );
  }
  const delimiter = detectDelimiter(lines[found.index]!);
  const table = delimiter === '\t' ? 'TSV' : 'CSV';
  const block = headerBlock(lines.slice(0, found.index));
  const { header, records } = parseCsvRecords(ctx.file, lines.slice(found.index).join('\n'), { delimiter, lineOffset: found.index });
  if (found.kind === 'aggregated') return { kind: `BORIS aggregated events (${table})`, labels: readAggregated(ctx, header, records, found.index + 1) };
  return { kind: `BORIS tabular events (${table})`, labels: readTabular(ctx, header, records, block, found.index + 1) };
}

/** Key/value rows above the header of older tabular exports ("Time offset (s)", "Player #1"). */
function headerBlock(lines: readonly string[]): Map<string, string> {
  const block = new Map<string, string>();
  for (const line of lines) {
    const [key, value] = splitSimple(line);
    if (key) block.set(key, value ?? '');
  }
  return block;
}

/** Player #1's files and their durations from a `Source` cell ("player #1:a.mp4;b.mp4|player #2:c.mp4"). */
function playerOneFiles(source: string | undefined, durations: string | undefined): { files: string[]; durations: Array<number | null> } {
  if (!source) return { files: [], durations: [] };
  const files = (source.split('|')[0] ?? '').replace(/^player #1:/i, '').split(';').map((f) => f.trim()).filter(Boolean);
  const lengths = (durations ?? '').split('|')[0]!.split(';').map((d) => (d.trim() === '' || Number.isNaN(Number(d)) ? null : Number(d)));
  return { files, durations: files.map((_, i) => lengths[i] ?? null) };
}

function subjectOf(raw: string | undefined): string | null {
  const s = (raw ?? '').trim();
  return s === '' || s === NO_SUBJECT ? null : s;
}

function multiFileRefusal(file: string, observations: Map<string, string[]>): UserError {
  const list = [...observations].map(([id, files]) => `"${id}" (${files.join(', ')})`).join('; ');
  return new UserError(
    'invalid_input',
    `${file}: observation${observations.size > 1 ? 's' : ''} ${list} play${observations.size > 1 ? '' : 's'} several media files one after the other. ` +
      `BORIS's aggregated export counts time across the whole observation, so its times cannot be placed on each video without the media durations. ` +
      `Import the BORIS project file (.boris) instead, e.g. labels import DIR project.boris --observation "${[...observations.keys()][0]}"; nothing was imported.`,
  );
}

function readAggregated(ctx: ReadContext, header: string[], records: CsvRecord[], headerLine: number): ForeignLabel[] {
  requireColumns(ctx.file, header, [['Behavior'], ['Start (s)'], ['Stop (s)'], MEDIA_COLUMNS], 'BORIS aggregated events', headerLine);
  const mediaColumn = MEDIA_COLUMNS.find((c) => header.includes(c))!;
  const mediaByObservation = new Map<string, Set<string>>();
  const multiFile = new Map<string, string[]>();
  let live = 0;
  for (const { values } of records) {
    const obs = values['Observation id'] ?? '';
    const { files } = playerOneFiles(values.Source, values['Media duration (s)']);
    if (files.length > 1) multiFile.set(obs, files);
    const media = values[mediaColumn] ?? '';
    if (media && media !== 'NA') {
      if (!mediaByObservation.has(obs)) mediaByObservation.set(obs, new Set());
      mediaByObservation.get(obs)!.add(media);
    }
  }
  for (const [obs, media] of mediaByObservation) if (media.size > 1 && !multiFile.has(obs)) multiFile.set(obs, [...media]);
  if (multiFile.size > 0) throw multiFileRefusal(ctx.file, multiFile);

  const labels: ForeignLabel[] = [];
  for (const { line, values } of records) {
    const where = `line ${line}`;
    if ((values['Observation type'] ?? '').startsWith('Live') || values[mediaColumn] === 'NA') {
      live += 1;
      continue;
    }
    const video = values[mediaColumn] ?? '';
    const label = values.Behavior ?? '';
    if (!video) ctx.problems.add(where, `${mediaColumn} is empty`);
    if (!label) ctx.problems.add(where, 'Behavior is empty');
    const start = numberCell(ctx.problems, where, 'Start (s)', values['Start (s)']);
    const stop = numberCell(ctx.problems, where, 'Stop (s)', values['Stop (s)']);
    const offset = offsetOf(ctx, where, values['Time offset (s)']);
    if (!video || !label || start === null || stop === null || offset === null) continue;
    const point = (values['Behavior type'] ?? '').toUpperCase() === 'POINT';
    labels.push({ where, video, label, start: { seconds: start - offset }, end: { seconds: stop - offset }, point, subject: subjectOf(values.Subject) });
  }
  if (live > 0) ctx.notes.push(`skipped ${live} event${live === 1 ? '' : 's'} of observations without video (live or images)`);
  return labels;
}

function offsetOf(ctx: ReadContext, where: string, raw: string | undefined): number | null {
  if (raw === undefined || raw.trim() === '') return 0;
  return numberCell(ctx.problems, where, 'Time offset (s)', raw);
}

interface OpenState {
  where: string;
  time: number;
  media: string;
}

function readTabular(ctx: ReadContext, header: string[], records: CsvRecord[], block: Map<string, string>, headerLine: number): ForeignLabel[] {
  const statusColumn = header.includes('Behavior type') ? 'Behavior type' : 'Status';
  const mediaColumn = MEDIA_COLUMNS.find((c) => header.includes(c));
  requireColumns(ctx.file, header, [['Behavior'], ['Time'], [statusColumn]], 'BORIS tabular events', headerLine);
  const modifierColumns = header.filter((h) => /^Modifier( #\d+)?s?$/.test(h));
  const blockPlayer = (block.get('Player #1') ?? '').split(';').map((f) => f.trim()).filter(Boolean);
  const open = new Map<string, OpenState>();
  const labels: ForeignLabel[] = [];
  let live = 0;
  for (const { line, values } of records) {
    const where = `line ${line}`;
    if ((values['Observation type'] ?? '').startsWith('Live') || (mediaColumn && values[mediaColumn] === 'NA')) {
      live += 1;
      continue;
    }
    const obs = values['Observation id'] ?? block.get('Observation id') ?? '';
    const label = values.Behavior ?? '';
    const status = (values[statusColumn] ?? '').toUpperCase();
    const time = numberCell(ctx.problems, where, 'Time', values.Time);
    const offset = offsetOf(ctx, where, values['Time offset (s)'] ?? block.get('Time offset (s)'));
    if (!label) ctx.problems.add(where, 'Behavior is empty');
    if (!['START', 'STOP', 'POINT'].includes(status)) ctx.problems.add(where, `${statusColumn} "${values[statusColumn] ?? ''}" must be START, STOP or POINT`);
    const placed = time === null || offset === null ? null : placeOnMedia(ctx, where, time - offset, values, mediaColumn, blockPlayer);
    if (!label || !placed || !['START', 'STOP', 'POINT'].includes(status)) continue;
    const subject = subjectOf(values.Subject);
    if (status === 'POINT') {
      labels.push({ where, video: placed.media, label, start: { seconds: placed.time }, end: { seconds: placed.time }, point: true, subject });
      continue;
    }
    const key = [obs, subject ?? '', label, ...modifierColumns.map((c) => values[c] ?? '')].join('\u0000');
    const started = open.get(key);
    if (status === 'START') {
      if (started) ctx.problems.add(started.where, `${label} STARTs again on line ${line} before it STOPs`);
      open.set(key, { where, time: placed.time, media: placed.media });
      continue;
    }
    if (!started) {
      ctx.problems.add(where, `${label} STOPs without a START`);
      continue;
    }
    open.delete(key);
    if (started.media !== placed.media) {
      ctx.problems.add(started.where, `${label} starts in ${started.media} and stops in ${placed.media} (${where}); a clip lies in one video`);
      continue;
    }
    labels.push({ where: started.where, video: placed.media, label, start: { seconds: started.time }, end: { seconds: placed.time }, subject });
  }
  for (const state of open.values()) ctx.problems.add(state.where, 'START without a STOP');
  if (live > 0) ctx.notes.push(`skipped ${live} event${live === 1 ? '' : 's'} of observations without video (live or images)`);
  return labels;
}

/** The video an observation time falls in and the time on that video's own clock. */
function placeOnMedia(
  ctx: ReadContext,
  where: string,
  time: number,
  values: Record<string, string>,
  mediaColumn: string | undefined,
  blockPlayer: string[],
): { media: string; time: number } | null {
  const { files, durations } = playerOneFiles(values.Source, values['Media duration (s)']);
  const playlist = files.length > 0 ? files : blockPlayer;
  const media = (mediaColumn ? values[mediaColumn] : '') || (playlist.length === 1 ? playlist[0]! : '');
  if (!media) {
    ctx.problems.add(where, 'names no media file');
    return null;
  }
  const index = playlist.findIndex((f) => f === media || fileNameOf(f) === fileNameOf(media));
  if (index <= 0) return { media, time };
  let start = 0;
  for (let i = 0; i < index; i++) {
    const d = durations[i];
    if (d === null || d === undefined) {
      ctx.problems.add(where, `${media} plays after ${playlist[i]} whose duration the file does not give; import the BORIS project file (.boris) instead`);
      return null;
    }
    start = Math.floor((start + Math.floor(d * 1000) / 1000) * 1000) / 1000;
  }
  return { media, time: time - start };
}

interface BorisObservation {
  type?: string;
  media_creation_date_as_offset?: boolean;
  file?: Record<string, string[]> | string[];
  events?: unknown[][];
  media_info?: { length?: Record<string, number> };
  'time offset'?: number | string;
}

interface BorisProject {
  observations?: Record<string, BorisObservation>;
  behaviors_conf?: Record<string, { code?: string; type?: string }>;
}

function readBorisProject(ctx: ReadContext): ReadResult {
  const project = parseJson(ctx.file, ctx.text) as BorisProject;
  if (!looksLikeBorisProject(project)) {
    throw new UserError('invalid_input', `${ctx.file}: not a BORIS project (no "observations"); nothing was imported.`);
  }
  const observations = project.observations ?? {};
  const ids = Object.keys(observations);
  const wanted = ctx.options.observations;
  const unknown = (wanted ?? []).filter((id) => !(id in observations));
  if (unknown.length > 0) {
    throw new UserError(
      'invalid_input',
      `${ctx.file}: no observation ${unknown.map((u) => `"${u}"`).join(', ')} in this project; it has ${ids.map((i) => `"${i}"`).join(', ') || 'none'}; nothing was imported.`,
    );
  }
  const pointCodes = new Set(
    Object.values(project.behaviors_conf ?? {})
      .filter((b) => /point/i.test(b.type ?? ''))
      .map((b) => b.code ?? ''),
  );
  const live: string[] = [];
  const elsewhere: string[] = [];
  const labels: ForeignLabel[] = [];
  for (const id of wanted ?? ids) {
    const obs = observations[id]!;
    if (obs.type !== 'MEDIA') {
      live.push(id);
      continue;
    }
    const playlist = Array.isArray(obs.file) ? obs.file : (obs.file?.['1'] ?? []);
    if (!wanted && !playlist.some((f) => ctx.hasVideo(f))) {
      elsewhere.push(id);
      continue;
    }
    if (obs.media_creation_date_as_offset) {
      ctx.problems.add(`observation "${id}"`, "times count from the media files' creation dates, which this import cannot place; export it from BORIS without that option");
      continue;
    }
    labels.push(...observationLabels(ctx, id, obs, playlist, pointCodes));
  }
  if (live.length > 0) ctx.notes.push(`skipped ${live.length} observation${live.length === 1 ? '' : 's'} without media (live or images): ${live.join(', ')}`);
  if (elsewhere.length > 0) ctx.notes.push(`skipped ${elsewhere.length} observation${elsewhere.length === 1 ? '' : 's'} whose videos are not in the project: ${elsewhere.join(', ')}`);
  return { kind: 'BORIS project (.boris)', labels };
}

function observationLabels(ctx: ReadContext, id: string, obs: BorisObservation, playlist: string[], pointCodes: Set<string>): ForeignLabel[] {
  const offset = Number(obs['time offset'] ?? 0) || 0;
  // Where each file starts on the observation clock, cut to milliseconds as BORIS does.
  const starts: number[] = [];
  let cumulative = 0;
  let unknownLength: string | null = null;
  for (const f of playlist) {
    starts.push(cumulative);
    const length = obs.media_info?.length?.[f];
    if (typeof length !== 'number') unknownLength ??= f;
    cumulative = Math.floor((cumulative + Math.floor((length ?? 0) * 1000) / 1000) * 1000) / 1000;
  }
  const place = (where: string, time: number): { media: string; time: number } | null => {
    const t = time - offset;
    let index = 0;
    while (index + 1 < playlist.length && t >= starts[index + 1]!) index += 1;
    if (index > 0 && unknownLength !== null && playlist.indexOf(unknownLength) < index) {
      ctx.problems.add(where, `the project does not record the duration of ${unknownLength}, so a time on a later file cannot be placed`);
      return null;
    }
    if (playlist.length === 0) {
      ctx.problems.add(where, 'the observation plays no media file');
      return null;
    }
    return { media: playlist[index]!, time: t - starts[index]! };
  };
  const open = new Map<string, { where: string; placed: { media: string; time: number } }>();
  const labels: ForeignLabel[] = [];
  (obs.events ?? []).forEach((event, i) => {
    const where = `observation "${id}", event ${i + 1}`;
    const [time, subjectRaw, code, modifier] = event as [unknown, unknown, unknown, unknown];
    if (typeof time !== 'number' || typeof code !== 'string') {
      ctx.problems.add(where, `event ${JSON.stringify(event)} is not [time, subject, behavior, modifier, comment]`);
      return;
    }
    const subject = subjectOf(typeof subjectRaw === 'string' ? subjectRaw : '');
    const placed = place(where, time);
    if (!placed) return;
    if (pointCodes.has(code)) {
      labels.push({ where, video: placed.media, label: code, start: { seconds: placed.time }, end: { seconds: placed.time }, point: true, subject });
      return;
    }
    const key = `${subject ?? ''}\u0000${code}\u0000${String(modifier ?? '')}`;
    const started = open.get(key);
    if (!started) {
      open.set(key, { where, placed });
      return;
    }
    open.delete(key);
    if (started.placed.media !== placed.media) {
      ctx.problems.add(started.where, `${code} starts in ${started.placed.media} and stops in ${placed.media}; a clip lies in one video`);
      return;
    }
    labels.push({ where: started.where, video: placed.media, label: code, start: { seconds: started.placed.time }, end: { seconds: placed.time }, subject });
  });
  for (const state of open.values()) ctx.problems.add(state.where, 'state event STARTs without a STOP');
  return labels;
}
