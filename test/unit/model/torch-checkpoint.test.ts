import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { readTorchCheckpoint } from '../../../src-main/core/model/torch-checkpoint.ts';
import { importPretrained, readWeightsFile } from '../../../src-main/core/model/pretrained.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import type { StoredTensor } from '../../../src-main/core/model/safetensors.ts';

// Fixtures written by test/fixtures/make-torch-fixtures.py the way torch.save writes them: element i of the
// k-th storage is k + i/1000 (float storages) or 100·k + i (int64 storages).
const fixtures = join(import.meta.dirname, '../../fixtures');
const zipFormat = join(fixtures, 'tiny-state-dict.pth');
const legacyFormat = join(fixtures, 'tiny-tsm-legacy.pth.tar');
const dir = mkdtempSync(join(tmpdir(), 'stm-torch-'));

const f32 = (k: number, i: number) => Math.fround(k + i / 1000);

function expectStemValues(tensors: Map<string, StoredTensor>, prefix = ''): void {
  const get = (name: string) => tensors.get(prefix + name)!;
  expect(get('conv1.weight').shape).toEqual([16, 3, 7, 7]);
  expect(get('conv1.weight').data[2351]).toBe(f32(1, 2351));
  // Four views of one storage at offsets 0, 16, 32, 48.
  expect(get('bn1.running_var').data[3]).toBe(f32(2, 48 + 3));
  expect([...(get('bn1.num_batches_tracked').data as BigInt64Array)]).toEqual([300n]);
  // proj.weight is a transposed view (stride [1, 2]) of a 10-element storage: element [r][c] = storage[r + 2c].
  expect(get('proj.weight').shape).toEqual([2, 5]);
  expect([...(get('proj.weight').data as Float32Array)]).toEqual([0, 2, 4, 6, 8, 1, 3, 5, 7, 9].map((i) => f32(4, i)));
  // F16 widened to F32 (5.001 is 5 in half precision).
  expect([...(get('proj.bias').data as Float32Array)]).toEqual([5, 5]);
  // A Parameter starting at storage offset 4.
  expect(get('extra.weight').data[0]).toBe(f32(6, 4));
}

describe('PyTorch checkpoints', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('reads the zip format of torch.save: strided views, offsets, shared storages, F16 and I64', () => {
    const file = readTorchCheckpoint(zipFormat);
    expect(file.metadata.format).toBe('pytorch-zip');
    expectStemValues(file.tensors);
  });

  it('reads a legacy-format TSM training checkpoint and finds the state dict under state_dict', () => {
    const file = readWeightsFile(legacyFormat);
    expect(file.metadata).toMatchObject({ format: 'pytorch-legacy', epoch: '45', arch: 'resnet50' });
    expectStemValues(file.tensors, 'module.base_model.');
  });

  it('imports .pth weights into an STM network by name, reporting what it matched', async () => {
    for (const [path, source] of [
      [zipFormat, 'torchvision'],
      [legacyFormat, 'tsm'],
    ] as const) {
      const network = createStmNetwork({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 2, classes: 3, inputSize: 32 });
      const report = importPretrained(network, path);
      expect(report.source).toBe(source);
      expect(report.matched.sort()).toEqual(['bn1.bias', 'bn1.running_mean', 'bn1.running_var', 'bn1.weight', 'conv1.weight']);
      expect(report.unexpected.sort()).toEqual(['extra.weight', 'proj.bias', 'proj.weight']);
      const state = await network.stateDict();
      // PyTorch layout in, PyTorch layout out: the same values in the same order.
      expect(state.get('conv1.weight')!.data[100]).toBe(f32(1, 100));
      expect(state.get('bn1.bias')!.data[0]).toBe(f32(2, 16));
      network.dispose();
    }
  });

  it('names the problem in a truncated or foreign file', () => {
    const bytes = readFileSync(zipFormat);
    const cut = join(dir, 'cut.pth');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    expect(() => readWeightsFile(cut)).toThrow(/cut\.pth: .*(truncated|not a readable PyTorch checkpoint)/);
    const legacy = readFileSync(legacyFormat);
    const cutLegacy = join(dir, 'cut.pth.tar');
    writeFileSync(cutLegacy, legacy.subarray(0, legacy.length - 100));
    expect(() => readWeightsFile(cutLegacy)).toThrow(/cut\.pth\.tar: truncated: storage \w+ is cut off/);
    const text = join(dir, 'notes.pth');
    writeFileSync(text, 'these are not weights');
    expect(() => readWeightsFile(text)).toThrow(/notes\.pth: not a safetensors file/);
  });
});
