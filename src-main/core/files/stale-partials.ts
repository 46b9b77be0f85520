/**
 * Files are written as `<name>.<pid>.partial` (or `.tmp`) and renamed into place; a process killed midway
 * (kill -9, power loss) leaves its partial file behind. The next writer of the same name removes those
 * whose process is gone, and never one that a live process is still writing.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, owned by someone else
  }
}

/** Removes leftovers of earlier, dead writers of `target`; returns the paths removed. */
export function removeStalePartials(target: string): string[] {
  const dir = dirname(target);
  const prefix = `${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.(partial|tmp)$/.exec(name.slice(prefix.length));
    if (!m || processAlive(Number(m[1]))) continue;
    try {
      rmSync(join(dir, name), { force: true });
      removed.push(join(dir, name));
    } catch {
      // not ours to remove (permissions): harmless, it is only a leftover
    }
  }
  return removed;
}
