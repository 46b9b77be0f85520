/**
 * Labels for BORIS, one observation per video with a START and a STOP event per clip (at the times of its
 * first frame and of the frame after its last). BORIS cannot hold two overlapping states of one behaviour for
 * one subject, so such clips are joined.
 * - `.boris`: a BORIS project (JSON, project format 7.0): File ▸ Open project, or Observations ▸ Import
 *   observations into an existing project;
 * - otherwise tabular events (TSV) laid out as BORIS's own "Export events ▸ Tabular events" writes them, for
 *   the scripts and tools that read BORIS exports.
 * `labels import` reads both back.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../errors.ts';
import { writeCsvTable, type CsvCell } from '../jobs/csv-table.ts';
import type { Project } from '../store/project.ts';
import { frameToSeconds } from '../store/timebase.ts';
import type { VideoRecord } from '../store/videos.ts';

export const BORIS_TABULAR_HEADER = [
  'Observation id', 'Observation date', 'Description', 'Observation duration', 'Observation type', 'Source', 'Time offset (s)',
  'Media duration (s)', 'FPS', 'Subject', 'Behavior', 'Behavioral category', 'Behavior type', 'Time', 'Media file name',
  'Image index', 'Image file path', 'Comment',
];

export interface BorisExportResult {
  file: string;
  /** Clips written (one START and one STOP each). */
  clips: number;
  videos: number;
  /** Overlapping clips of one class and subject that were joined. */
  joined: number;
}

interface BorisEvent {
  time: number;
  frame: number;
  status: 'START' | 'STOP';
  subject: string;
  behavior: string;
}

interface Observation {
  id: string;
  video: VideoRecord;
  duration: number;
  events: BorisEvent[];
}

/** One observation per video that has clips, its events in time order (a STOP before a START at one time). */
function observations(project: Project, videoIds?: number[]): { list: Observation[]; clips: number; joined: number } {
  const classNames = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const ids = new Set<string>();
  let clips = 0;
  let joined = 0;
  const list: Observation[] = [];
  for (const id of videoIds ?? project.videos.list().map((v) => v.id)) {
    const video = project.videos.require(id);
    const spans = new Map<string, { behavior: string; subject: string; ranges: Array<[number, number]> }>();
    for (const clip of project.clips.list({ videoId: id })) {
      const key = `${clip.classId}\u0000${clip.subject ?? ''}`;
      if (!spans.has(key)) spans.set(key, { behavior: classNames.get(clip.classId) ?? String(clip.classId), subject: clip.subject ?? '', ranges: [] });
      const ranges = spans.get(key)!.ranges;
      const last = ranges[ranges.length - 1];
      if (last && clip.startFrame < last[1]) {
        last[1] = Math.max(last[1], clip.endFrame);
        joined += 1;
      } else ranges.push([clip.startFrame, clip.endFrame]);
    }
    if (spans.size === 0) continue;
    const events: BorisEvent[] = [];
    for (const { behavior, subject, ranges } of spans.values()) {
      for (const [start, end] of ranges) {
        clips += 1;
        events.push({ time: round3(frameToSeconds(video, start)), frame: start, status: 'START', subject, behavior });
        events.push({ time: round3(frameToSeconds(video, end)), frame: end, status: 'STOP', subject, behavior });
      }
    }
    events.sort((a, b) => a.time - b.time || Number(b.status === 'STOP') - Number(a.status === 'STOP'));
    let observationId = video.name;
    for (let n = 2; ids.has(observationId); n++) observationId = `${video.name} (${n})`;
    ids.add(observationId);
    list.push({ id: observationId, video, duration: video.durationS ?? frameToSeconds(video, video.frameCount ?? 0), events });
  }
  return { list, clips, joined };
}

export async function exportBoris(project: Project, file: string, opts: { videoIds?: number[] } = {}): Promise<BorisExportResult> {
  const { list, clips, joined } = observations(project, opts.videoIds);
  if (/\.boris$/i.test(file)) writeProject(project, file, list);
  else await writeTabular(file, list);
  return { file, clips, videos: list.length, joined };
}

async function writeTabular(file: string, list: Observation[]): Promise<void> {
  const date = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const rows: CsvCell[][] = [];
  for (const { id, video, duration, events } of list) {
    const observation: CsvCell[] = [id, date, '', ms(duration), 'Media file(s)', `player #1:${video.path}`, '0.0', ms(duration), (video.fps ?? 0).toFixed(3)];
    for (const e of events) rows.push([...observation, e.subject, e.behavior, '', e.status, ms(e.time), video.path, e.frame, 'NA', '']);
  }
  await writeCsvTable(file, BORIS_TABULAR_HEADER, rows, { delimiter: '\t' });
}

function writeProject(project: Project, file: string, list: Observation[]): void {
  const now = new Date().toISOString().slice(0, 19);
  const behaviors = [...new Set(list.flatMap((o) => o.events.map((e) => e.behavior)))];
  const subjects = [...new Set(list.flatMap((o) => o.events.map((e) => e.subject)).filter((s) => s !== ''))].sort();
  const hotkeys = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.name, c.hotkey ?? '']));
  const players = (path: string) => Object.fromEntries(Array.from({ length: 8 }, (_, i) => [String(i + 1), i === 0 ? [path] : []]));
  const boris = {
    time_format: 'hh:mm:ss',
    project_date: now,
    project_name: basename(file).replace(/\.boris$/i, ''),
    project_description: 'Labels exported from STM Studio',
    project_format_version: '7.0',
    subjects_conf: Object.fromEntries(subjects.map((name, i) => [String(i), { key: '', name, description: '' }])),
    behaviors_conf: Object.fromEntries(
      behaviors.map((code, i) => [
        String(i),
        { type: 'State event', key: (hotkeys.get(code) ?? '').length === 1 ? hotkeys.get(code)! : '', code, description: '', color: '', category: '', modifiers: {}, excluded: '', 'coding map': '' },
      ]),
    ),
    observations: Object.fromEntries(
      list.map(({ id, video, duration, events }) => [
        id,
        {
          date: now,
          description: '',
          type: 'MEDIA',
          file: players(video.path),
          'time offset': 0.0,
          events: events.map((e) => [e.time, e.subject, e.behavior, '', '']),
          independent_variables: {},
          visualize_spectrogram: false,
          visualize_waveform: false,
          close_behaviors_between_videos: false,
          media_info: {
            length: { [video.path]: round3(duration) },
            fps: { [video.path]: video.fps ?? 0 },
            hasVideo: { [video.path]: true },
            hasAudio: { [video.path]: video.hasAudio },
            offset: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [String(i + 1), 0.0])),
          },
        },
      ]),
    ),
    behavioral_categories: [],
    behavioral_categories_config: {},
    independent_variables: {},
    coding_map: {},
    behaviors_coding_map: [],
    converters: {},
  };
  try {
    writeFileSync(`${file}.partial`, JSON.stringify(boris));
    renameSync(`${file}.partial`, file);
  } catch (err) {
    throw new UserError('invalid_input', `Cannot write ${file}: ${(err as Error).message}`);
  }
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function ms(seconds: number): string {
  return seconds.toFixed(3);
}
