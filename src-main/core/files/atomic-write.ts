/**
 * One way to replace a file so that readers (and the next start after a crash or power cut) see the old file
 * or the new one, never half of one: write a temporary file in the same folder, fsync it, rename it over the
 * target, fsync the folder so the rename itself is on disk. On failure the temporary file is removed and the
 * file already at the target stays as it was; leftovers of writers that died midway are removed first.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { UserError } from '../errors.ts';
import { removeStalePartials } from './stale-partials.ts';

/** The temporary name a file is written under, beside it (same folder, so the rename stays on one disk). */
export function partialNameOf(path: string): string {
  return `${path}.${process.pid}.partial`;
}

function fsyncPath(path: string, flags: 'r' | 'r+'): void {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Flushes a folder's entries (the rename). Windows cannot open a folder for that, and some file systems
 * (network shares, FUSE) refuse it: the new file is in place either way, so those refusals are not failures.
 */
function fsyncFolder(dir: string): void {
  if (process.platform === 'win32') return;
  try {
    fsyncPath(dir, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EPERM' && code !== 'EACCES' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  }
}

/** Moves a fully written temporary file over `path` durably: fsync it, rename, fsync the folder. */
export function commitPartial(temp: string, path: string): void {
  fsyncPath(temp, 'r+');
  renameSync(temp, path);
  fsyncFolder(dirname(path));
}

/** The error a user sees when `path` could not be replaced; `what` names the file ("model file", "settings"). */
function writeError(err: unknown, path: string, what: string): UserError {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const kept = existsSync(path) ? ` The previous ${what} (${basename(path)}) is kept.` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') return new UserError('unavailable', `Disk full while writing the ${what} ${path}.${kept}`);
  const userPath = code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EROFS';
  return new UserError(userPath ? 'invalid_input' : 'unavailable', `Cannot write the ${what} ${path}: ${(err as Error).message}.${kept}`);
}

/**
 * Replaces `path` with `data` atomically and durably (see above); throws a UserError naming the file.
 * `mode` sets the new file's permissions (e.g. 0o600 for a file holding a password).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, what = 'file', opts: { mode?: number } = {}): void {
  removeStalePartials(path);
  const temp = partialNameOf(path);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const fd = openSync(temp, 'w', opts.mode ?? 0o666);
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    fsyncFolder(dirname(path));
  } catch (err) {
    rmSync(temp, { force: true });
    throw writeError(err, path, what);
  }
}

/** Copies `source` over `path` atomically and durably. */
export function copyFileAtomic(source: string, path: string, what = 'file'): void {
  removeStalePartials(path);
  const temp = partialNameOf(path);
  try {
    copyFileSync(source, temp);
    commitPartial(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw writeError(err, path, what);
  }
}
