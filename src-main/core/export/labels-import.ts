/**
 * Label import: read a file in any supported format, match its videos (by path, then file name) and
 * classes (by name), check every frame range against the video, then add everything as one edit — or
 * nothing, with every problem listed by line.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename, extname } from 'node:path';
import { quoted, UserError } from '../errors.ts';
import type { NewClip } from '../store/clips.ts';
import type { Project } from '../store/project.ts';
import { secondsToFrame } from '../store/timebase.ts';
import type { VideoRecord } from '../store/videos.ts';
import { looksLikeBorisEvents, looksLikeBorisProject, readBoris } from './labels-boris.ts';
import { detectDelimiter, parseCsvRecords, ProblemList, type ForeignLabel, type LabelReadOptions, type LabelTime, type ReadContext, type ReadResult } from './labels-common.ts';
import { looksLikeStmCsv, readLabelsCsv } from './labels-csv.ts';
import { looksLikeElan, readElan } from './labels-elan.ts';
import { looksLikeLabelStudioCsv, looksLikeLabelStudioJson, readLabelStudio } from './labels-labelstudio.ts';
import { looksLikePerFrame, readPerFrame } from './labels-per-frame.ts';
import { looksLikeViaCsv, looksLikeViaProject, readVia } from './labels-via.ts';

export type LabelFormat = 'auto' | 'stm' | 'boris' | 'via' | 'labelstudio' | 'per-frame' | 'elan';

export interface LabelImportResult {
  file: string;
  format: Exclude<LabelFormat, 'auto'>;
  /** What the file was recognised as, in words: "BORIS tabular events (TSV)". */
  recognised: string;
  /** Clips added. */
  imported: number;
  /** Rows identical to a clip already in the project (same video, class, frames and subject), left alone. */
  duplicates: number;
  createdClasses: string[];
  videos: number;
  /** Subjects the imported clips name. */
  subjects: string[];
  /** Things the user should know that did not stop the import (skipped rows, an assumed frame rate). */
  notes: string[];
}

export interface LabelImportOptions extends LabelReadOptions {
  format?: LabelFormat;
  createClasses?: boolean;
}

