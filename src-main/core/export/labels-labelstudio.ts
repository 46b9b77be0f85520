/**
 * Label Studio exports of video tasks labelled with `<TimelineLabels>`:
 * - JSON: an array of tasks, each with `data.<video field>` and `annotations[].result[]` items of type
 *   `timelinelabels` whose `value.ranges[]` hold 1-based frame numbers with an inclusive end;
 * - JSON-MIN: one object per annotation: the task's data fields, then one key per labelling control
 *   (`from_name`) holding `[{ranges, timelinelabels}]`;
 * - CSV: the JSON-MIN record as columns, each control's value as a JSON string.
 * Label Studio counts frames at the labelling project's `<Video framerate>` (24 unless set), which the export
 * does not record: frames are turned into seconds at `fps` and mapped through the video's own timestamps.
 * When a task is labelled on several timelines (one `<TimelineLabels>` per animal), the timeline's name is the
 * clip's subject.
 */
import { UserError } from '../errors.ts';
import { fileNameOf, parseCsvRecords, parseJson, type ForeignLabel, type ReadContext, type ReadResult } from './labels-common.ts';

/** Label Studio's default `<Video framerate>`. */
export const LABEL_STUDIO_DEFAULT_FPS = 24;

interface LsValue {
  ranges?: Array<{ start?: unknown; end?: unknown }>;
  timelinelabels?: unknown[];
}
interface LsResult {
  type?: string;
  from_name?: string;
  value?: LsValue;
}
interface LsTask {
  id?: number | string;
  data?: Record<string, unknown>;
  annotations?: Array<{ result?: LsResult[]; was_cancelled?: boolean }>;
}

export function looksLikeLabelStudioJson(value: unknown): boolean {
  if (!Array.isArray(value) || value.length === 0) return false;
  const first = value[0] as Record<string, unknown>;
  return typeof first === 'object' && first !== null && ('annotations' in first || Object.values(first).some(isTimelineList));
}

export function looksLikeLabelStudioCsv(header: readonly string[]): boolean {
  return header.includes('annotation_id') && header.includes('annotator') && header.includes('lead_time');
}

function isTimelineList(v: unknown): v is LsValue[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'object' && x !== null && 'ranges' in x && 'timelinelabels' in x);
}

export function readLabelStudio(ctx: ReadContext): ReadResult {
  if (/^\s*\[/.test(ctx.text)) {
    const tasks = parseJson(ctx.file, ctx.text);
    if (!Array.isArray(tasks)) throw new UserError('invalid_input', `${ctx.file}: a Label Studio export is a JSON array of tasks; nothing was imported.`);
    const full = tasks.some((t) => typeof t === 'object' && t !== null && 'annotations' in t);
    return full ? { kind: 'Label Studio JSON', labels: readFull(ctx, tasks as LsTask[]) } : { kind: 'Label Studio JSON-MIN', labels: readMin(ctx, tasks as Array<Record<string, unknown>>) };
  }
  return { kind: 'Label Studio CSV', labels: readCsv(ctx) };
}

function readFull(ctx: ReadContext, tasks: LsTask[]): ForeignLabel[] {
  const labels: ForeignLabel[] = [];
  tasks.forEach((task, taskIndex) => {
    const taskName = `task ${taskIndex + 1}${task.id !== undefined ? ` (id ${task.id})` : ''}`;
    const video = videoOf(task.data ?? {});
    if (!video) {
      ctx.problems.add(taskName, 'data has no video file');
      return;
    }
    (task.annotations ?? []).forEach((annotation, annotationIndex) => {
      if (annotation.was_cancelled) return;
      const results = (annotation.result ?? []).filter((r) => r.type === 'timelinelabels');
      const timelines = new Set(results.map((r) => r.from_name ?? ''));
      results.forEach((result, resultIndex) => {
        const where = `${taskName}, annotation ${annotationIndex + 1}, result ${resultIndex + 1}`;
        const subject = timelines.size > 1 ? (result.from_name ?? null) : null;
        labels.push(...rangeLabels(ctx, where, video, result.value ?? {}, subject));
      });
    });
  });
  return labels;
}

function readMin(ctx: ReadContext, records: Array<Record<string, unknown>>): ForeignLabel[] {
  const labels: ForeignLabel[] = [];
  records.forEach((record, index) => {
    const taskName = `record ${index + 1}${record.id !== undefined ? ` (task id ${String(record.id)})` : ''}`;
    const controls = Object.entries(record).filter((e): e is [string, LsValue[]] => isTimelineList(e[1]));
    const data = Object.fromEntries(Object.entries(record).filter(([k, v]) => !isTimelineList(v) && !MIN_META.has(k)));
    labels.push(...controlLabels(ctx, taskName, data, controls));
  });
  return labels;
}

const MIN_META = new Set(['id', 'annotator', 'annotation_id', 'created_at', 'updated_at', 'lead_time', 'agreement', 'history']);

function readCsv(ctx: ReadContext): ForeignLabel[] {
  const { records } = parseCsvRecords(ctx.file, ctx.text, { delimiter: ',' });
  const labels: ForeignLabel[] = [];
  for (const { line, values } of records) {
    const controls: Array<[string, LsValue[]]> = [];
    const data: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(values)) {
      if (MIN_META.has(key)) continue;
      if (raw.startsWith('[') && raw.includes('timelinelabels')) {
        try {
          const parsed = JSON.parse(raw) as unknown;
          if (isTimelineList(parsed)) {
            controls.push([key, parsed]);
            continue;
          }
        } catch {
          ctx.problems.add(`line ${line}`, `${key} is not valid JSON: ${raw}`);
          continue;
        }
      }
      data[key] = raw;
    }
    labels.push(...controlLabels(ctx, `line ${line}`, data, controls));
  }
  return labels;
}

