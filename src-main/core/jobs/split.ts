/**
 * Train/validation split of labelled clips. By video: every clip of a validation video is in validation, so
 * the score is never inflated by near-identical frames of one recording on both sides. By clip: a share of
 * each class's clips, for projects labelled on one video (validation then sees the same recording, so its
 * figures can be optimistic). Fixed: the split the user stored on each clip (clips without one train).
 */
import { seededRng } from '../media/sampling.ts';

export type SplitMode = 'video' | 'clip' | 'fixed';

export interface SplittableClip {
  id: number;
  videoId: number;
  classId: number;
  split: 'train' | 'val' | null;
}

export interface ClipSplit<C> {
  train: C[];
  val: C[];
  /** Why validation is empty or how it was chosen, for the job log. */
  note: string;
}


export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function splitClips<C extends SplittableClip>(
  clips: readonly C[],
  mode: SplitMode,
  options: { valFraction?: number; seed?: number } = {},
): ClipSplit<C> {
  if (mode === 'fixed') {
    const val = clips.filter((c) => c.split === 'val');
    const train = clips.filter((c) => c.split !== 'val');
    return { train, val, note: `fixed split: ${train.length} training clips, ${val.length} validation clips` };
  }
  const valFraction = options.valFraction ?? 0.2;
  if (mode === 'clip') return splitByClip(clips, valFraction, options.seed ?? 1);
  const videos = [...new Set(clips.map((c) => c.videoId))];
  if (videos.length < 2 || valFraction <= 0) {
    return { train: [...clips], val: [], note: 'only one video: no validation split (figures are on training clips)' };
  }
  const random = seededRng(options.seed ?? 1);
  const target = Math.max(1, Math.round(clips.length * valFraction));
  const valVideos = new Set<number>();
  let valCount = 0;
  // Keep at least one video for training; prefer videos whose classes stay represented in training.
  for (const video of shuffled(videos, random)) {
    if (valCount >= target || valVideos.size >= videos.length - 1) break;
    const remaining = clips.filter((c) => !valVideos.has(c.videoId) && c.videoId !== video);
    const remainingClasses = new Set(remaining.map((c) => c.classId));
    const videoClasses = new Set(clips.filter((c) => c.videoId === video).map((c) => c.classId));
    if ([...videoClasses].some((cls) => !remainingClasses.has(cls))) continue;
    valVideos.add(video);
    valCount += clips.filter((c) => c.videoId === video).length;
  }
  if (valVideos.size === 0) {
    return { train: [...clips], val: [], note: 'no video could go to validation without removing a class from training' };
  }
  const val = clips.filter((c) => valVideos.has(c.videoId));
  const train = clips.filter((c) => !valVideos.has(c.videoId));
  return {
    train,
    val,
    note: `split by video: ${valVideos.size} of ${videos.length} videos (${val.length} clips) for validation`,
  };
}

/** A share of each class's clips to validation, keeping at least one of each class in training. */
function splitByClip<C extends SplittableClip>(clips: readonly C[], valFraction: number, seed: number): ClipSplit<C> {
  const random = seededRng(seed);
  const valIds = new Set<number>();
  for (const classId of [...new Set(clips.map((c) => c.classId))]) {
    const own = clips.filter((c) => c.classId === classId);
    // At least one of a class with two or more clips, so even a small first project gets a validation figure.
    const take = valFraction > 0 && own.length >= 2 ? Math.min(own.length - 1, Math.max(1, Math.round(own.length * valFraction))) : 0;
    for (const clip of shuffled(own, random).slice(0, Math.max(0, take))) valIds.add(clip.id);
  }
  const val = clips.filter((c) => valIds.has(c.id));
  const train = clips.filter((c) => !valIds.has(c.id));
  if (!val.length) {
    return { train, val, note: 'split by clip: too few clips per class for validation (figures are on training clips)' };
  }
  return {
    train,
    val,
    note: `split by clip: ${val.length} of ${clips.length} clips for validation (clips of one video can be on both sides, so validation figures can be optimistic)`,
  };
}
