import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { resolveStmConfig, type StmConfig, type StmVariant } from '../../../src-main/core/model/config.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { transposeArray } from '../../../src-main/core/model/layout.ts';
import { networkSpec } from '../../../src-main/core/model/parameters.ts';
import type { StoredTensor } from '../../../src-main/core/model/safetensors.ts';
import { buildStmOnnx } from '../../../src-main/core/model/onnx/export.ts';
import * as ort from 'onnxruntime-node';
import { relativeError } from './helpers.ts';

/** Deterministic pseudo-random numbers in [−0.5, 0.5). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** Random weights and BatchNorm statistics (far from the identity, so folding is really exercised). */
function randomState(config: StmConfig, seed: number): Map<string, StoredTensor> {
  const next = random(seed);
  const state = new Map<string, StoredTensor>();
  for (const p of networkSpec(config).params) {
    const count = p.torchShape.reduce((a, b) => a * b, 1);
    const fanIn = p.torchShape.slice(1).reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: count }, () => {
      if (p.name.endsWith('running_var')) return 0.5 + next() + 0.5;
      if (p.kind === 'vector' && p.name.endsWith('.weight')) return 1 + next();
      if (p.kind === 'vector') return next() * 0.4;
      return (next() * 2 * Math.sqrt(3)) / Math.sqrt(fanIn);
    });
    state.set(p.name, { dtype: 'F32', shape: [...p.torchShape], data });
  }
  return state;
}

async function runOnnx(bytes: Uint8Array, input: ort.Tensor): Promise<{ frames: Float32Array; clips: Float32Array }> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ frames: input });
    return { frames: out.frame_logits.data as Float32Array, clips: out.clip_logits.data as Float32Array };
  } finally {
    await session.release();
  }
}

describe('ONNX export agrees with the tfjs network for every variant and T', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  const cases: [StmVariant, number][] = [
    ['stm', 3],
    ['cstm', 5],
    ['cmm', 2],
    ['tsn', 4],
  ];
  for (const [variant, frames] of cases) {
    it(`${variant}, T = ${frames}, 2 clips`, async () => {
      const config = resolveStmConfig({ variant, frames, layers: [1, 2, 1, 1], baseWidth: 16, classes: 6, inputSize: 32 });
      const state = randomState(config, frames * 31 + variant.length);
      const network = createStmNetwork(config);
      network.loadState(state, { strict: true });
      const next = random(7);
      const count = 2 * frames;
      const nchw = Float32Array.from({ length: count * 3 * 32 * 32 }, () => next() * 4);
      const expected = tf.tidy(() => {
        const x = tf.tensor4d(transposeArray(nchw, [count, 3, 32, 32], [0, 2, 3, 1]), [count, 32, 32, 3]);
        const { frameLogits, clipLogits } = network.forward(x);
        return { frames: frameLogits.dataSync(), clips: clipLogits.dataSync() };
      });
      network.dispose();

      const { bytes } = buildStmOnnx(state, config);
      const actual = await runOnnx(bytes, new ort.Tensor('float32', nchw, [count, 3, 32, 32]));
      expect(relativeError(actual.frames, expected.frames)).toBeLessThan(1e-4);
      expect(relativeError(actual.clips, expected.clips)).toBeLessThan(1e-4);
    });
  }

  it('a uint8 NHWC export normalises inside the graph exactly like the float export fed normalised frames', async () => {
    const config = resolveStmConfig({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: 3, inputSize: 64 });
    const state = randomState(config, 11);
    const normalization = { mean: [0.485, 0.456, 0.406] as [number, number, number], std: [0.229, 0.224, 0.225] as [number, number, number] };
    const next = random(3);
    const count = 4;
    const rgb = Uint8Array.from({ length: count * 64 * 64 * 3 }, () => Math.floor((next() + 0.5) * 256));
    const normalised = Float32Array.from(rgb, (v, i) => (v / 255 - normalization.mean[i % 3]) / normalization.std[i % 3]);
    const nchw = transposeArray(normalised, [count, 64, 64, 3], [0, 3, 1, 2]);
    const float = await runOnnx(buildStmOnnx(state, config).bytes, new ort.Tensor('float32', nchw, [count, 3, 64, 64]));
    const bytes = buildStmOnnx(state, config, { input: 'uint8-nhwc', normalization }).bytes;
    const raw = await runOnnx(bytes, new ort.Tensor('uint8', rgb, [count, 64, 64, 3]));
    expect(relativeError(raw.frames, float.frames)).toBeLessThan(1e-4);
  });

  it('exports at another input size than the checkpoint says', async () => {
    const config = resolveStmConfig({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 2, classes: 3, inputSize: 64 });
    const { bytes } = buildStmOnnx(randomState(config, 5), config, { inputSize: 96 });
    const out = await runOnnx(bytes, new ort.Tensor('float32', new Float32Array(2 * 3 * 96 * 96).fill(0.5), [2, 3, 96, 96]));
    expect(out.clips).toHaveLength(3);
    expect(() => buildStmOnnx(randomState(config, 5), config, { inputSize: 100 })).toThrow(/multiple of 32, got 100/);
  });
});
