import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { readSafetensors, type StoredTensor } from '../../../src-main/core/model/safetensors.ts';
import { checkpointInfoFromMetadata } from '../../../src-main/core/model/checkpoint.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { transposeArray } from '../../../src-main/core/model/layout.ts';
import { relativeError } from '../../helpers/relative-error.ts';

const golden = join(import.meta.dirname, '../../fixtures/stm-small.safetensors');
const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');


const nhwc = (t: StoredTensor) => transposeArray(t.data as Float32Array, t.shape, [0, 2, 3, 1]);

describe('golden parity with the PyTorch reference STM', () => {
  const file = readSafetensors(golden);
  const tensor = (name: string) => file.tensors.get(name)!;

  for (const backend of ['cpu', 'wasm'] as const) {
    describe(`on ${backend}`, () => {
      beforeAll(async () => {
        await selectBackend(backend);
      });

      it('matches the stem, layer1, layer4 features and both logits within 1e-3 × max|value|', () => {
        const info = checkpointInfoFromMetadata(file.metadata, golden);
        const network = createStmNetwork({ ...info.config, inputSize: 64 });
        const report = network.loadState(file.tensors, { strict: true });
        expect(report.missing).toEqual([]);
        const input = tensor('golden.input');
        const x = tf.tensor4d(nhwc(input), [8, 64, 64, 3]);
        const features = network.features(x);
        for (const name of ['stem', 'layer1', 'layer4'] as const) {
          expect(relativeError(features[name].dataSync(), nhwc(tensor(`golden.${name}`))), name).toBeLessThan(1e-3);
        }
        const { frameLogits, clipLogits } = network.forward(x);
        expect(frameLogits.shape).toEqual([8, 5]);
        expect(clipLogits.shape).toEqual([2, 5]);
        expect(relativeError(frameLogits.dataSync(), tensor('golden.frame_logits').data as Float32Array)).toBeLessThan(1e-3);
        expect(relativeError(clipLogits.dataSync(), tensor('golden.clip_logits').data as Float32Array)).toBeLessThan(1e-3);
        tf.dispose([x, frameLogits, clipLogits, ...Object.values(features)]);
        network.dispose();
      });
    });
  }

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`stm-studio model forward --backend ${backend} writes the golden logits`, () => {
      const out = join(mkdtempSync(join(tmpdir(), 'stm-forward-')), 'logits.safetensors');
      const r = spawnSync(
        process.execPath,
        [bin, 'model', 'forward', '--weights', golden, '--input', golden, '--input-key', 'golden.input', '--out', out, '--backend', backend, '--features'],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.stderr).not.toContain('error');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain(backend);
      const written = readSafetensors(out).tensors;
      expect(written.get('frame_logits')!.shape).toEqual([8, 5]);
      expect(written.get('clip_logits')!.shape).toEqual([2, 5]);
      expect(relativeError(written.get('frame_logits')!.data as Float32Array, tensor('golden.frame_logits').data as Float32Array)).toBeLessThan(1e-3);
      expect(relativeError(written.get('clip_logits')!.data as Float32Array, tensor('golden.clip_logits').data as Float32Array)).toBeLessThan(1e-3);
      // --features writes the stage outputs in PyTorch's NCHW layout, directly comparable with the reference.
      for (const name of ['stem', 'layer1', 'layer4']) {
        expect(written.get(name)!.shape).toEqual(tensor(`golden.${name}`).shape);
        expect(relativeError(written.get(name)!.data as Float32Array, tensor(`golden.${name}`).data as Float32Array), name).toBeLessThan(1e-3);
      }
    });
  }

  it('model forward names a missing input tensor', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'stm-forward-')), 'logits.safetensors');
    const r = spawnSync(process.execPath, [bin, 'model', 'forward', '--weights', golden, '--input', golden, '--input-key', 'clips', '--out', out, '--backend', 'cpu'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no tensor "clips"');
  });
});
