/**
 * Label Studio JSON export of video tasks labelled with `<TimelineLabels>`: an array of tasks, each with
 * `data.<video field>` and `annotations[].result[]` items of type `timelinelabels` whose
 * `value.ranges[]` are 1-based frame numbers with an inclusive end.
 */
import { basename } from 'node:path';
import { UserError } from '../errors.ts';
import type { ForeignLabel, ProblemList } from './labels-common.ts';

interface LsResult {
  type?: string;
  value?: { ranges?: Array<{ start?: unknown; end?: unknown }>; timelinelabels?: unknown[] };
}
interface LsTask {
  id?: number | string;
  data?: Record<string, unknown>;
  annotations?: Array<{ result?: LsResult[]; was_cancelled?: boolean }>;
}

export function looksLikeLabelStudio(text: string): boolean {
  return /^\s*\[/.test(text) && text.includes('timelinelabels');
}

/** Rows of the file; bad rows are noted in `problems` and left out. */
export function readLabelStudio(file: string, text: string, problems: ProblemList): ForeignLabel[] {
  let tasks: unknown;
  try {
    tasks = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new UserError('invalid_input', `${file} is not valid JSON (${(err as Error).message}); nothing was imported.`);
  }
  if (!Array.isArray(tasks)) throw new UserError('invalid_input', `${file}: a Label Studio export is a JSON array of tasks; nothing was imported.`);
  const labels: ForeignLabel[] = [];
  (tasks as LsTask[]).forEach((task, taskIndex) => {
    const taskName = `task ${taskIndex + 1}${task.id !== undefined ? ` (id ${task.id})` : ''}`;
    const video = videoOf(task);
    if (!video) {
      problems.add(taskName, 'data has no video file');
      return;
    }
    (task.annotations ?? []).forEach((annotation, annotationIndex) => {
      if (annotation.was_cancelled) return;
      (annotation.result ?? []).forEach((result, resultIndex) => {
        if (result.type !== 'timelinelabels') return;
        const where = `${taskName}, annotation ${annotationIndex + 1}, result ${resultIndex + 1}`;
        const names = (result.value?.timelinelabels ?? []).filter((n): n is string => typeof n === 'string');
        if (names.length === 0) problems.add(where, 'timelinelabels is empty');
        for (const range of result.value?.ranges ?? []) {
          if (!Number.isInteger(range.start) || !Number.isInteger(range.end)) {
            problems.add(where, `range ${JSON.stringify(range)} must hold whole frame numbers`);
            continue;
          }
          for (const label of names) {
            labels.push({ where, video, label, start: { frame: (range.start as number) - 1 }, end: { frame: range.end as number } });
          }
        }
      });
    });
  });
  return labels;
}

/** The task's video: `data.video`, else the first string field; uploads carry an 8-hex prefix we strip. */
function videoOf(task: LsTask): string {
  const data = task.data ?? {};
  const value = typeof data.video === 'string' ? data.video : Object.values(data).find((v): v is string => typeof v === 'string');
  if (!value) return '';
  const localFile = value.match(/[?&]d=([^&]+)/); // local-files storage: /data/local-files/?d=<path>
  if (localFile) return decodeURIComponent(localFile[1]!);
  const path = decodeURIComponent(value.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/\?.*$/, ''));
  const name = basename(path).replace(/^[0-9a-f]{8}-/, '');
  return value.includes('/data/upload/') ? name : path;
}
