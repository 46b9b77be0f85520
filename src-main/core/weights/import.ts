/**
 * Checks that a weights file can start an STM network, and files weights a user brings (an offline machine,
 * a lab's own checkpoint) into the per-user cache: a file whose sha256 is a catalogue entry's goes in under
 * that entry's name; any other one is "custom" after the same loading checks as a training start.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { removeStalePartials } from '../files/stale-partials.ts';
import { createStmNetwork } from '../model/network.ts';
import { importPretrained, normalizedNames, readWeightsFile, type PretrainedSource } from '../model/pretrained.ts';
import type { SafetensorsFile } from '../model/safetensors.ts';
import { CHECKPOINT_FORMAT, checkpointInfoFromMetadata } from '../model/checkpoint.ts';
import { hashMatches, type CatalogueEntry } from './catalogue.ts';
import { cachedEntry, cachedPathOf, fileIntoCache, listCustom, sha256File, weightsCacheDir, type CachedWeights } from './cache.ts';

export interface WeightsCheck {
  source: PretrainedSource;
  /** Bottleneck stage depths and base width the file's backbone has. */
  layers: [number, number, number, number];
  width: number;
  /** Tensors that load into an STM network of that layout, and those that keep their init (CSTM, CMM, head). */
  matched: number;
  keptInit: number;
}

type Layers = [number, number, number, number];

/** Reads the backbone layout from tensor names and shapes (bottleneck ResNet: conv1–conv3 per block). */
function backboneLayout(path: string, tensors: Map<string, { shape: number[] }>): { layers: Layers; width: number } {
  const { names } = normalizedNames(tensors.keys());
  const depth = [0, 0, 0, 0];
  let bottleneck = false;
  let width = 0;
  for (const [key, name] of names) {
    const m = /^layer([1-4])\.(\d+)\.conv([123])\.weight$/.exec(name);
    if (!m) continue;
    const stage = Number(m[1]) - 1;
    depth[stage] = Math.max(depth[stage], Number(m[2]) + 1);
    if (m[3] === '3') bottleneck = true;
    if (name === 'layer1.0.conv1.weight') width = tensors.get(key)!.shape[0];
  }
  const keys = [...tensors.keys()];
  if (depth.some((d) => d === 0) || width === 0) {
    throw new UserError(
      'invalid_input',
      `${path}: no ResNet backbone in this file (first tensors: "${keys.slice(0, 3).join('", "')}"). ` +
        'STM Studio starts from ResNet-50-family weights: torchvision ResNet-50, TSM or mmaction2 TSM/TSN checkpoints, or its own models.',
    );
  }
  if (!bottleneck) {
    throw new UserError(
      'invalid_input',
      `${path}: a ResNet with basic blocks (stage depths ${depth.join(',')}, no conv3: the ResNet-18/34 layout). ` +
        "STM's blocks are bottlenecks (ResNet-50 family), so these weights cannot start it.",
    );
  }
  return { layers: depth as Layers, width };
}

/**
 * Loads the file into an STM network of its own layout, exactly as a training start does; any tensor of the
 * wrong shape or a file that is not a checkpoint is a UserError naming the file.
 */
export function checkStartingWeights(path: string): WeightsCheck {
  const { file, layout } = readWithLayout(path);
  const network = createStmNetwork({ variant: 'stm', layers: layout.layers, baseWidth: layout.width, classes: 2 }, { seed: 1 });
  try {
    const report = importPretrained(network, file, { label: path });
    return { source: report.source, layers: layout.layers, width: layout.width, matched: report.matched.length, keptInit: report.missing.length };
  } finally {
    network.dispose();
  }
}

/** Worker entry of checkStartingWeights (runInWorker passes the path as `args`). */
export function checkStartingWeightsTask(path: unknown): WeightsCheck {
  return checkStartingWeights(String(path));
}

/**
 * The same check without holding up the host's event loop for seconds on a 100 MB file: the file is read and
 * its layout found here (bad files fail fast), the network is built and loaded in a worker thread.
 */
