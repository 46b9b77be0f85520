/** The split a training run would make now, so the Train form can say before starting when validation is empty. */
import type { Project } from '../store/project.ts';
import { loadDataset } from './dataset.ts';
import { splitClips, type SplitMode } from './split.ts';

export interface SplitPreview {
  trainClips: number;
  valClips: number;
  /** Videos with labelled clips (on disk). */
  videos: number;
  /** How the split was chosen or why validation is empty, as the job log will say it. */
  note: string;
}

export function previewSplit(project: Project, options: { split: SplitMode; valFraction: number; seed: number }): SplitPreview {
  const dataset = loadDataset(project, { log: () => {} }, { frames: 1, requireTrainable: false });
  const split = splitClips(dataset.clips, options.split, options);
  return {
    trainClips: split.train.length,
    valClips: split.val.length,
    videos: new Set(dataset.clips.map((c) => c.videoId)).size,
    note: split.note,
  };
}
