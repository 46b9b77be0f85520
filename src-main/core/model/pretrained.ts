import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import type { LoadReport, StmNetwork } from './network.ts';
import { readSafetensors, type SafetensorsFile, type StoredTensor } from './safetensors.ts';
import { isTorchCheckpoint, readTorchCheckpoint } from './torch-checkpoint.ts';

/** Reads weights from a safetensors file or a PyTorch checkpoint (.pth, .pt, .pth.tar), told apart by content. */
export function readWeightsFile(path: string): SafetensorsFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${path}: ${(err as Error).message}`);
  }
  return isTorchCheckpoint(bytes) ? readTorchCheckpoint(path, bytes) : readSafetensors(bytes, path);
}

/**
 * Where a weights file comes from:
 * - torchvision: ImageNet ResNet-50 (`conv1.weight`, `layer1.0.conv2.weight`, …, 1000-way `fc`);
 * - tsm: a TSM/TSN checkpoint (`module.` / `base_model.` prefixes, `.net` inside shifted convs, `new_fc`);
 * - mmaction: an mmaction2 recognizer (`backbone.` prefix, ConvModule `convN.conv` / `convN.bn`, `cls_head.fc_cls`);
 * - stm: our own names (another STM network or a checkpoint).
 */
export type PretrainedSource = 'torchvision' | 'tsm' | 'mmaction' | 'stm';

export interface ImportReport extends LoadReport {
  source: PretrainedSource;
  /** File entries deliberately not loaded, with why (ImageNet classifier, head of another class count, counters). */
  skipped: { name: string; reason: string }[];
}

/** Maps a TSM / DataParallel key onto our PyTorch name. */
export function normalizeTsmKey(key: string): string {
  let name = key;
  if (name.startsWith('module.')) name = name.slice('module.'.length);
  if (name.startsWith('base_model.')) name = name.slice('base_model.'.length);
  name = name.replace(/\.net\./g, '.');
  if (name.startsWith('new_fc.')) name = `fc.${name.slice('new_fc.'.length)}`;
  return name;
}

/** Maps an mmaction2 ResNet/ResNetTSM recognizer key onto our PyTorch name. */
export function normalizeMmactionKey(key: string): string {
  let name = key.replace(/^module\./, '').replace(/^backbone\./, '');
  if (name.startsWith('cls_head.fc_cls.')) return `fc.${name.slice('cls_head.fc_cls.'.length)}`;
  name = name.replace(/\.net\./g, '.');
  name = name.replace(/^conv1\.conv\./, 'conv1.').replace(/^conv1\.bn\./, 'bn1.');
  name = name.replace(/\.conv([123])\.conv\./, '.conv$1.').replace(/\.conv([123])\.bn\./, '.bn$1.');
  return name.replace(/\.downsample\.conv\./, '.downsample.0.').replace(/\.downsample\.bn\./, '.downsample.1.');
}

export function detectSource(keys: Iterable<string>): PretrainedSource {
  let tsm = false;
  let mmaction = false;
  let stm = false;
  for (const key of keys) {
    if (/^(module\.)?(backbone|cls_head)\./.test(key)) mmaction = true;
    else if (key.startsWith('module.') || key.startsWith('base_model.') || key.startsWith('new_fc.') || key.includes('.net.')) tsm = true;
    if (/\.(shift|mb)\./.test(key)) stm = true;
  }
  return mmaction ? 'mmaction' : tsm ? 'tsm' : stm ? 'stm' : 'torchvision';
}

const NORMALIZE: Record<PretrainedSource, (key: string) => string> = {
  torchvision: (key) => key,
  stm: (key) => key,
  tsm: normalizeTsmKey,
  mmaction: normalizeMmactionKey,
};

/** The file's tensor names mapped onto ours (torchvision / PyTorch ResNet names), with the source found. */
export function normalizedNames(keys: Iterable<string>): { source: PretrainedSource; names: Map<string, string> } {
  const all = [...keys];
  const source = detectSource(all);
  return { source, names: new Map(all.map((key) => [key, NORMALIZE[source](key)])) };
}

/**
 * Loads pretrained weights into the backbone by name. The temporal conv and CMM keep their init when the
 * file has none (torchvision, TSM); the classifier loads only when it has this network's class count
 * (never from torchvision's ImageNet head). A backbone tensor of the wrong shape is a UserError naming it.
 */
export function importPretrained(
  network: StmNetwork,
  source: string | SafetensorsFile,
  options: { from?: PretrainedSource | 'auto'; label?: string } = {},
): ImportReport {
  const label = options.label ?? (typeof source === 'string' ? source : 'weights');
  const file = typeof source === 'string' ? readWeightsFile(source) : source;
  const from = !options.from || options.from === 'auto' ? detectSource(file.tensors.keys()) : options.from;
  const shapes = new Map(network.params.map((p) => [p.name, p.torchShape]));
  const selected = new Map<string, StoredTensor>();
  const skipped: ImportReport['skipped'] = [];
  for (const [key, tensor] of file.tensors) {
    const name = NORMALIZE[from](key);
    if (name.endsWith('num_batches_tracked')) {
      skipped.push({ name: key, reason: 'BatchNorm step counter (not used)' });
      continue;
    }
    if (name.startsWith('fc.')) {
      const expected = shapes.get(name);
      if (from === 'torchvision') {
        skipped.push({ name: key, reason: 'ImageNet classifier (the model keeps its own head)' });
        continue;
      }
      if (expected && (tensor.shape[0] !== expected[0] || tensor.shape.length !== expected.length)) {
        skipped.push({ name: key, reason: `classifier for ${tensor.shape[0]} classes, the model has ${expected[0]}` });
        continue;
      }
    }
    if (selected.has(name)) throw new UserError('invalid_input', `${label}: "${key}" and another tensor both map to "${name}"`);
    selected.set(name, tensor);
  }
  const report = network.loadState(selected, { source: label });
  if (report.matched.length === 0) {
    const first = [...file.tensors.keys()].slice(0, 3).join('", "');
    throw new UserError('invalid_input', `${label}: no tensor matches a parameter of the model (first keys: "${first}")`);
  }
  return { ...report, source: from, skipped };
}
