/**
 * BORIS tabular events (TSV), laid out as BORIS's own "Export events ▸ Tabular events" writes them (one
 * observation per video; a START and a STOP row per clip, at the times of its first frame and of the frame
 * after its last): what BORIS users pass between tools, and what `labels import` reads back. BORIS cannot hold
 * two overlapping states of one behaviour for one subject, so such clips are joined.
 */
import { writeCsvTable, type CsvCell } from '../jobs/csv-table.ts';
import type { Project } from '../store/project.ts';
import { frameToSeconds } from '../store/timebase.ts';

export const BORIS_TABULAR_HEADER = [
  'Observation id', 'Observation date', 'Description', 'Observation duration', 'Observation type', 'Source', 'Time offset (s)',
  'Media duration (s)', 'FPS', 'Subject', 'Behavior', 'Behavioral category', 'Behavior type', 'Time', 'Media file name',
  'Image index', 'Image file path', 'Comment',
];

export interface BorisExportResult {
  file: string;
  /** Clips written (one START and one STOP row each). */
  clips: number;
  videos: number;
  /** Overlapping clips of one class and subject that were joined. */
  joined: number;
}

export async function exportBorisTabular(project: Project, file: string, opts: { videoIds?: number[] } = {}): Promise<BorisExportResult> {
  const classNames = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const videoIds = opts.videoIds ?? project.videos.list().map((v) => v.id);
  const date = new Date().toISOString().slice(0, 19).replace('T', ' ');
  let clips = 0;
  let joined = 0;
  let videos = 0;
  const rows: CsvCell[][] = [];
  for (const id of videoIds) {
    const video = project.videos.require(id);
    // One span list per (class, subject), overlapping spans joined.
    const spans = new Map<string, { label: string; subject: string; ranges: Array<[number, number]> }>();
    for (const clip of project.clips.list({ videoId: id })) {
      const key = `${clip.classId}\u0000${clip.subject ?? ''}`;
      if (!spans.has(key)) spans.set(key, { label: classNames.get(clip.classId) ?? String(clip.classId), subject: clip.subject ?? '', ranges: [] });
      const ranges = spans.get(key)!.ranges;
      const last = ranges[ranges.length - 1];
      if (last && clip.startFrame < last[1]) {
        last[1] = Math.max(last[1], clip.endFrame);
        joined += 1;
      } else ranges.push([clip.startFrame, clip.endFrame]);
    }
    if (spans.size === 0) continue;
    videos += 1;
    const duration = video.durationS ?? frameToSeconds(video, video.frameCount ?? 0);
    const observation: CsvCell[] = [
      video.name, date, '', ms(duration), 'Media file(s)', `player #1:${video.path}`, '0.0', ms(duration), (video.fps ?? 0).toFixed(3),
    ];
    const events: Array<{ time: number; stop: boolean; cells: CsvCell[] }> = [];
    for (const { label, subject, ranges } of spans.values()) {
      for (const [start, end] of ranges) {
        clips += 1;
        for (const [frame, status] of [[start, 'START'], [end, 'STOP']] as const) {
          const time = frameToSeconds(video, frame);
          events.push({ time, stop: status === 'STOP', cells: [...observation, subject, label, '', status, ms(time), video.path, frame, 'NA', ''] });
        }
      }
    }
    // In time order; a STOP before a START at the same time, so back-to-back clips stay paired.
    events.sort((a, b) => a.time - b.time || Number(b.stop) - Number(a.stop));
    rows.push(...events.map((e) => e.cells));
  }
  await writeCsvTable(file, BORIS_TABULAR_HEADER, rows, { delimiter: '\t' });
  return { file, clips, videos, joined };
}

function ms(seconds: number): string {
  return seconds.toFixed(3);
}
