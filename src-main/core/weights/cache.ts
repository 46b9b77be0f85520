/**
 * The per-user cache of pretrained weights, shared by every project: `<user data>/weights/`. A file is in the
 * cache once it has been verified: the weights under the name they are published as, next to a small JSON
 * record of their sha256, size and origin. Downloads in progress live in `<file>.partial` (resumable); files
 * that are not in the catalogue are kept in `custom/`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.ts';
import { removeStalePartials } from '../files/stale-partials.ts';
import { userDataDir } from '../user-data.ts';
import { fileNameOf, type CatalogueEntry } from './catalogue.ts';

export interface CachedWeights {
  /** Catalogue name, or `custom-…` for a file that is not in the catalogue. */
  name: string;
  path: string;
  sha256: string;
  bytes: number;
  /** The URL it was downloaded from, or the file it was imported from. */
  origin: string;
  addedAt: string;
  /** Layout a custom file was checked against (catalogue entries carry theirs). */
  layers?: [number, number, number, number];
  width?: number;
}

export function weightsCacheDir(): string {
  return join(userDataDir(), 'weights');
}

const recordPathOf = (file: string): string => `${file}.json`;
export const partialPathOf = (file: string): string => `${file}.partial`;

export function cachedPathOf(entry: CatalogueEntry): string {
  return join(weightsCacheDir(), fileNameOf(entry));
}

/** Writes a small file via a temp name + rename, so a reader never sees half of it. */
export function writeSmallFileAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  removeStalePartials(path);
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw new UserError('unavailable', `Cannot write ${path}: ${(err as Error).message}`);
  }
}

function readRecord(file: string): CachedWeights | null {
  try {
    const record = JSON.parse(readFileSync(recordPathOf(file), 'utf8')) as CachedWeights;
    // A record whose file went missing or changed size no longer vouches for it.
    if (!existsSync(file) || statSync(file).size !== record.bytes) return null;
    return { ...record, path: file };
  } catch {
    return null;
  }
}

/** The verified file of a catalogue entry, or null when it is not (completely) downloaded. */
export function cachedEntry(entry: CatalogueEntry): CachedWeights | null {
  return readRecord(cachedPathOf(entry));
}

/** Bytes of an unfinished download of this entry that a new attempt resumes from. */
export function partialBytesOf(entry: CatalogueEntry): number {
  const partial = partialPathOf(cachedPathOf(entry));
  return existsSync(partial) ? statSync(partial).size : 0;
}

/** Files a user imported that are not in the catalogue. */
export function listCustom(): CachedWeights[] {
  const dir = join(weightsCacheDir(), 'custom');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => readRecord(join(dir, f.slice(0, -'.json'.length))) ?? [])
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Moves a verified file into the cache (rename) and records it; the record is written last. */
export function fileIntoCache(verified: string, target: string, record: Omit<CachedWeights, 'path'>): CachedWeights {
  if (verified !== target) renameSync(verified, target);
  writeSmallFileAtomically(recordPathOf(target), `${JSON.stringify({ ...record, path: basename(target) }, null, 2)}\n`);
  return { ...record, path: target };
}

/** Removes a file's record (it no longer vouches for the file) and, unless told otherwise, the file. */
export function removeFromCache(file: string, options: { keepFile?: boolean } = {}): void {
  rmSync(recordPathOf(file), { force: true });
  if (!options.keepFile) rmSync(file, { force: true });
}

/** sha256 of a whole file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
