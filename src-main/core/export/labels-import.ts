/**
 * Label import: read a file in any supported format, match its videos (by path, then file name) and
 * classes (by name), check every frame range, then add everything as one edit — or nothing, with every
 * problem listed by line.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { quoted, UserError } from '../errors.ts';
import type { NewClip } from '../store/clips.ts';
import type { Project } from '../store/project.ts';
import { secondsToFrame } from '../store/timebase.ts';
import type { VideoInfo, VideoRecord } from '../store/videos.ts';
import { looksLikeBoris, readBoris } from './labels-boris.ts';
import { parseCsvRecords, ProblemList, type ForeignLabel, type LabelTime } from './labels-common.ts';
import { looksLikeStmCsv, readLabelsCsv } from './labels-csv.ts';
import { looksLikeLabelStudio, readLabelStudio } from './labels-labelstudio.ts';
import { looksLikeVia, readVia } from './labels-via.ts';

export const LABEL_FORMATS = ['auto', 'stm', 'via', 'boris', 'labelstudio'] as const;
export type LabelFormat = (typeof LABEL_FORMATS)[number];

export interface LabelImportResult {
  file: string;
  format: Exclude<LabelFormat, 'auto'>;
  /** Clips added. */
  imported: number;
  /** Rows identical to a clip already in the project (same video, class and frames), left alone. */
  duplicates: number;
  createdClasses: string[];
  videos: number;
}

export function importLabels(
  project: Project,
  file: string,
  opts: { format?: LabelFormat; createClasses?: boolean } = {},
): LabelImportResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError('not_found', `Cannot read ${file}: ${(err as Error).message}`);
  }
  const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(file, text);
  const problems = new ProblemList();
  const labels = readers[format](file, text, problems);
  if (labels.length === 0 && problems.items.length === 0) {
    throw new UserError('invalid_input', `${file} holds no labels; nothing was imported.`);
  }

  const videos = new Map<string, VideoRecord | null>();
  const videoFor = (name: string): VideoRecord | null => {
    if (!videos.has(name)) {
      const info: VideoInfo | null = project.videos.findByPathOrName(name);
      videos.set(name, info ? project.videos.get(info.id) : null);
    }
    return videos.get(name)!;
  };
  const classIds = new Map<string, number | null>(); // as written → id, looked up once per name
  const classIdOf = (name: string): number | null => {
    if (!classIds.has(name)) classIds.set(name, project.classes.findByName(name)?.id ?? null);
    return classIds.get(name)!;
  };
  const missingClasses = new Map<string, string>(); // lower-case name → name as first written
  const planned: Array<{ label: ForeignLabel; video: VideoRecord; startFrame: number; endFrame: number }> = [];

  for (const label of labels) {
    const video = videoFor(label.video);
    if (!video) problems.add(label.where, describeMissingVideo(project, label.video));
    const cls = classIdOf(label.label);
    if (cls === null && !opts.createClasses) problems.add(label.where, `class ${quoted(label.label)} does not exist (add it, or import with --create-classes)`);
    if (cls === null && !missingClasses.has(label.label.toLowerCase())) missingClasses.set(label.label.toLowerCase(), label.label);
    if (!video) continue;
    const startFrame = toFrame(video, label.start);
    let endFrame = toFrame(video, label.end);
    if (label.point && endFrame === startFrame) endFrame = startFrame + 1;
    if (startFrame < 0) problems.add(label.where, `start frame ${startFrame} is negative`);
    else if (endFrame <= startFrame) {
      problems.add(label.where, `end ${describe(label.end)} is not after start ${describe(label.start)} (frames ${startFrame}–${endFrame})`);
    } else if (video.frameCount !== null && endFrame > video.frameCount) {
      problems.add(label.where, `end frame ${endFrame} is past the end of ${video.name} (${video.frameCount} frames)`);
    } else planned.push({ label, video, startFrame, endFrame });
  }
  problems.throwIfAny(file);

  const createdClasses = [...missingClasses.values()];
  let duplicates = 0;
  const imported = project.history.edit(`Import ${planned.length} labels from ${file}`, (track) => {
    for (const name of createdClasses) project.classes.addWith({ name }, track);
    classIds.clear(); // the classes just created have ids now
    const clips: NewClip[] = [];
    const seen = new Set<string>();
    for (const p of planned) {
      const classId = classIdOf(p.label.label)!;
      const key = `${p.video.id}:${classId}:${p.startFrame}:${p.endFrame}`;
      if (seen.has(key) || project.clips.exists(p.video.id, classId, p.startFrame, p.endFrame)) {
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
      });
    }
    for (const clip of clips) project.clips.insertWith(clip, track);
    return clips.length;
  });
  return { file, format, imported, duplicates, createdClasses, videos: new Set(planned.map((p) => p.video.id)).size };
}

const readers: Record<Exclude<LabelFormat, 'auto'>, (file: string, text: string, problems: ProblemList) => ForeignLabel[]> = {
  stm: readLabelsCsv,
  via: readVia,
  boris: readBoris,
  labelstudio: readLabelStudio,
};

function detectFormat(file: string, text: string): Exclude<LabelFormat, 'auto'> {
  if (extname(file).toLowerCase() === '.json' || looksLikeLabelStudio(text)) return 'labelstudio';
  if (looksLikeVia(text)) return 'via';
  const firstLine = text.split(/\r?\n/, 1)[0] ?? '';
  const { header } = parseCsvRecords(file, firstLine);
  if (looksLikeBoris(header)) return 'boris';
  if (looksLikeStmCsv(header)) return 'stm';
  throw new UserError(
    'invalid_input',
    `${file}: line 1: cannot tell the format (expected a labels CSV, VIA CSV, BORIS aggregated events or Label Studio JSON); pass --format.`,
  );
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
  return 'frame' in time ? `frame ${time.frame}` : `${time.seconds} s`;
}