export function importLabels(project: Project, file: string, opts: LabelImportOptions = {}): LabelImportResult {
  let text: string;
  try {
    // BORIS saves compressed projects as .boris.gz.
    text = file.toLowerCase().endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError('not_found', `Cannot read ${file}: ${(err as Error).message}`);
  }
  const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(file, text);
  const problems = new ProblemList();
  const notes: string[] = [];
  const videos = new Map<string, VideoRecord | null>();
  const videoFor = (name: string): VideoRecord | null => {
    if (!videos.has(name)) {
      const info = project.videos.findByPathOrName(name) ?? findByStem(project, name);
      videos.set(name, info ? project.videos.get(info.id) : null);
    }
    return videos.get(name)!;
  };
  const ctx: ReadContext = { file, text, problems, notes, options: opts, hasVideo: (name) => videoFor(name) !== null };
  const { kind, labels }: ReadResult = readers[format](ctx);
  if (labels.length === 0 && problems.items.length === 0) {
    throw new UserError('invalid_input', `${file} (${kind}) holds no labels${notes.length ? ` (${notes.join('; ')})` : ''}; nothing was imported.`);
  }

  const classIds = new Map<string, number | null>(); // as written → id, looked up once per name
  const classIdOf = (name: string): number | null => {
    if (!classIds.has(name)) classIds.set(name, project.classes.findByName(name)?.id ?? null);
    return classIds.get(name)!;
  };
  const missingClasses = new Map<string, string>(); // lower-case name → name as first written
  const planned: Array<{ label: ForeignLabel; video: VideoRecord; startFrame: number; endFrame: number }> = [];
  const rateWarned = new Set<number>();

  for (const label of labels) {
    const video = [label.video, ...(label.videoAlternatives ?? [])].map(videoFor).find((v) => v !== null) ?? null;
    if (!video) problems.add(label.where, describeMissingVideo(project, label.video));
    const cls = classIdOf(label.label);
    if (cls === null && !opts.createClasses) problems.add(label.where, `class ${quoted(label.label)} does not exist (add it, or import with --create-classes)`);
    if (cls === null && !missingClasses.has(label.label.toLowerCase())) missingClasses.set(label.label.toLowerCase(), label.label);
    if (!video) continue;
    if (label.assumedFps !== undefined && video.fps && Math.abs(video.fps - label.assumedFps) > 0.01 && !rateWarned.has(video.id)) {
      rateWarned.add(video.id);
      notes.push(
        `${video.name} plays at ${round(video.fps)} fps but frames were read at ${round(label.assumedFps)} fps; ` +
          `if the labelling project's <Video framerate> is ${round(video.fps)}, import again with --fps ${round(video.fps)}`,
      );
    }
    const pastEnd = pastTheEnd(video, label);
    if (pastEnd) {
      problems.add(label.where, pastEnd);
      continue;
    }
    const startFrame = toFrame(video, label.start);
    let endFrame = toFrame(video, label.end);
    if (label.point && endFrame <= startFrame) endFrame = startFrame + 1;
    if (startFrame < 0) problems.add(label.where, `start ${describe(label.start)} is negative`);
    else if (endFrame <= startFrame) {
      problems.add(label.where, `end ${describe(label.end)} is not after start ${describe(label.start)} (frames ${startFrame}–${endFrame})`);
    } else if (video.frameCount !== null && endFrame > video.frameCount) {
      problems.add(label.where, `end frame ${endFrame} is past the end of ${video.name} (${lengthOf(video)})`);
    } else planned.push({ label, video, startFrame, endFrame });
  }
  problems.throwIfAny(file);

  const createdClasses = [...missingClasses.values()];
  let duplicates = 0;
  const imported = project.history.edit(`Import ${planned.length} labels from ${basename(file)}`, (track) => {
    for (const name of createdClasses) project.classes.addWith({ name }, track);
    classIds.clear(); // the classes just created have ids now
    const clips: NewClip[] = [];
    const seen = new Set<string>();
    for (const p of planned) {
      const classId = classIdOf(p.label.label)!;
      const subject = p.label.subject ?? null;
      const key = `${p.video.id}:${classId}:${p.startFrame}:${p.endFrame}:${subject ?? ''}`;
      if (seen.has(key) || project.clips.exists(p.video.id, classId, p.startFrame, p.endFrame, subject)) {
        duplicates += 1;
        continue;
      }
      seen.add(key);
      clips.push({
        videoId: p.video.id,
        classId,
        startFrame: p.startFrame,
        endFrame: p.endFrame,
        split: p.label.split ?? null,
        source: 'imported',
        subject,
      });
    }
    for (const clip of clips) project.clips.insertWith(clip, track);
    return clips.length;
  });
  const subjects = [...new Set(planned.map((p) => p.label.subject).filter((s): s is string => !!s))].sort();
  return { file, format, recognised: kind, imported, duplicates, createdClasses, videos: new Set(planned.map((p) => p.video.id)).size, subjects, notes };
}

const readers: Record<Exclude<LabelFormat, 'auto'>, (ctx: ReadContext) => ReadResult> = {
  stm: readLabelsCsv,
  boris: readBoris,
  via: readVia,
  labelstudio: readLabelStudio,
  'per-frame': readPerFrame,
  elan: readElan,
};