function controlLabels(ctx: ReadContext, where: string, data: Record<string, unknown>, controls: Array<[string, LsValue[]]>): ForeignLabel[] {
  if (controls.length === 0) return [];
  const video = videoOf(data);
  if (!video) {
    ctx.problems.add(where, 'names no video file');
    return [];
  }
  return controls.flatMap(([name, values]) => values.flatMap((value) => rangeLabels(ctx, where, video, value, controls.length > 1 ? name : null)));
}

function rangeLabels(ctx: ReadContext, where: string, video: string, value: LsValue, subject: string | null): ForeignLabel[] {
  const fps = ctx.options.fps ?? LABEL_STUDIO_DEFAULT_FPS;
  const names = (value.timelinelabels ?? []).filter((n): n is string => typeof n === 'string');
  if (names.length === 0) ctx.problems.add(where, 'timelinelabels is empty');
  const labels: ForeignLabel[] = [];
  for (const range of value.ranges ?? []) {
    if (!Number.isInteger(range.start) || !Number.isInteger(range.end)) {
      ctx.problems.add(where, `range ${JSON.stringify(range)} must hold whole frame numbers`);
      continue;
    }
    const start = range.start as number;
    const end = range.end as number;
    for (const label of names) {
      labels.push({
        where,
        video: video,
        videoAlternatives: uploadNames(video),
        label,
        // Frame n (1-based) starts at (n - 1) / fps; an inclusive end frame n ends at n / fps.
        start: { seconds: (start - 1) / fps },
        end: { seconds: end / fps },
        point: start === end,
        subject,
        assumedFps: fps,
      });
    }
  }
  return labels;
}

/** The task's video: `video`, else the first field that names a media file; local-files URLs are unwrapped. */
function videoOf(data: Record<string, unknown>): string {
  const strings = Object.entries(data).filter((e): e is [string, string] => typeof e[1] === 'string');
  const value = strings.find(([k]) => k === 'video')?.[1] ?? strings.find(([, v]) => /\.[a-z0-9]{2,4}(\?|$)/i.test(v))?.[1] ?? strings[0]?.[1];
  if (!value) return '';
  const localFile = value.match(/[?&]d=([^&]+)/); // local-files storage: /data/local-files/?d=<path>
  if (localFile) return decodeURIComponent(localFile[1]!);
  return decodeURIComponent(value.replace(/^[a-z0-9]+:\/\/[^/]*/i, '').replace(/\?.*$/, ''));
}

/** The file name, and the file name without the 8-hex prefix Label Studio gives uploads ("3d3ad63e-name.mp4"). */
function uploadNames(video: string): string[] {
  const name = fileNameOf(video);
  const bare = name.replace(/^[0-9a-f]{8}-/, '');
  return bare !== name ? [name, bare] : [name];
}
