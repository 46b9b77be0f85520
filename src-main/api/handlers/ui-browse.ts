import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../core/errors.ts';
import { PROJECT_FILE } from '../../core/store/project.ts';
import type { BrowseEntry, BrowseResult } from '../contract/ui.ts';

/** Extensions offered in the "Add videos" browser; anything ffmpeg reads can still be added by path. */
const VIDEO_EXTENSIONS = new Set(['.mp4', '.m4v', '.mov', '.mkv', '.avi', '.webm', '.mpg', '.mpeg', '.wmv', '.flv', '.ts', '.mts', '.m2ts', '.3gp', '.ogv']);

/** The sub-folders (projects marked) and video files of `dir` (hidden entries left out), folders first, then by name. */
export function browseFolder(dir?: string): BrowseResult {
  const home = homedir();
  const target = resolve(dir && dir.trim() ? dir : home);
  let names: string[];
  try {
    if (!statSync(target).isDirectory()) throw new UserError('bad_request', `${target} is not a folder`);
    names = readdirSync(target);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError('not_found', `Cannot read the folder ${target}: ${(err as Error).message}`);
  }
  const entries: BrowseEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const path = join(target, name);
    try {
      const st = statSync(path);
      if (st.isDirectory()) entries.push({ name, path, kind: 'dir', sizeBytes: null, project: existsSync(join(path, PROJECT_FILE)) });
      else if (st.isFile() && VIDEO_EXTENSIONS.has(extname(name).toLowerCase())) entries.push({ name, path, kind: 'video', sizeBytes: st.size });
    } catch {
      // Broken links and unreadable entries are simply not offered.
    }
  }
  entries.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'dir' ? -1 : 1));
  const parent = dirname(target);
  return { dir: target, parent: parent === target ? null : parent, home, project: existsSync(join(target, PROJECT_FILE)), entries };
}

/** The absolute path of an export file (relative to the project folder) with its folder made. */
export function prepareExportPath(file: string, projectDir: string | null): string {
  const target = isAbsolute(file) ? file : resolve(projectDir ?? homedir(), file);
  try {
    mkdirSync(dirname(target), { recursive: true });
  } catch (err) {
    throw new UserError('invalid_input', `Cannot create the folder ${dirname(target)} for ${target}: ${(err as Error).message}`);
  }
  return target;
}
