/** Exports every clip of the project (or of some videos) as our labels CSV. */
import type { Project } from '../store/project.ts';
import { frameToSeconds } from '../store/timebase.ts';
import type { VideoRecord } from '../store/videos.ts';
import { writeLabelsCsv, type LabelCsvRow } from './labels-csv.ts';

export interface LabelExportResult {
  file: string;
  rows: number;
}

export async function exportLabels(project: Project, file: string, opts: { videoIds?: number[] } = {}): Promise<LabelExportResult> {
  const classNames = new Map(project.classes.list({ includeArchived: true }).map((c) => [c.id, c.name]));
  const videoIds = opts.videoIds ?? project.videos.list().map((v) => v.id);
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
  return { file, rows: await writeLabelsCsv(file, rows()) };
}
