/**
 * VIA 3 (VGG Image Annotator, video mode):
 * - project JSON (`store`: project, attribute, file, view, metadata; each metadata `{vid, z, xy, av}`);
 * - "VIA3 (CSV)": `# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,metadata`, with
 *   the attribute definitions on a `# ATTRIBUTE = {json}` line and metadata keyed by attribute id;
 * - "Only Temporal Segments as CSV": `# CSV_HEADER = metadata_id,file_list,temporal_segment_start,temporal_segment_end,metadata`,
 *   metadata keyed by attribute name.
 * A temporal segment has two times (seconds); a single time marks a still frame with a spatial region and is skipped.
 * The class is the value of a temporal-segment attribute (anchor FILE1_Z2_XY0); an attribute named like a subject
 * ("subject", "individual", "animal", "person", "track") gives the clip's subject.
 */
import { UserError } from '../errors.ts';
import { parseCsvRecords, parseJson, requireColumns, type ForeignLabel, type ProblemList, type ReadContext, type ReadResult } from './labels-common.ts';

interface ViaAttribute {
  aname?: string;
  anchor_id?: string;
  options?: Record<string, string>;
}
type Attributes = Record<string, ViaAttribute>;

const SUBJECT_ATTRIBUTE = /^(subject|individual|animal|person|track|track ?id|identity)$/i;
const SEGMENT_ANCHOR = 'FILE1_Z2_XY0';

export function looksLikeViaCsv(text: string): boolean {
  const head = text.slice(0, 4096);
  return /^#.*VGG Image Annotator|^# CSV_HEADER\s*=/m.test(head) || /^metadata_id,file_list/m.test(head);
}

export function looksLikeViaProject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'metadata' in value && 'attribute' in value && 'file' in value && 'view' in value;
}

