/**
 * Label export: our labels CSV (every clip), or the formats other tools read: BORIS tabular events,
 * DeepEthogram-style per-frame tables, mmaction2 clip lists with the clips cut out.
 */
import type { FfmpegTools } from '../media/locate.ts';
import type { Project } from '../store/project.ts';
import { frameToSeconds } from '../store/timebase.ts';
import type { VideoRecord } from '../store/videos.ts';
import { writeLabelsCsv, type LabelCsvRow } from './labels-csv.ts';
import { exportBoris } from './labels-export-boris.ts';
import { exportMmaction, type MmactionProgress } from './labels-export-mmaction.ts';
import { exportPerFrame } from './labels-export-per-frame.ts';

export type LabelExportFormat = 'stm' | 'boris' | 'per-frame' | 'mmaction';

export interface LabelExportResult {
  format: LabelExportFormat;
  /** The file (stm, boris) or folder (per-frame, mmaction) written. */
  file: string;
  /** Clips exported. */
  rows: number;
  /** Every file written. */
  files: string[];
  /** What the user should know about the result ("3 clips without a split went to train.txt"). */
  notes: string[];
}

export interface LabelExportOptions {
  videoIds?: number[];
  /** mmaction only: ffmpeg cuts the clips. */
  tools?: FfmpegTools;
  signal?: AbortSignal;
  onProgress?: (p: MmactionProgress) => void;
}

export async function exportLabels(project: Project, file: string, opts: LabelExportOptions & { format?: LabelExportFormat } = {}): Promise<LabelExportResult> {
  const format = opts.format ?? 'stm';
  if (format === 'boris') {
    const r = await exportBoris(project, file, opts);
    const notes = r.joined ? [`${r.joined} overlapping clip${r.joined === 1 ? '' : 's'} of one class and subject ${r.joined === 1 ? 'was' : 'were'} joined (BORIS cannot hold overlapping states)`] : [];
    return { format, file, rows: r.clips, files: [file], notes };
  }
  if (format === 'per-frame') {
    const r = await exportPerFrame(project, file, opts);
    const ids = opts.videoIds ?? project.videos.list().map((v) => v.id);
    const rows = ids.reduce((n, id) => n + project.clips.count({ videoId: id }), 0);
    const notes = ids.some((id) => project.clips.subjects(id).length > 0) ? ['subjects are not kept: the per-frame layout has no place for them'] : [];
    return { format, file, rows, files: r.files.map((f) => f.file), notes };
  }
  if (format === 'mmaction') {
    if (!opts.tools) throw new Error('mmaction export needs ffmpeg tools');
    const r = await exportMmaction(project, opts.tools, file, opts);
    const notes = r.unsplit ? [`${r.unsplit} clip${r.unsplit === 1 ? '' : 's'} without a split went to train.txt`] : [];
    return { format, file, rows: r.clips, files: ['classes.txt', 'train.txt', 'val.txt'].map((n) => `${file}/${n}`), notes };
  }
  return { format, file, rows: await writeStmCsv(project, file, opts.videoIds), files: [file], notes: [] };
}

function writeStmCsv(project: Project, file: string, ids?: number[]): Promise<number> {
  const classNames = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const videoIds = ids ?? project.videos.list().map((v) => v.id);
  function* rows(): Iterable<LabelCsvRow> {
    for (const id of videoIds) {
      const video: VideoRecord = project.videos.require(id);
      for (const clip of project.clips.list({ videoId: id })) {
        yield {
          video: video.name,
          videoPath: video.path,
          startFrame: clip.startFrame,
          endFrame: clip.endFrame,
          startS: frameToSeconds(video, clip.startFrame),
          endS: frameToSeconds(video, clip.endFrame),
          label: classNames.get(clip.classId) ?? String(clip.classId),
          split: clip.split,
          source: clip.source,
          subject: clip.subject,
        };
      }
    }
  }
  return writeLabelsCsv(file, rows());
}
