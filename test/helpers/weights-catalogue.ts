/**
 * A catalogue like the built-in one whose entries are the fixture-sized stand-ins written by
 * test/fixtures/make-weights-fixtures.py (real torch.save files), with their real sha256 and size.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CATALOGUE, type CatalogueEntry } from '../../src-main/core/weights/catalogue.ts';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');
export const fixture = (name: string): string => join(FIXTURES, name);

export const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

const builtin = (name: string): CatalogueEntry => BUILTIN_CATALOGUE.find((e) => e.name === name)!;

/** Published path on the entry's host, ending in the fixture's file name (so the cache keeps that name). */
function pointAt(entry: CatalogueEntry, file: string, hash: 'full' | 'prefix', overrides: Partial<CatalogueEntry> = {}): CatalogueEntry {
  const url = new URL(entry.url);
  url.pathname = `${url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1)}${file}`;
  const sha = sha256Of(fixture(file));
  const bytes = statSync(fixture(file)).size;
  return {
    ...entry,
    url: url.toString(),
    bytes: hash === 'full' ? bytes : null,
    approxBytes: bytes,
    sha256: hash === 'full' ? sha : sha.slice(0, 8),
    layers: [1, 1, 1, 1],
    width: 16,
    ...overrides,
  };
}

/** Three real entries (full hash, prefix hashes), one whose hash is wrong and one that is not on the server. */
export function testCatalogue(): CatalogueEntry[] {
  return [
    pointAt(builtin('resnet50-imagenet1k-v1'), 'weights-resnet-tiny.pth', 'full'),
    pointAt(builtin('tsm-r50-kinetics400'), 'weights-tsm-k400-tiny.pth', 'prefix'),
    pointAt(builtin('tsm-r50-sthv2'), 'weights-tsm-sthv2-tiny.pth', 'prefix'),
    pointAt(builtin('resnet50-imagenet1k-v2'), 'weights-resnet18-tiny.pth', 'full', { name: 'tampered', sha256: sha256Of(fixture('weights-resnet-tiny.pth')) }),
    { ...pointAt(builtin('resnet50-imagenet1k-v2'), 'weights-resnet-tiny.pth', 'full'), name: 'moved', url: 'https://download.pytorch.org/models/gone-00000000.pth' },
  ];
}

/** The files the local server publishes, by URL path, for a catalogue from testCatalogue(). */
export function servedFiles(catalogue: CatalogueEntry[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of catalogue) {
    const path = new URL(entry.url).pathname;
    const name = path.split('/').pop()!;
    if (name.startsWith('weights-')) files[path] = fixture(name);
  }
  return files;
}

/** Writes the catalogue as the JSON file $STM_STUDIO_WEIGHTS_CATALOGUE names. */
export function writeCatalogueFile(dir: string, catalogue: CatalogueEntry[]): string {
  const path = join(dir, 'catalogue.json');
  writeFileSync(path, JSON.stringify(catalogue, null, 2));
  return path;
}
