import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork, temporalShiftKernel } from '../../../src-main/core/model/network.ts';
import { importPretrained, normalizeMmactionKey, normalizeTsmKey } from '../../../src-main/core/model/pretrained.ts';
import { writeSafetensors, type StoredTensor } from '../../../src-main/core/model/safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'stm-pretrained-'));
const small = { layers: [1, 1, 1, 1] as const, baseWidth: 16, frames: 2, inputSize: 32 };

beforeAll(async () => {
  await selectBackend('cpu');
});

/** A torchvision-style ResNet state dict: plain backbone names, an ImageNet head, BatchNorm step counters. */
async function torchvisionStyleFile(path: string): Promise<Map<string, StoredTensor>> {
  const resnet = createStmNetwork({ ...small, variant: 'tsn', classes: 1000 }, { seed: 40 });
  const state = await resnet.stateDict();
  resnet.dispose();
  const withCounters = new Map(state);
  for (const name of state.keys()) {
    if (name.endsWith('.running_mean')) withCounters.set(name.replace('running_mean', 'num_batches_tracked'), { dtype: 'I64', shape: [], data: BigInt64Array.from([100n]) });
  }
  writeSafetensors(path, withCounters);
  return state;
}

describe('importing pretrained weights', () => {
  it('loads torchvision ResNet weights into the backbone and keeps the temporal init and the head', async () => {
    const path = join(dir, 'resnet.safetensors');
    const source = await torchvisionStyleFile(path);
    const network = createStmNetwork({ ...small, classes: 5 }, { seed: 41 });
    const headBefore = (await network.stateDict()).get('fc.weight')!.data;
    const report = importPretrained(network, path);
    expect(report.source).toBe('torchvision');
    expect(report.unexpected).toEqual([]);
    expect(report.matched).toContain('layer3.0.conv2.weight');
    expect(report.matched).not.toContain('fc.weight');
    expect(report.missing.every((n) => /\.shift\.weight$|\.mb\.|^fc\./.test(n))).toBe(true);
    expect(report.missing).toContain('layer1.0.shift.weight');
    expect(report.missing).toContain('layer4.0.mb.conv1x1.weight');
    expect(report.skipped.map((s) => s.name)).toEqual(expect.arrayContaining(['fc.weight', 'fc.bias', 'bn1.num_batches_tracked']));
    const state = await network.stateDict();
    expect([...state.get('layer2.0.conv1.weight')!.data]).toEqual([...source.get('layer2.0.conv1.weight')!.data]);
    expect([...state.get('layer4.0.bn3.running_var')!.data]).toEqual([...source.get('layer4.0.bn3.running_var')!.data]);
    expect([...state.get('layer2.0.shift.weight')!.data]).toEqual([...temporalShiftKernel(32)]);
    expect([...state.get('fc.weight')!.data]).toEqual([...headBefore]);
    network.dispose();
  });

  it('maps TSM checkpoint names (module., base_model., .net, new_fc) and loads a head of the same class count', async () => {
    expect(normalizeTsmKey('module.base_model.layer1.0.conv1.net.weight')).toBe('layer1.0.conv1.weight');
    expect(normalizeTsmKey('module.new_fc.bias')).toBe('fc.bias');
    const tsm = createStmNetwork({ ...small, variant: 'tsn', classes: 7 }, { seed: 50 });
    const renamed = new Map<string, StoredTensor>();
    for (const [name, tensor] of await tsm.stateDict()) {
      const key = name.startsWith('fc.') ? `module.new_${name}` : `module.base_model.${name.replace(/\.conv1\.weight$/, '.conv1.net.weight')}`;
      renamed.set(key, tensor);
    }
    const path = join(dir, 'tsm.safetensors');
    writeSafetensors(path, renamed);

    const same = createStmNetwork({ ...small, classes: 7 }, { seed: 51 });
    const report = importPretrained(same, path);
    expect(report.source).toBe('tsm');
    expect(report.matched).toEqual(expect.arrayContaining(['layer1.0.conv1.weight', 'fc.weight', 'fc.bias']));
    expect(report.unexpected).toEqual([]);
    for (const name of ['fc.weight', 'layer1.0.conv1.weight', 'layer4.0.downsample.1.running_mean']) {
      expect([...(await same.stateDict()).get(name)!.data], name).toEqual([...(await tsm.stateDict()).get(name)!.data]);
    }

    const other = createStmNetwork({ ...small, classes: 3 }, { seed: 53 });
    const otherReport = importPretrained(other, path);
    expect(otherReport.skipped).toContainEqual({ name: 'module.new_fc.weight', reason: 'classifier for 7 classes, the model has 3' });
    expect(otherReport.missing).toEqual(expect.arrayContaining(['fc.weight', 'fc.bias']));
    tsm.dispose();
    same.dispose();
    other.dispose();
  });

  it('maps mmaction2 recognizer names (backbone., ConvModule conv/bn, shift .net, cls_head.fc_cls)', async () => {
    expect(normalizeMmactionKey('backbone.conv1.conv.weight')).toBe('conv1.weight');
    expect(normalizeMmactionKey('backbone.conv1.bn.running_var')).toBe('bn1.running_var');
    expect(normalizeMmactionKey('backbone.layer2.0.conv1.net.conv.weight')).toBe('layer2.0.conv1.weight');
    expect(normalizeMmactionKey('backbone.layer2.0.conv3.bn.bias')).toBe('layer2.0.bn3.bias');
    expect(normalizeMmactionKey('backbone.layer2.0.downsample.conv.weight')).toBe('layer2.0.downsample.0.weight');
    expect(normalizeMmactionKey('backbone.layer2.0.downsample.bn.weight')).toBe('layer2.0.downsample.1.weight');
    expect(normalizeMmactionKey('cls_head.fc_cls.bias')).toBe('fc.bias');
    const tsn = createStmNetwork({ ...small, variant: 'tsn', classes: 4 }, { seed: 70 });
    const toMmaction = (name: string): string => {
      if (name.startsWith('fc.')) return `cls_head.fc_cls.${name.slice(3)}`;
      const stem = /^(conv1|bn1)\.(.+)$/.exec(name);
      if (stem) return `backbone.conv1.${stem[1] === 'conv1' ? 'conv' : 'bn'}.${stem[2]}`;
      return `backbone.${name
        .replace(/\.conv1\.weight$/, '.conv1.net.conv.weight')
        .replace(/\.conv([23])\.weight$/, '.conv$1.conv.weight')
        .replace(/\.bn([123])\./, '.conv$1.bn.')
        .replace(/\.downsample\.0\./, '.downsample.conv.')
        .replace(/\.downsample\.1\./, '.downsample.bn.')}`;
    };
    const path = join(dir, 'mmaction.safetensors');
    writeSafetensors(path, new Map([...(await tsn.stateDict())].map(([name, tensor]) => [toMmaction(name), tensor])));
    const network = createStmNetwork({ ...small, classes: 4 }, { seed: 71 });
    const report = importPretrained(network, path);
    expect(report.source).toBe('mmaction');
    expect(report.unexpected).toEqual([]);
    expect(report.matched).toHaveLength(tsn.params.length);
    for (const name of ['conv1.weight', 'bn1.running_mean', 'layer3.0.bn2.weight', 'layer4.0.downsample.0.weight', 'fc.bias']) {
      expect([...(await network.stateDict()).get(name)!.data], name).toEqual([...(await tsn.stateDict()).get(name)!.data]);
    }
    tsn.dispose();
    network.dispose();
  });

  it('names a backbone tensor of the wrong shape and refuses a file that matches nothing', async () => {
    const wide = createStmNetwork({ ...small, baseWidth: 32, variant: 'tsn', classes: 5 }, { seed: 60 });
    const path = join(dir, 'wide.safetensors');
    writeSafetensors(path, await wide.stateDict());
    const network = createStmNetwork({ ...small, classes: 5 });
    expect(() => importPretrained(network, path)).toThrow(/"conv1\.weight" has shape \[32,3,7,7\], the model expects \[16,3,7,7\]/);
    const unrelated = join(dir, 'bert.safetensors');
    writeSafetensors(unrelated, new Map([['encoder.layer.0.attention.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) }]]));
    expect(() => importPretrained(network, unrelated)).toThrow(/no tensor matches a parameter of the model \(first keys: "encoder\.layer\.0\.attention\.weight"\)/);
    wide.dispose();
    network.dispose();
  });
});
