/**
 * What a fine-tune can start from: every catalogue entry with whether it is downloaded, and the custom
 * files of the cache; plus the defaults a pretrained start should train with.
 */
import { UserError } from '../errors.ts';
import { downloadUrlOf, type CatalogueEntry } from './catalogue.ts';
import { cachedEntry, listCustom, partialBytesOf, weightsCacheDir, type CachedWeights } from './cache.ts';

export interface StartingPoint extends CatalogueEntry {
  /** cached: verified and ready; partial: an interrupted download that the next `get` resumes; missing. */
  status: 'cached' | 'partial' | 'missing';
  cached: CachedWeights | null;
  partialBytes: number;
  downloadUrl: string;
}

export interface WeightsListing {
  cacheDir: string;
  catalogue: StartingPoint[];
  custom: CachedWeights[];
}

export function listStartingPoints(catalogue: readonly CatalogueEntry[]): WeightsListing {
  return {
    cacheDir: weightsCacheDir(),
    catalogue: catalogue.map((entry) => {
      const cached = cachedEntry(entry);
      const partialBytes = cached ? 0 : partialBytesOf(entry);
      return { ...entry, status: cached ? 'cached' : partialBytes > 0 ? 'partial' : 'missing', cached, partialBytes, downloadUrl: downloadUrlOf(entry) };
    }),
    custom: listCustom(),
  };
}

/** A cached starting point by name, with the layout its backbone has. */
export function resolveCachedWeights(
  name: string,
  catalogue: readonly CatalogueEntry[],
): { weights: CachedWeights; layers: [number, number, number, number]; width: number } {
  const entry = catalogue.find((e) => e.name === name);
  if (entry) {
    const weights = cachedEntry(entry);
    if (!weights) throw new UserError('not_found', `The weights "${name}" are not downloaded yet: run "stm-studio weights get ${name}" (or pick them under "Start from" in the app).`);
    return { weights, layers: entry.layers, width: entry.width };
  }
  const custom = listCustom().find((c) => c.name === name);
  if (!custom || !custom.layers || !custom.width) {
    throw new UserError('not_found', `No weights named "${name}" in the catalogue or the cache (see "stm-studio weights list").`);
  }
  return { weights: custom, layers: custom.layers, width: custom.width };
}

export interface FineTuneSuggestion {
  /** The starting point, or scratch when no pretrained weights are cached. */
  from: { kind: 'pretrained'; name: string } | { kind: 'scratch' };
  /** One line: which weights and why. */
  why: string;
  layers: [number, number, number, number];
  width: number;
  frames: number;
  size: number;
  /** Stages kept fixed: the early ones on CPU, where every skipped gradient saves time. */
  freeze: number;
  lr: number;
}

/**
 * Defaults for "New fine-tune": a cached TSM when there is one (Something-Something when the project has
 * reverse pairs, since those weights were trained to tell an action from its reverse; Kinetics otherwise,
 * since its classes are told apart by scene and objects), else ImageNet, else scratch.
 */
export function suggestFineTune(listing: WeightsListing, project: { reversePairs: number; onGpu: boolean }): FineTuneSuggestion {
  const cached = (name: string) => listing.catalogue.find((e) => e.name === name && e.status === 'cached');
  const temporal = project.reversePairs > 0;
  const preferred = temporal ? 'tsm-r50-sthv2' : 'tsm-r50-kinetics400';
  const other = temporal ? 'tsm-r50-kinetics400' : 'tsm-r50-sthv2';
  const imagenet = ['resnet50-imagenet1k-v2', 'resnet50-imagenet1k-v1'];
  const reason = temporal
    ? `your classes have ${project.reversePairs} reverse pair(s), and Something-Something v2 was trained to tell actions from their reverse`
    : 'your classes have no reverse partner, so scene and object cues matter most, which Kinetics-400 teaches';
  let pick: StartingPoint | undefined = cached(preferred);
  let why = pick ? `${pick.title}: ${reason}.` : '';
  if (!pick && (pick = cached(other))) why = `${pick.title}: the better fit (${preferred}) is not downloaded; ${reason}.`;
  if (!pick && (pick = imagenet.map(cached).find(Boolean))) why = `${pick.title}: no video weights are downloaded (${preferred} fits best: ${reason}).`;
  const tuning = { frames: 8, size: project.onGpu ? 224 : 112, freeze: project.onGpu ? 0 : 2, lr: 0.001 };
  if (pick) return { from: { kind: 'pretrained', name: pick.name }, why, layers: pick.layers, width: pick.width, ...tuning };
  return {
    from: { kind: 'scratch' },
    why: `Scratch: no pretrained weights are downloaded; ${preferred} fits best (${reason}).`,
    layers: project.onGpu ? [3, 4, 6, 3] : [1, 1, 1, 1],
    width: project.onGpu ? 64 : 16,
    frames: 8,
    size: project.onGpu ? 224 : 64,
    freeze: 0,
    lr: 0.01,
  };
}
