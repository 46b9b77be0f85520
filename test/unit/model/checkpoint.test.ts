import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { loadCheckpoint, readCheckpointInfo, saveCheckpoint } from '../../../src-main/core/model/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'stm-checkpoint-'));
const golden = join(import.meta.dirname, '../../fixtures/stm-small.safetensors');
const config = { layers: [1, 1, 1, 1] as const, baseWidth: 16, frames: 3, classes: 3, inputSize: 32, variant: 'stm' as const };

beforeAll(async () => {
  await selectBackend('cpu');
});

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

describe('checkpoints', () => {
  it('save and load give the same network, class names, normalisation and sampling', async () => {
    const network = createStmNetwork(config, { seed: 12 });
    const x = tf.randomNormal([6, 32, 32, 3], 0, 1, 'float32', 13) as tf.Tensor4D;
    network.forward(x, { training: true }); // move the running statistics away from their init
    const path = join(dir, 'model.safetensors');
    await saveCheckpoint(path, network, {
      classNames: ['open lid', 'close lid', 'pour, then stir'],
      normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
      sampling: { strategy: 'tsn-segments', frames: 3, size: 32 },
      extra: { trained_on: 'kitchen.stm', epochs: '12' },
    });
    const { network: loaded, info } = loadCheckpoint(path);
    expect(info.config).toEqual(network.config);
    expect(info.classNames).toEqual(['open lid', 'close lid', 'pour, then stir']);
    expect(info.normalization.std).toEqual([0.25, 0.25, 0.25]);
    expect(info.sampling).toEqual({ strategy: 'tsn-segments', frames: 3, size: 32 });
    expect(info.extra).toEqual({ trained_on: 'kitchen.stm', epochs: '12' });
    expect(maxAbsDiff(loaded.forward(x).clipLogits, network.forward(x).clipLogits)).toBe(0);
    // The file holds PyTorch names and layouts, so PyTorch can read it back.
    const file = readSafetensors(path);
    expect(file.tensors.get('conv1.weight')!.shape).toEqual([16, 3, 7, 7]);
    expect(file.tensors.get('layer1.0.shift.weight')!.shape).toEqual([16, 1, 3]);
    expect(file.tensors.get('layer2.0.mb.shift.weight')!.shape).toEqual([2, 1, 3, 3]);
    expect(file.tensors.get('fc.weight')!.shape).toEqual([3, 512]);
    network.dispose();
    loaded.dispose();
  });

  it('refuses class names that do not match the class count', async () => {
    const network = createStmNetwork(config);
    await expect(saveCheckpoint(join(dir, 'bad.safetensors'), network, { classNames: ['a', 'b'] })).rejects.toThrow(/3 classes but 2 class names/);
    network.dispose();
  });

  it('names the missing, mis-shaped or cut-off tensor of a broken checkpoint', async () => {
    const network = createStmNetwork(config, { seed: 1 });
    const path = join(dir, 'good.safetensors');
    await saveCheckpoint(path, network, { classNames: ['a', 'b', 'c'] });
    const { tensors, metadata } = readSafetensors(path);

    const missing = new Map(tensors);
    missing.delete('layer3.0.mb.conv1x1.weight');
    writeSafetensors(join(dir, 'missing.safetensors'), missing, metadata);
    expect(() => loadCheckpoint(join(dir, 'missing.safetensors'))).toThrow(/missing 1 tensors, first "layer3\.0\.mb\.conv1x1\.weight"/);

    const misShaped = new Map(tensors);
    misShaped.set('layer2.0.shift.weight', { dtype: 'F32', shape: [16, 1, 3], data: new Float32Array(48) });
    writeSafetensors(join(dir, 'shape.safetensors'), misShaped, metadata);
    expect(() => loadCheckpoint(join(dir, 'shape.safetensors'))).toThrow(/"layer2\.0\.shift\.weight" has shape \[16,1,3\], the model expects \[32,1,3\]/);

    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.safetensors'), bytes.subarray(0, bytes.length - 100));
    expect(() => loadCheckpoint(join(dir, 'cut.safetensors'))).toThrow(/truncated: tensor "[\w.]+"/);

    writeSafetensors(join(dir, 'plain.safetensors'), tensors, {});
    expect(() => loadCheckpoint(join(dir, 'plain.safetensors'))).toThrow(/no "layers" \(not an STM checkpoint\?\)/);
    network.dispose();
  });

  it('describes a weights file through the contract without loading it', async () => {
    const copy = join(dir, 'golden copy.safetensors');
    copyFileSync(golden, copy);
    expect(readCheckpointInfo(copy).classNames).toEqual(['class 1', 'class 2', 'class 3', 'class 4', 'class 5']);
    const { client } = createLocalApi('cli');
    const described = await client.call('model.describe', { path: copy });
    expect(described.config).toMatchObject({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: 5, inputSize: 64, variant: 'stm' });
    expect(described.params).toBeGreaterThan(0);
    await expect(client.call('model.describe', { path: join(dir, 'nope.safetensors') })).rejects.toThrow(/cannot read/);
  });

  it('model.create writes a fine-tuning checkpoint from pretrained weights and reports the import', async () => {
    const { client } = createLocalApi('cli');
    const out = join(dir, 'fresh.safetensors');
    const created = await client.call('model.create', {
      out,
      classNames: ['push left', 'push right'],
      layers: [1, 1, 1, 1],
      baseWidth: 16,
      frames: 4,
      size: 64,
      pretrained: golden,
      seed: 2,
    });
    expect(created.config.classes).toBe(2);
    expect(created.imported!.source).toBe('stm');
    // Everything but the 5-class head and the golden test tensors comes from the file.
    expect(created.imported!.missing).toEqual(['fc.weight', 'fc.bias']);
    expect(created.imported!.unexpected).toEqual(expect.arrayContaining(['golden.input', 'golden.clip_logits']));
    const { network, info } = loadCheckpoint(out);
    expect(info.classNames).toEqual(['push left', 'push right']);
    expect(info.extra.pretrained_source).toBe('stm');
    expect([...(await network.stateDict()).get('layer2.0.mb.shift.weight')!.data]).toEqual([...readSafetensors(golden).tensors.get('layer2.0.mb.shift.weight')!.data]);
    network.dispose();
    await expect(client.call('model.create', { out, classNames: ['a', 'a'] })).rejects.toThrow(/class "a" is listed twice/);
  });

  it('stm-studio model init and model describe', () => {
    const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
    const out = join(dir, 'cli.safetensors');
    const init = run('model', 'init', '--out', out, '--classes', 'open lid, close lid', '--layers', '1,1,1,1', '--base-width', '16', '--frames', '4', '--size', '64', '--pretrained', golden);
    expect(init.stderr).not.toContain('error');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('pretrained (stm): 117 tensors loaded, 2 kept at init');
    const described = run('model', 'describe', out);
    expect(described.status).toBe(0);
    expect(described.stdout).toContain('classes (2): open lid, close lid');
    expect(described.stdout).toContain('T=4, 64²');
  });
});
