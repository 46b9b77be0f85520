import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openProject } from '../../../src-main/core/store/project.ts';
import { checkpointInfoFromMetadata } from '../../../src-main/core/model/checkpoint.ts';
import { readSafetensors, writeSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { createOnnxClassifier } from '../../../src-main/core/model/onnx/runner.ts';
import { cudaProviderStatus, onnxRuntimeStatus } from '../../../src-main/core/model/onnx/providers.ts';
import { buildStmOnnx } from '../../../src-main/core/model/onnx/export.ts';
import { golden, relativeError, tempDir } from './helpers.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const file = readSafetensors(golden);
const info = checkpointInfoFromMetadata(file.metadata, golden);

describe('ONNX export and runner errors a user can act on', () => {
  it('names a missing or mis-shaped tensor', () => {
    const missing = new Map(file.tensors);
    missing.delete('layer2.0.mb.shift.weight');
    expect(() => buildStmOnnx(missing, info.config, {}, 'w.safetensors')).toThrow(/w\.safetensors: missing tensor "layer2\.0\.mb\.shift\.weight"/);
    const reshaped = new Map(file.tensors);
    reshaped.set('fc.weight', { ...file.tensors.get('fc.weight')!, shape: [512, 5] });
    expect(() => buildStmOnnx(reshaped, info.config)).toThrow(/"fc\.weight" has shape \[512,5\], the model expects \[5,512\]/);
  });

  it('rejects input that is not whole clips, or of the wrong element type', async () => {
    const classifier = await createOnnxClassifier({ weights: golden }, { threads: 1 });
    try {
      await expect(classifier.run(new Float32Array(3 * 3 * 64 * 64))).rejects.toThrow(/\[clips·4, 3, 64, 64\]/);
      await expect(classifier.run(new Uint8Array(4 * 3 * 64 * 64))).rejects.toThrow(/takes Float32Array/);
    } finally {
      await classifier.dispose();
    }
  });

  it('says a file is not an ONNX model, or not one of ours', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'junk.onnx'), 'this is not protobuf at all, just text');
    await expect(createOnnxClassifier({ onnxPath: join(dir, 'junk.onnx') })).rejects.toThrow(/junk\.onnx/);
    await expect(createOnnxClassifier({ onnxPath: join(dir, 'absent.onnx') })).rejects.toThrow(/cannot read .*absent\.onnx/);
  });

  it('an opt-in CUDA provider that cannot load is a reason, and inference still runs on CPU', async () => {
    const classifier = await createOnnxClassifier({ weights: golden }, { provider: 'cuda', threads: 1 });
    try {
      const status = cudaProviderStatus();
      expect(onnxRuntimeStatus()).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+/), cpu: { available: true }, cuda: status });
      if (status.available) {
        expect(classifier.provider === 'cuda' || classifier.providerNote !== null).toBe(true);
      } else {
        expect(classifier.provider).toBe('cpu');
        expect(classifier.providerNote).toBe(status.reason);
        expect(status.reason).toMatch(/CUDA/);
      }
      const logits = await classifier.run(file.tensors.get('golden.input')!.data as Float32Array);
      expect(relativeError(logits.clipLogits, file.tensors.get('golden.clip_logits')!.data as Float32Array)).toBeLessThan(1e-3);
    } finally {
      await classifier.dispose();
    }
  });

  it('model export-onnx DIR MODEL exports a project model by name or id, and names unknown models', async () => {
    const dir = tempDir();
    const project = openProject(dir, { create: true });
    mkdirSync(join(dir, 'models'), { recursive: true });
    copyFileSync(golden, join(dir, 'models', 'small.safetensors'));
    const model = project.models.insert({ name: 'small', arch: {}, classes: info.classNames, weightsPath: 'models/small.safetensors' });
    project.close();
    const out = join(dir, 'small.onnx');
    const byName = spawnSync(process.execPath, [bin, 'model', 'export-onnx', dir, 'small', '--out', out], { encoding: 'utf8' });
    expect(byName.status, byName.stderr).toBe(0);
    expect(byName.stdout).toContain('T = 4');
    const classifier = await createOnnxClassifier({ onnxPath: out }, { threads: 1 });
    expect(classifier.model.classNames).toEqual(info.classNames);
    await classifier.dispose();
    const byId = spawnSync(process.execPath, [bin, 'model', 'export-onnx', dir, String(model.id), '--out', out], { encoding: 'utf8' });
    expect(byId.status, byId.stderr).toBe(0);
    const unknown = spawnSync(process.execPath, [bin, 'model', 'export-onnx', dir, 'large', '--out', out], { encoding: 'utf8' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('no model "large"');
  });

  it('a truncated weights file is reported with its name and nothing is written', () => {
    const dir = tempDir();
    const cut = join(dir, 'cut.safetensors');
    const tensors = new Map([...file.tensors].filter(([name]) => !name.startsWith('golden.')));
    writeSafetensors(cut, tensors, file.metadata);
    truncateSync(cut, statSync(cut).size - 1000);
    const out = join(dir, 'cut.onnx');
    const r = spawnSync(process.execPath, [bin, 'model', 'export-onnx', '--weights', cut, '--out', out], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cut\.safetensors: truncated/);
    expect(readdirSync(dir)).toEqual(['cut.safetensors']);
  });
});
