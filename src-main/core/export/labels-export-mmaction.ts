/**
 * What mmaction2's `VideoDataset` trains from: every clip cut into its own file (frame-exact: the clip's
 * frames and no others, matched by timestamp as training decodes them), `train.txt` / `val.txt` with one
 * `clips/NAME.mp4 LABEL_INDEX` line per clip by the project's split, and `classes.txt` (line i = label i).
 * Clips without a split go to train.txt. The lists are written last, so an interrupted export has none.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { containerStartTime } from '../media/probe.ts';
import { runTool, lastLine } from '../media/process.ts';
import type { FfmpegTools } from '../media/locate.ts';
import type { Project } from '../store/project.ts';
import type { VideoRecord } from '../store/videos.ts';

export interface MmactionExportResult {
  dir: string;
  clips: number;
  train: number;
  val: number;
  /** Clips without a split, listed in train.txt. */
  unsplit: number;
  classes: string[];
}

export interface MmactionProgress {
  done: number;
  total: number;
  clip: string;
}

export async function exportMmaction(
  project: Project,
  tools: FfmpegTools,
  dir: string,
  opts: { videoIds?: number[]; signal?: AbortSignal; onProgress?: (p: MmactionProgress) => void } = {},
): Promise<MmactionExportResult> {
  const all = project.classes.list({ includeArchived: true });
  const target = (id: number): number => {
    const c = all.find((x) => x.id === id);
    return c?.archived && c.mergedInto !== null ? target(c.mergedInto) : id;
  };
  const videoIds = new Set(opts.videoIds ?? project.videos.list().map((v) => v.id));
  const clips = project.clips.list().filter((c) => videoIds.has(c.videoId));
  if (clips.length === 0) throw new UserError('invalid_input', 'The project has no clips to export; nothing was written.');
  // Label indices: the classes that have clips, in the project's class order.
  const used = new Set(clips.map((c) => target(c.classId)));
  const classes = all.filter((c) => used.has(c.id));
  const index = new Map(classes.map((c, i) => [c.id, i]));

  mkdirSync(join(dir, 'clips'), { recursive: true });
  const lines = { train: [] as string[], val: [] as string[] };
  const videos = new Map<number, VideoRecord>();
  const startTimes = new Map<number, number>();
  let unsplit = 0;
  for (const [i, clip] of clips.entries()) {
    if (opts.signal?.aborted) throw new UserError('cancelled', `Export cancelled after ${i} of ${clips.length} clips; train.txt and val.txt were not written.`);
    if (!videos.has(clip.videoId)) videos.set(clip.videoId, project.videos.require(clip.videoId));
    const video = videos.get(clip.videoId)!;
    if (!startTimes.has(video.id)) startTimes.set(video.id, await containerStartTime(tools, video.path));
    const cls = classes.find((c) => c.id === target(clip.classId))!;
    const name = `${safe(basename(video.name, extname(video.name)))}_${String(clip.startFrame).padStart(6, '0')}-${String(clip.endFrame).padStart(6, '0')}_${safe(cls.name)}_${clip.id}.mp4`;
    opts.onProgress?.({ done: i, total: clips.length, clip: name });
    await cutClip(tools, video, startTimes.get(video.id)!, clip.startFrame, clip.endFrame, join(dir, 'clips', name), opts.signal);
    const list = clip.split === 'val' ? lines.val : lines.train;
    if (clip.split === null) unsplit += 1;
    list.push(`clips/${name} ${index.get(cls.id)}`);
  }
  opts.onProgress?.({ done: clips.length, total: clips.length, clip: '' });
  writeAtomically(join(dir, 'classes.txt'), classes.map((c) => c.name).join('\n') + '\n');
  writeAtomically(join(dir, 'train.txt'), lines.train.map((l) => l + '\n').join(''));
  writeAtomically(join(dir, 'val.txt'), lines.val.map((l) => l + '\n').join(''));
  return { dir, clips: clips.length, train: lines.train.length, val: lines.val.length, unsplit, classes: classes.map((c) => c.name) };
}

/**
 * Encodes frames [start, end) of a video into `out`: a seek just before the first frame, then `select` keeps
 * exactly the frames whose timestamps are the clip's (run with -copyts), re-timed to start at zero.
 */
async function cutClip(tools: FfmpegTools, video: VideoRecord, startTime: number, start: number, end: number, out: string, signal?: AbortSignal): Promise<void> {
  const pts = video.framePts;
  if (!pts || pts.length < end) throw new UserError('invalid_input', `${video.name} has no frame timestamps for frames ${start}–${end}; probe it again.`);
  const gap = (i: number) => Math.min(i > 0 ? pts[i]! - pts[i - 1]! : Infinity, i + 1 < pts.length ? pts[i + 1]! - pts[i]! : Infinity, 2) / 4;
  const from = pts[start]! + startTime - gap(start);
  const to = pts[end - 1]! + startTime + gap(end - 1);
  const seek = start > 0 ? (pts[start - 1]! + pts[start]!) / 2 - 3 : 0;
  const partial = `${out}.partial.mp4`;
  const result = await runTool(tools.ffmpeg, [
    '-v', 'error', '-nostdin', '-y',
    ...(seek > 0 ? ['-ss', seek.toFixed(6)] : []),
    '-copyts', '-i', video.path,
    '-an', '-sn', '-dn',
    '-vf', `select=between(t\\,${from.toFixed(6)}\\,${to.toFixed(6)}),setpts=PTS-STARTPTS`,
    ...tools.passthroughFlags,
    '-frames:v', String(end - start),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '17', '-pix_fmt', 'yuv420p', '-movflags', '+faststart',
    partial,
  ], { signal });
  if (result.code !== 0) {
    throw new UserError('invalid_input', `${video.name}: cutting frames ${start}–${end} failed (${lastLine(result.stderr)}); the file may be damaged.`);
  }
  renameSync(partial, out);
}

function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.partial`, text);
  renameSync(`${file}.partial`, file);
}

/** A file-name-safe form of a name: letters, digits, dot, dash and underscore. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}