export function readVia(ctx: ReadContext): ReadResult {
  if (/^\s*\{/.test(ctx.text)) return readViaProject(ctx);
  return readViaCsv(ctx);
}

interface ViaProject {
  attribute?: Attributes;
  file?: Record<string, { fname?: string; src?: string; loc?: number }>;
  view?: Record<string, { fid_list?: Array<string | number> }>;
  metadata?: Record<string, { vid?: string; z?: unknown[]; xy?: unknown[]; av?: Record<string, unknown> }>;
}

function readViaProject(ctx: ReadContext): ReadResult {
  const value = parseJson(ctx.file, ctx.text) as { store?: ViaProject } & ViaProject;
  const store: ViaProject = looksLikeViaProject(value) ? value : (value.store ?? {});
  if (!looksLikeViaProject(store)) throw new UserError('invalid_input', `${ctx.file}: not a VIA 3 project (no metadata, attribute, file and view); nothing was imported.`);
  const attributes = store.attribute ?? {};
  const labels: ForeignLabel[] = [];
  let spatial = 0;
  for (const [mid, m] of Object.entries(store.metadata ?? {})) {
    const where = `metadata "${mid}"`;
    const z = m.z ?? [];
    if (z.length < 2) {
      spatial += 1;
      continue;
    }
    const fid = store.view?.[m.vid ?? '']?.fid_list?.[0];
    const file = fid === undefined ? undefined : store.file?.[String(fid)];
    const video = file?.fname || file?.src || '';
    if (!video) {
      ctx.problems.add(where, `view ${m.vid ?? '?'} names no file`);
      continue;
    }
    const label = segment(ctx.problems, where, z, m.av ?? {}, (key) => attributes[key], video);
    if (label) labels.push(label);
  }
  if (spatial > 0) ctx.notes.push(`skipped ${spatial} single-time (spatial) region${spatial === 1 ? '' : 's'}`);
  return { kind: 'VIA 3 project (JSON)', labels };
}

function readViaCsv(ctx: ReadContext): ReadResult {
  const lines = ctx.text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerLine = '';
  let headerAt = 0;
  let attributes: Attributes = {};
  let firstDataLine = 0;
  while (firstDataLine < lines.length && lines[firstDataLine]!.startsWith('#')) {
    const comment = lines[firstDataLine]!;
    const header = comment.match(/^#\s*CSV_HEADER\s*=\s*(.*)$/);
    if (header) {
      headerLine = header[1]!.trim();
      headerAt = firstDataLine + 1;
    }
    const attrs = comment.match(/^#\s*ATTRIBUTES?\s*=\s*(\{.*\})\s*$/);
    if (attrs) {
      try {
        attributes = JSON.parse(attrs[1]!) as Attributes;
      } catch {
        throw new UserError('invalid_input', `${ctx.file}: line ${firstDataLine + 1}: the attribute definitions are not valid JSON; nothing was imported.`);
      }
    }
    firstDataLine += 1;
  }
  // The header sits in a comment (its own line number); data lines keep theirs.
  const body = headerLine ? [headerLine, ...lines.slice(firstDataLine)].join('\n') : lines.slice(firstDataLine).join('\n');
  const offset = headerLine ? firstDataLine - 1 : firstDataLine;
  const { header, records } = parseCsvRecords(ctx.file, body, { delimiter: ',', lineOffset: offset });
  const segmentsOnly = header.includes('temporal_segment_start');
  const needed = segmentsOnly ? [['file_list'], ['temporal_segment_start'], ['temporal_segment_end'], ['metadata']] : [['file_list'], ['temporal_coordinates'], ['metadata']];
  requireColumns(ctx.file, header, needed, segmentsOnly ? 'VIA temporal segments CSV' : 'VIA3 CSV', headerLine ? headerAt : offset + 1);
  // The temporal-segments export keys metadata by attribute name.
  const byName: Attributes = Object.fromEntries(Object.values(attributes).filter((a) => a.aname).map((a) => [a.aname!, a]));
  const labels: ForeignLabel[] = [];
  let spatial = 0;
  for (const { line, values } of records) {
    const where = `line ${line}`;
    const files = jsonCell<unknown[]>(ctx.problems, where, 'file_list', values.file_list);
    const metadata = jsonCell<Record<string, unknown>>(ctx.problems, where, 'metadata', values.metadata);
    let z: unknown[] | null;
    if (segmentsOnly) {
      // A still frame's row has an empty end (VIA writes its one time as the start).
      const start = values.temporal_segment_start === '' ? NaN : Number(values.temporal_segment_start);
      z = values.temporal_segment_end === '' ? [start] : [start, Number(values.temporal_segment_end)];
    } else z = jsonCell<unknown[]>(ctx.problems, where, 'temporal_coordinates', values.temporal_coordinates);
    if (!files || !z || !metadata) continue;
    if (z.length === 1) {
      spatial += 1;
      continue;
    }
    const video = typeof files[0] === 'string' ? files[0] : '';
    if (!video) {
      ctx.problems.add(where, 'file_list names no file');
      continue;
    }
    const label = segment(ctx.problems, where, z, metadata, (key) => (segmentsOnly ? (byName[key] ?? { aname: key }) : attributes[key]), video);
    if (label) labels.push(label);
  }
  if (spatial > 0) ctx.notes.push(`skipped ${spatial} single-time (spatial) row${spatial === 1 ? '' : 's'}`);
  return { kind: segmentsOnly ? 'VIA 3 temporal segments CSV' : 'VIA3 CSV', labels };
}

/** A temporal segment's label, or a problem noted and null. */
function segment(
  problems: ProblemList,
  where: string,
  z: unknown[],
  av: Record<string, unknown>,
  attribute: (key: string) => ViaAttribute | undefined,
  video: string,
): ForeignLabel | null {
  const [start, end] = z;
  if (z.length !== 2 || typeof start !== 'number' || typeof end !== 'number' || !Number.isFinite(start) || !Number.isFinite(end)) {
    problems.add(where, `temporal coordinates ${JSON.stringify(z)} must be [start, end] in seconds`);
    return null;
  }
  let label = '';
  let subject: string | null = null;
  const entries = Object.entries(av).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '' && e[1] !== '_DEFAULT');
  const named = (key: string, value: string) => (attribute(key)?.options?.[value] ?? value).trim();
  for (const [key, value] of entries) {
    const name = attribute(key)?.aname ?? key;
    if (SUBJECT_ATTRIBUTE.test(name)) subject ??= named(key, value);
  }
  const candidates = entries.filter(([key]) => !SUBJECT_ATTRIBUTE.test(attribute(key)?.aname ?? key));
  const [key, value] = candidates.find(([k]) => attribute(k)?.anchor_id === SEGMENT_ANCHOR) ?? candidates[0] ?? ['', ''];
  label = key ? named(key, value) : '';
  if (!label) {
    problems.add(where, 'metadata holds no label value');
    return null;
  }
  return { where, video, label, start: { seconds: start }, end: { seconds: end }, subject };
}

function jsonCell<T>(problems: ProblemList, where: string, column: string, raw: string | undefined): T | null {
  try {
    return JSON.parse(raw ?? '') as T;
  } catch {
    problems.add(where, `${column} is not valid JSON: ${raw ?? ''}`);
    return null;
  }
}
