import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { exportOnnxFile } from '../../../src-main/core/model/onnx/export-file.ts';
import { createOnnxClassifier, readOnnxMetadata } from '../../../src-main/core/model/onnx/runner.ts';
import { readFileSync } from 'node:fs';
import { golden, relativeError, tempDir } from './helpers.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const file = readSafetensors(golden);
const tensor = (name: string) => file.tensors.get(name)!.data as Float32Array;

describe('ONNX export of the golden STM (layers 1,1,1,1, width 16, T = 4, 64², 5 classes)', () => {
  it('an exported file run by ONNX Runtime (CPU) matches the PyTorch logits within 1e-3 relative', async () => {
    const out = join(tempDir(), 'golden.onnx');
    const result = exportOnnxFile({ weights: golden, out });
    expect(result).toMatchObject({ frames: 4, size: 64, classes: 5, opset: 17, input: { format: 'float-nchw', shape: ['clips_x_frames', 3, 64, 64] } });
    const classifier = await createOnnxClassifier({ onnxPath: out }, { threads: 1 });
    try {
      expect(classifier.model).toMatchObject({ frames: 4, size: 64, classes: 5, inputFormat: 'float-nchw', clipsPerRun: null });
      const logits = await classifier.run(tensor('golden.input'));
      expect(logits.clips).toBe(2);
      expect(relativeError(logits.frameLogits, tensor('golden.frame_logits'))).toBeLessThan(1e-3);
      expect(relativeError(logits.clipLogits, tensor('golden.clip_logits'))).toBeLessThan(1e-3);
    } finally {
      await classifier.dispose();
    }
  });

  it('runs straight from the weights file with a fixed batch: clip by clip, or padded to a larger batch', async () => {
    for (const clipsPerRun of [1, 3]) {
      const classifier = await createOnnxClassifier({ weights: golden, clipsPerRun }, { threads: 1 });
      try {
        expect(classifier.model.clipsPerRun).toBe(clipsPerRun);
        const logits = await classifier.run(tensor('golden.input'));
        expect(logits.clips).toBe(2);
        expect(logits.frameLogits).toHaveLength(8 * 5);
        expect(relativeError(logits.frameLogits, tensor('golden.frame_logits'))).toBeLessThan(1e-3);
        expect(relativeError(logits.clipLogits, tensor('golden.clip_logits'))).toBeLessThan(1e-3);
      } finally {
        await classifier.dispose();
      }
    }
  });

  it('a fixed-batch uint8 file takes raw RGB bytes and any number of clips', async () => {
    const out = join(tempDir(), 'rgb.onnx');
    const result = exportOnnxFile({ weights: golden, out, input: 'uint8-nhwc', clips: 2 });
    expect(result.input.shape).toEqual([8, 64, 64, 3]);
    const classifier = await createOnnxClassifier({ onnxPath: out }, { threads: 1 });
    try {
      expect(classifier.model).toMatchObject({ inputFormat: 'uint8-nhwc', clipsPerRun: 2, normalization: { mean: [0.485, 0.456, 0.406] } });
      const oneClip = Uint8Array.from({ length: 4 * 64 * 64 * 3 }, (_, i) => (i * 37) % 256);
      const threeClips = new Uint8Array(3 * oneClip.length);
      for (let c = 0; c < 3; c++) threeClips.set(oneClip, c * oneClip.length);
      const logits = await classifier.run(threeClips);
      expect(logits.clips).toBe(3);
      // The same clip three times, the third run padded: three identical rows.
      const rows = [0, 1, 2].map((c) => [...logits.clipLogits.subarray(c * 5, c * 5 + 5)]);
      expect(relativeError(rows[2], rows[0])).toBeLessThan(1e-5);
      expect(relativeError(rows[1], rows[0])).toBeLessThan(1e-5);
    } finally {
      await classifier.dispose();
    }
  });

  it('folds every BatchNorm into a convolution and keeps the architecture in the metadata', () => {
    const out = join(tempDir(), 'golden.onnx');
    exportOnnxFile({ weights: golden, out });
    const text = readFileSync(out).toString('latin1');
    expect(text).not.toContain('BatchNormalization');
    expect(readOnnxMetadata(readFileSync(out), out)).toMatchObject({ variant: 'stm', layers: '1,1,1,1', base_width: '16', frames: '4', classes: '5', size: '64' });
  });

  it('stm-studio model export-onnx --weights writes the file; usage errors exit 2, bad files exit 1', () => {
    const dir = tempDir();
    const out = join(dir, 'cli.onnx');
    const ok = spawnSync(process.execPath, [bin, 'model', 'export-onnx', '--weights', golden, '--out', out, '--json'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ out, frames: 4, classes: 5, outputs: [{ name: 'frame_logits' }, { name: 'clip_logits' }] });
    const noSource = spawnSync(process.execPath, [bin, 'model', 'export-onnx', '--out', out], { encoding: 'utf8' });
    expect(noSource.status).toBe(2);
    const badFormat = spawnSync(process.execPath, [bin, 'model', 'export-onnx', '--weights', golden, '--out', out, '--input', 'nhwc'], { encoding: 'utf8' });
    expect(badFormat.status).toBe(2);
    expect(badFormat.stderr).toContain('float-nchw, uint8-nhwc');
    const missing = spawnSync(process.execPath, [bin, 'model', 'export-onnx', '--weights', join(dir, 'none.safetensors'), '--out', out], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('none.safetensors');
  });
});
