/**
 * The catalogue of known starting points for fine-tuning: where each file is published, how big it is,
 * its sha256 (the whole hash where one is published; otherwise the prefix the publisher puts in the file
 * name, which is what torch.hub and mmengine check too), its licence, what it was trained on, its published
 * top-1 and the network layout it fits.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.ts';

const entrySchema = z
  .object({
    /** Short stable name used on the command line and in the cache (`stm-studio weights get NAME`). */
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-"'),
    title: z.string().min(1),
    url: z.string().url(),
    /** Exact size in bytes where it is published or measured; null where only an estimate is known. */
    bytes: z.number().int().positive().nullable(),
    /** Size to show before downloading (the exact one, or an estimate from the parameter count). */
    approxBytes: z.number().int().positive(),
    /** Lower-case hex: 64 digits (whole hash) or a prefix of at least 8. */
    sha256: z.string().regex(/^[0-9a-f]{8,64}$/),
    /** Where the hash (or its prefix) is published. */
    hashSource: z.string().min(1),
    licence: z.string().min(1),
    trainedOn: z.string().min(1),
    top1: z.object({ value: z.number(), on: z.string(), protocol: z.string() }).strict(),
    /** What the weights were trained to see: still images, scenes in video, or temporal order in video. */
    kind: z.enum(['image', 'video-scene', 'video-temporal']),
    /** The network layout the tensors fit: bottleneck ResNet stage depths and base width. */
    layers: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]),
    width: z.number().int().min(16),
    fits: z.string().min(1),
  })
  .strict();

export type CatalogueEntry = z.infer<typeof entrySchema>;

const TORCHVISION_LICENCE =
  'torchvision (BSD-3-Clause); the weights carry the terms of ImageNet, which allow non-commercial research and education';
const MMACTION_LICENCE = 'Apache-2.0 (mmaction2 weights)';

/** Built-in entries. Sizes and hashes of the torchvision files were checked against their published downloads. */
export const BUILTIN_CATALOGUE: readonly CatalogueEntry[] = [
  {
    name: 'resnet50-imagenet1k-v1',
    title: 'ResNet-50, ImageNet-1k (torchvision IMAGENET1K_V1)',
    url: 'https://download.pytorch.org/models/resnet50-0676ba61.pth',
    bytes: 102_530_333,
    approxBytes: 102_530_333,
    sha256: '0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a',
    hashSource: 'file name prefix in torchvision models/resnet.py; whole hash as recorded by users of the same download',
    licence: TORCHVISION_LICENCE,
    trainedOn: 'ImageNet-1k (1.28 M still images, 1000 classes)',
    top1: { value: 76.13, on: 'ImageNet-1k val', protocol: 'single 224² crop' },
    kind: 'image',
    layers: [3, 4, 6, 3],
    width: 64,
    fits: 'ResNet-50 backbone (3,4,6,3, width 64); CSTM and CMM start from their own init, the head from scratch',
  },
  {
    name: 'resnet50-imagenet1k-v2',
    title: 'ResNet-50, ImageNet-1k (torchvision IMAGENET1K_V2)',
    url: 'https://download.pytorch.org/models/resnet50-11ad3fa6.pth',
    bytes: 102_540_417,
    approxBytes: 102_540_417,
    sha256: '11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca',
    hashSource: 'file name prefix in torchvision models/resnet.py; whole hash as recorded by users of the same download',
    licence: TORCHVISION_LICENCE,
    trainedOn: 'ImageNet-1k (1.28 M still images, 1000 classes), torchvision\'s 2021 recipe',
    top1: { value: 80.858, on: 'ImageNet-1k val', protocol: 'single 224² crop (resize 232)' },
    kind: 'image',
    layers: [3, 4, 6, 3],
    width: 64,
    fits: 'ResNet-50 backbone (3,4,6,3, width 64); CSTM and CMM start from their own init, the head from scratch',
  },
  {
    name: 'tsm-r50-kinetics400',
    title: 'TSM ResNet-50, 8 frames, Kinetics-400 (mmaction2)',
    url: 'https://download.openmmlab.com/mmaction/v1.0/recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb_20220831-64d69186.pth',
    bytes: null,
    approxBytes: 97_600_000,
    sha256: '64d69186',
    hashSource: 'file name suffix (sha256 prefix) in mmaction2 configs/recognition/tsm/README.md; no whole hash is published',
    licence: MMACTION_LICENCE + '; Kinetics-400 annotations are CC BY 4.0, its videos are YouTube\'s',
    trainedOn: 'Kinetics-400 (≈240 k YouTube clips, 400 human actions, mostly told apart by scene and objects), ImageNet-initialised',
    top1: { value: 73.18, on: 'Kinetics-400 val', protocol: '8 frames, 8 clips × 10 crops' },
    kind: 'video-scene',
    layers: [3, 4, 6, 3],
    width: 64,
    fits: 'ResNet-50 backbone with temporal shift (3,4,6,3, width 64); CSTM and CMM start from their own init; the 400-way head is not used',
  },
  {
    name: 'tsm-r50-sthv2',
    title: 'TSM ResNet-50, 8 frames, Something-Something v2 (mmaction2)',
    url: 'https://download.openmmlab.com/mmaction/v1.0/recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb_20230317-be0fc26e.pth',
    bytes: null,
    approxBytes: 95_800_000,
    sha256: 'be0fc26e',
    hashSource: 'file name suffix (sha256 prefix) in mmaction2 configs/recognition/tsm/README.md; no whole hash is published',
    licence: MMACTION_LICENCE + '; the Something-Something v2 licence allows academic research only',
    trainedOn: 'Something-Something v2 (≈169 k clips, 174 classes that differ in direction and order, e.g. pushing left vs right), ImageNet-initialised',
    top1: { value: 62.72, on: 'Something-Something v2 val', protocol: '8 frames, 8 clips × 3 crops' },
    kind: 'video-temporal',
    layers: [3, 4, 6, 3],
    width: 64,
    fits: 'ResNet-50 backbone with temporal shift (3,4,6,3, width 64); CSTM and CMM start from their own init; the 174-way head is not used',
  },
];

