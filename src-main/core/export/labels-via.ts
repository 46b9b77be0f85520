/**
 * VIA 3 (VGG Image Annotator, video mode) CSV export of temporal segments. The file starts with `#` comment
 * lines, one of them `# CSV_HEADER = metadata_id,file_list,...`, and may carry the attribute definitions
 * (`# ATTRIBUTE...= {json}`) that map option ids to names. Each row: `file_list` (JSON array of file names),
 * `temporal_coordinates` (JSON [start_s, end_s]) and `metadata` (JSON {attribute id: value}).
 */
import { UserError } from '../errors.ts';
import { parseCsvRecords, type ProblemList, requireColumns, type ForeignLabel } from './labels-common.ts';

interface ViaAttribute {
  aname?: string;
  anchor_id?: string;
  options?: Record<string, string>;
}

export function looksLikeVia(text: string): boolean {
  return /^#.*VGG Image Annotator|^# CSV_HEADER\s*=/m.test(text.slice(0, 4096)) || /^metadata_id,file_list/m.test(text.slice(0, 4096));
}

/** Rows of the file; bad rows are noted in `problems` and left out. */
export function readVia(file: string, text: string, problems: ProblemList): ForeignLabel[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let headerLine = '';
  let attributes: Record<string, ViaAttribute | string> = {};
  let firstDataLine = 0;
  while (firstDataLine < lines.length && lines[firstDataLine]!.startsWith('#')) {
    const comment = lines[firstDataLine]!;
    const header = comment.match(/^#\s*CSV_HEADER\s*=\s*(.*)$/);
    if (header) headerLine = header[1]!.trim();
    const attrs = comment.match(/^#\s*ATTRIBUTES?\s*=\s*(\{.*\})\s*$/);
    if (attrs) {
      try {
        attributes = JSON.parse(attrs[1]!) as Record<string, ViaAttribute | string>;
      } catch {
        throw new UserError('invalid_input', `${file}: line ${firstDataLine + 1}: the attribute definitions are not valid JSON; nothing was imported.`);
      }
    }
    firstDataLine += 1;
  }
  const body = headerLine ? [headerLine, ...lines.slice(firstDataLine)].join('\n') : lines.slice(firstDataLine).join('\n');
  // Line numbers from the parser count the body; shift them back to the file's own lines.
  const offset = headerLine ? firstDataLine - 1 : firstDataLine;
  const { header, records } = parseCsvRecords(file, body, { delimiter: ',' });
  requireColumns(file, header, [['file_list'], ['temporal_coordinates'], ['metadata']], 'VIA CSV');
  const labels: ForeignLabel[] = [];
  for (const { line, values } of records) {
    const where = `line ${line + offset}`;
    const files = jsonCell<unknown[]>(problems, where, 'file_list', values.file_list);
    const coords = jsonCell<unknown[]>(problems, where, 'temporal_coordinates', values.temporal_coordinates);
    const metadata = jsonCell<Record<string, unknown>>(problems, where, 'metadata', values.metadata);
    if (!files || !coords || !metadata) continue;
    if (coords.length !== 2) {
      if (coords.length === 1) continue; // a single time point marks a frame, not a segment
      problems.add(where, `temporal_coordinates ${values.temporal_coordinates} must be [start, end] in seconds`);
      continue;
    }
    const [start, end] = coords;
    if (typeof start !== 'number' || typeof end !== 'number') {
      problems.add(where, `temporal_coordinates ${values.temporal_coordinates} must hold two numbers`);
      continue;
    }
    const video = typeof files[0] === 'string' ? files[0] : '';
    if (!video) {
      problems.add(where, 'file_list names no file');
      continue;
    }
    const label = labelOf(metadata, attributes);
    if (!label) {
      problems.add(where, 'metadata holds no label value');
      continue;
    }
    labels.push({ where, video, label, start: { seconds: start }, end: { seconds: end } });
  }
  return labels;
}

function jsonCell<T>(problems: ProblemList, where: string, column: string, raw: string | undefined): T | null {
  try {
    return JSON.parse(raw ?? '') as T;
  } catch {
    problems.add(where, `${column} is not valid JSON: ${raw ?? ''}`);
    return null;
  }
}

/**
 * The label of a segment: the value of a temporal-segment attribute (anchor FILE1_Z2_XY0) when the file
 * defines one, else the first non-empty value; option ids are turned into option names.
 */
function labelOf(metadata: Record<string, unknown>, attributes: Record<string, ViaAttribute | string>): string {
  const values = Object.entries(metadata).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].trim() !== '' && entry[1] !== '_DEFAULT',
  );
  const definition = (id: string) => (typeof attributes[id] === 'object' ? (attributes[id] as ViaAttribute) : undefined);
  const [id, value] = values.find(([id]) => definition(id)?.anchor_id === 'FILE1_Z2_XY0') ?? values[0] ?? ['', ''];
  return (definition(id)?.options?.[value] ?? value).trim();
}
