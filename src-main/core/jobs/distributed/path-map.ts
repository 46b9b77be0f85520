/**
 * Where a worker finds the coordinator's videos: `--path-map FROM=TO` turns a path under FROM (as the
 * coordinating machine sees it) into the same file under TO here. A path from the queue that lies under no
 * FROM is never opened, and a mapped path cannot climb out of TO.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../../errors.ts';

export interface PathMapping {
  from: string;
  to: string;
}

const slashes = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');

/** "FROM=TO" → a mapping; TO must be an absolute folder on this machine. */
export function parsePathMapping(text: string): PathMapping {
  const at = text.indexOf('=');
  const from = at > 0 ? text.slice(0, at).trim() : '';
  const to = at > 0 ? text.slice(at + 1).trim() : '';
  if (!from || !to) throw new UserError('bad_request', `--path-map must look like FROM=TO (e.g. /data/videos=/mnt/lab/videos), got "${text}"`);
  if (!isAbsolute(to)) throw new UserError('bad_request', `--path-map ${text}: TO must be an absolute folder on this machine`);
  return { from: slashes(from) || '/', to: resolve(to) };
}

export const PATH_MAP_HINT = 'start the worker with --path-map FROM=TO so that FROM (the folder on the coordinating machine) names the same files as TO here';

/** The local path of a video path from the queue, or a UserError naming the path and the --path-map hint. */
export function mapVideoPath(path: string, mappings: readonly PathMapping[]): string {
  const given = slashes(path);
  // The longest FROM wins, so /data/a=… can override /data=….
  const ordered = [...mappings].sort((a, b) => b.from.length - a.from.length);
  for (const m of ordered) {
    const under = m.from === '/' ? given.startsWith('/') : given === m.from || given.startsWith(`${m.from}/`);
    if (!under) continue;
    const rest = m.from === '/' ? given.slice(1) : given.slice(m.from.length + 1);
    const local = resolve(join(m.to, ...rest.split('/').filter(Boolean)));
    const inside = relative(m.to, local);
    if (inside.startsWith('..') || isAbsolute(inside) || inside.split(sep).includes('..')) break;
    return local;
  }
  throw new UserError('invalid_input', `${path} is outside every --path-map of this worker; ${PATH_MAP_HINT}.`);
}
