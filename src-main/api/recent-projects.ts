/**
 * The projects the app (Electron window or browser host) opened, newest first, kept with the per-user state
 * so the project menu can offer them again; a folder that has gone since is listed as missing, not dropped.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PROJECT_FILE } from '../core/store/project.ts';
import { readState, updateState } from './app-state.ts';

/** How many projects the list keeps. */
const MAX_RECENT = 12;

export interface RecentProject {
  dir: string;
  /** The folder's name, as the title bar shows it. */
  name: string;
  /** The folder or its project file is gone (moved, deleted, an unplugged drive). */
  missing: boolean;
}

function storedDirs(): string[] {
  const list: unknown = readState().recentProjects;
  return Array.isArray(list) ? list.filter((d): d is string => typeof d === 'string') : [];
}

function storeDirs(dirs: string[]): void {
  updateState({ recentProjects: dirs.slice(0, MAX_RECENT) });
}

export function recentProjects(): RecentProject[] {
  return storedDirs().map((dir) => ({ dir, name: basename(dir), missing: !existsSync(join(dir, PROJECT_FILE)) }));
}

/** Puts a project the app opened at the top of the list. */
export function noteRecentProject(dir: string): void {
  const target = resolve(dir);
  storeDirs([target, ...storedDirs().filter((d) => d !== target)]);
}

/** Takes a project off the list (its folder is left alone). */
export function forgetRecentProject(dir: string): void {
  const target = resolve(dir);
  storeDirs(storedDirs().filter((d) => d !== target));
}