/** Recognises a file by its content (the extension only breaks ties). */
export function detectFormat(file: string, text: string): Exclude<LabelFormat, 'auto'> {
  const head = text.replace(/^\uFEFF/, '');
  if (/^\s*</.test(head)) {
    if (looksLikeElan(head)) return 'elan';
  } else if (/^\s*[[{]/.test(head)) {
    let value: unknown;
    try {
      value = JSON.parse(head);
    } catch (err) {
      throw new UserError('invalid_input', `${file} is not valid JSON (${(err as Error).message}); nothing was imported.`);
    }
    if (looksLikeBorisProject(value)) return 'boris';
    if (looksLikeViaProject(value) || looksLikeViaProject((value as { store?: unknown }).store)) return 'via';
    if (looksLikeLabelStudioJson(value)) return 'labelstudio';
  } else {
    if (looksLikeViaCsv(head)) return 'via';
    if (looksLikeBorisEvents(head)) return 'boris';
    const firstLines = head.split(/\r?\n/, 6).filter((l) => l.trim() !== '');
    if (firstLines.length > 0) {
      const { header, records } = parseCsvRecords(file, firstLines.join('\n'), { delimiter: detectDelimiter(firstLines[0]!) });
      if (looksLikeStmCsv(header)) return 'stm';
      if (looksLikeLabelStudioCsv(header)) return 'labelstudio';
      if (looksLikePerFrame(header, records.map((r) => header.map((h) => r.values[h] ?? '')))) return 'per-frame';
    }
  }
  if (/\.boris(\.gz)?$/i.test(file)) return 'boris';
  if (extname(file).toLowerCase() === '.eaf') return 'elan';
  throw new UserError(
    'invalid_input',
    `${file}: line 1: cannot tell the format (expected our labels CSV, BORIS events or project, VIA 3 CSV or project, Label Studio JSON/JSON-MIN/CSV, a per-frame 0/1 CSV or ELAN .eaf); pass --format.`,
  );
}

/** A problem when a time lies past the video's end (seconds past the duration, frames past the frame count). */
function pastTheEnd(video: VideoRecord, label: ForeignLabel): string | null {
  for (const [side, time] of [['start', label.start], ['end', label.end]] as const) {
    if ('frame' in time) {
      const limit = side === 'start' ? time.frame >= (video.frameCount ?? Infinity) : false;
      if (limit) return `start frame ${time.frame} is past the end of ${video.name} (${lengthOf(video)})`;
      continue;
    }
    const duration = video.durationS;
    if (duration === null) continue;
    // Exports round times (BORIS to 1 ms): allow half a frame.
    const slack = 0.5 / (video.fps || 25);
    const over = side === 'start' ? time.seconds >= duration : time.seconds > duration + slack;
    if (over) return `${side} ${round(time.seconds)} s is past the end of ${video.name} (${round(duration)} s long)`;
  }
  return null;
}

/** A name without an extension (a per-frame file's stem) matches the one video whose name has that stem. */
function findByStem(project: Project, name: string): { id: number } | null {
  if (extname(name) !== '' || name === '') return null;
  const matches = project.videos.list().filter((v) => basename(v.name, extname(v.name)).toLowerCase() === name.toLowerCase());
  return matches.length === 1 ? matches[0]! : null;
}

/** "300 frames, 12 s long". */
function lengthOf(video: VideoRecord): string {
  return `${video.frameCount} frames${video.durationS !== null ? `, ${round(video.durationS)} s long` : ''}`;
}

function describeMissingVideo(project: Project, video: string): string {
  const name = basename(video.replace(/\\/g, '/')).toLowerCase();
  const sameName = project.videos.list().filter((v) => v.name.toLowerCase() === name);
  if (sameName.length > 1) {
    return `video "${video}" matches ${sameName.length} videos by file name (${sameName.map((v) => v.path).join(', ')}); give its full path`;
  }
  return `video "${video}" is not in the project (matched by path, then file name)`;
}

function toFrame(video: VideoRecord, time: LabelTime): number {
  return 'frame' in time ? time.frame : secondsToFrame(video, time.seconds);
}

function describe(time: LabelTime): string {
  return 'frame' in time ? `frame ${time.frame}` : `${round(time.seconds)} s`;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