/** A file of extra entries (a lab's mirror, its own starting points); same fields, same name replaces. */
export const CATALOGUE_FILE_ENV = 'STM_STUDIO_WEIGHTS_CATALOGUE';
/** Replaces scheme, host and port of every download URL (a local mirror, tests). */
export const BASE_URL_ENV = 'STM_STUDIO_WEIGHTS_URL';

/** The built-in catalogue, extended or overridden by the JSON file named in $STM_STUDIO_WEIGHTS_CATALOGUE. */
export function loadCatalogue(env: NodeJS.ProcessEnv = process.env): CatalogueEntry[] {
  const entries = new Map(BUILTIN_CATALOGUE.map((e) => [e.name, e]));
  const file = env[CATALOGUE_FILE_ENV];
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UserError('invalid_input', `${file} (${CATALOGUE_FILE_ENV}): cannot read the weights catalogue: ${(err as Error).message}`);
    }
    const parsed = z.array(entrySchema).safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UserError('invalid_input', `${file} (${CATALOGUE_FILE_ENV}): entry ${issue.path.join('.')}: ${issue.message}`);
    }
    for (const entry of parsed.data) entries.set(entry.name, entry);
  }
  return [...entries.values()];
}

export function findEntry(catalogue: readonly CatalogueEntry[], name: string): CatalogueEntry {
  const entry = catalogue.find((e) => e.name === name);
  if (!entry) throw new UserError('not_found', `No weights named "${name}" in the catalogue (known: ${catalogue.map((e) => e.name).join(', ')}).`);
  return entry;
}

/** The URL to download from: the published one, or the same path on $STM_STUDIO_WEIGHTS_URL. */
export function downloadUrlOf(entry: CatalogueEntry, env: NodeJS.ProcessEnv = process.env): string {
  const base = env[BASE_URL_ENV];
  if (!base) return entry.url;
  const published = new URL(entry.url);
  return `${base.replace(/\/+$/, '')}${published.pathname}`;
}

/** The file name the weights are published (and cached) under. */
export function fileNameOf(entry: CatalogueEntry): string {
  return decodeURIComponent(new URL(entry.url).pathname.split('/').pop() || `${entry.name}.pth`);
}

export function isFullHash(entry: CatalogueEntry): boolean {
  return entry.sha256.length === 64;
}

/** Whether a file's whole sha256 is this entry's (equal, or starting with the published prefix). */
export function hashMatches(entry: CatalogueEntry, sha256: string): boolean {
  return isFullHash(entry) ? sha256 === entry.sha256 : sha256.startsWith(entry.sha256);
}
