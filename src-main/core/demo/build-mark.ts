/**
 * What an unfinished demo project held when the demo builder last wrote to it, so a later start can tell
 * whether anybody worked in it since: an untouched one is rebuilt in place, one with the user's edits is left
 * alone and the demo is rebuilt beside it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openProject, PROJECT_FILE } from '../store/project.ts';

/** Present while the demo is being built; removed once it is complete. */
export const DEMO_BUILD_MARK_FILE = 'demo-build.json';

export interface DemoBuildMark {
  /** Edits in the project's history when the builder last wrote (its own labels). */
  undoCount: number;
  /** What the builder itself made: videos, classes and clips. */
  videos: number;
  classes: number;
  clips: number;
  /** Names of the models the builder trains; any other model is the user's. */
  demoModels: string[];
  /** Set when a start found the user's edits here and built the demo beside it: this is the user's project now. */
  kept?: boolean;
}

export function writeDemoBuildMark(dir: string, mark: DemoBuildMark): void {
  writeFileSync(join(dir, DEMO_BUILD_MARK_FILE), `${JSON.stringify(mark, null, 2)}\n`);
}

export function removeDemoBuildMark(dir: string): void {
  rmSync(join(dir, DEMO_BUILD_MARK_FILE), { force: true });
}

function readMark(dir: string): DemoBuildMark | null {
  try {
    return JSON.parse(readFileSync(join(dir, DEMO_BUILD_MARK_FILE), 'utf8')) as DemoBuildMark;
  } catch {
    return null;
  }
}

/** The demo builder was working here and nobody has taken the folder over (see keepAsUserProject). */
export function hasDemoBuildMark(dir: string): boolean {
  const mark = readMark(dir);
  return mark !== null && mark.kept !== true;
}

/** Whether a start already left this unfinished demo to its user. */
export function keptAsUserProject(dir: string): boolean {
  return readMark(dir)?.kept === true;
}

/** An unfinished demo holding the user's edits becomes their project: it is never rebuilt or deleted. */
export function keepAsUserProject(dir: string): void {
  const mark = readMark(dir) ?? { undoCount: 0, videos: 0, classes: 0, clips: 0, demoModels: [] };
  writeDemoBuildMark(dir, { ...mark, kept: true });
}

/**
 * True when the unfinished demo in `dir` holds nothing but what the builder made: no project file yet, or a
 * project whose history, videos, classes, clips and models are as the builder left them. Anything unsure
 * (no mark, an unreadable project) counts as touched, so nothing of the user's is ever deleted.
 */
export function demoUntouched(dir: string): boolean {
  if (!existsSync(join(dir, PROJECT_FILE))) return true;
  const mark = readMark(dir);
  if (!mark || mark.kept) return false;
  try {
    const project = openProject(dir);
    try {
      const summary = project.summary();
      // Every edit, whoever made it (the app's windows or a terminal): the builder's are all there were.
      const edits = project.history.totals();
      const demoModels = new Set(mark.demoModels);
      return (
        edits.done === mark.undoCount && edits.undone === 0 && summary.videos === mark.videos &&
        summary.classes === mark.classes && summary.clips === mark.clips && project.models.list().every((m) => demoModels.has(m.name))
      );
    } finally {
      project.close();
    }
  } catch {
    return false;
  }
}
