/**
 * Per-frame 0/1 tables in DeepEthogram's layout: one `<video>_labels.csv` per video, an unnamed frame-index
 * column, `background` (1 where no class is on), then one column per class; one row per frame. Subjects are
 * not kept (the layout has no place for them): a frame is 1 for a class when any clip of it covers the frame.
 */
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { writeCsvTable, type CsvCell } from '../jobs/csv-table.ts';
import type { Project } from '../store/project.ts';

export interface PerFrameExportResult {
  dir: string;
  files: Array<{ file: string; video: string; frames: number }>;
  classes: string[];
}

export async function exportPerFrame(project: Project, dir: string, opts: { videoIds?: number[] } = {}): Promise<PerFrameExportResult> {
  const classes = project.classes.list().filter((c) => !c.archived);
  const column = new Map(classes.map((c, i) => [c.id, i]));
  // Clips of archived classes follow the class they were merged into, when there is one.
  for (const c of project.classes.list({ includeArchived: true })) {
    if (c.archived && c.mergedInto !== null && column.has(c.mergedInto)) column.set(c.id, column.get(c.mergedInto)!);
  }
  mkdirSync(dir, { recursive: true });
  const files: PerFrameExportResult['files'] = [];
  const videoIds = opts.videoIds ?? project.videos.list().map((v) => v.id);
  const usedNames = new Set<string>();
  for (const id of videoIds) {
    const video = project.videos.require(id);
    if (video.frameCount === null) {
      throw new UserError('invalid_input', `${video.name} has no frame count yet (it was never probed); nothing was written for it.`);
    }
    const frames = video.frameCount;
    const on = new Uint8Array(frames * classes.length);
    for (const clip of project.clips.list({ videoId: id })) {
      const k = column.get(clip.classId);
      if (k === undefined) continue;
      for (let f = clip.startFrame; f < Math.min(clip.endFrame, frames); f++) on[f * classes.length + k] = 1;
    }
    let name = `${basename(video.name, extname(video.name))}_labels.csv`;
    for (let n = 2; usedNames.has(name); n++) name = `${basename(video.name, extname(video.name))}-${n}_labels.csv`;
    usedNames.add(name);
    const file = join(dir, name);
    function* rows(): Iterable<CsvCell[]> {
      for (let f = 0; f < frames; f++) {
        const row = Array.from(on.subarray(f * classes.length, (f + 1) * classes.length));
        yield [f, row.some((v) => v === 1) ? 0 : 1, ...row];
      }
    }
    await writeCsvTable(file, ['', 'background', ...classes.map((c) => c.name)], rows());
    files.push({ file, video: video.name, frames });
  }
  return { dir, files, classes: classes.map((c) => c.name) };
}