export async function checkStartingWeightsOffThread(path: string): Promise<WeightsCheck> {
  readWithLayout(path);
  const { runInWorker } = await import('../compute/worker-pool.ts');
  return runInWorker<WeightsCheck>(new URL('./import.ts', import.meta.url), 'checkStartingWeightsTask', path, { backend: 'cpu' });
}

function readWithLayout(path: string): { file: SafetensorsFile; layout: { layers: Layers; width: number } } {
  let file;
  try {
    file = readWeightsFile(path);
  } catch (err) {
    // A file that is neither format falls through to the safetensors reader: say what was expected.
    if (err instanceof UserError && /not a safetensors file/.test(err.message)) {
      throw new UserError('invalid_input', `${path}: not a weights file (neither a PyTorch checkpoint nor safetensors)`);
    }
    throw err;
  }
  if (file.metadata.format === CHECKPOINT_FORMAT) {
    const info = checkpointInfoFromMetadata(file.metadata, path);
    return { file, layout: { layers: [...info.config.layers] as Layers, width: info.config.baseWidth } };
  }
  return { file, layout: backboneLayout(path, file.tensors) };
}

export interface ImportedWeights {
  weights: CachedWeights;
  /** The catalogue entry the file's hash identifies, or null for a custom file. */
  entry: CatalogueEntry | null;
  /** The loading check a custom file passed (null for a known file: its hash vouches for it). */
  check: WeightsCheck | null;
  /** The cache held this file already. */
  alreadyCached: boolean;
}

/** Copies a file into the cache directory under a temp name, then renames it into place with its record. */
function copyIntoCache(file: string, target: string, record: Omit<CachedWeights, 'path'>): CachedWeights {
  const temp = `${target}.${process.pid}.partial`;
  try {
    mkdirSync(dirname(target), { recursive: true });
    removeStalePartials(target);
    copyFileSync(file, temp);
    if (statSync(temp).size !== record.bytes) throw new Error(`${file} changed while it was copied`);
    return fileIntoCache(temp, target, record);
  } catch (err) {
    rmSync(temp, { force: true });
    if (err instanceof UserError) throw err;
    throw new UserError('unavailable', `Cannot copy ${file} into the weights cache ${weightsCacheDir()}: ${(err as Error).message}`);
  }
}

function customNameOf(file: string, sha256: string): string {
  const stem = basename(file).replace(/(\.pth\.tar|\.pth|\.pt|\.safetensors|\.ckpt|\.bin)$/i, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '');
  const taken = listCustom().find((c) => c.name === `custom-${stem || 'weights'}`);
  return taken && taken.sha256 !== sha256 ? `custom-${stem || 'weights'}-${sha256.slice(0, 8)}` : `custom-${stem || 'weights'}`;
}

/** `weights import FILE`: a known file goes in under its catalogue name, any other file as custom after the checks. */
export async function importWeightsFile(file: string, catalogue: readonly CatalogueEntry[]): Promise<ImportedWeights> {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UserError('not_found', `No such weights file: ${file}`);
  const bytes = statSync(file).size;
  const sha256 = await sha256File(file);
  const origin = file;
  const addedAt = new Date().toISOString();
  const entry = catalogue.find((e) => hashMatches(e, sha256) && (e.bytes === null || e.bytes === bytes)) ?? null;
  if (entry) {
    const existing = cachedEntry(entry);
    if (existing && existing.sha256 === sha256) return { weights: existing, entry, check: null, alreadyCached: true };
    return { weights: copyIntoCache(file, cachedPathOf(entry), { name: entry.name, sha256, bytes, origin, addedAt }), entry, check: null, alreadyCached: false };
  }
  const same = listCustom().find((c) => c.sha256 === sha256);
  if (same) return { weights: same, entry: null, check: null, alreadyCached: true };
  const check = await checkStartingWeightsOffThread(file);
  const name = customNameOf(file, sha256);
  const target = join(weightsCacheDir(), 'custom', `${name}${/\.safetensors$/i.test(file) ? '.safetensors' : '.pth'}`);
  const weights = copyIntoCache(file, target, { name, sha256, bytes, origin, addedAt, layers: check.layers, width: check.width });
  return { weights, entry: null, check, alreadyCached: false };
}
