/**
 * The webgpu backend on SwiftShader (a software Vulkan adapter, as CI has no GPU): the same answers as the
 * PyTorch reference and as wasm training, read back asynchronously, without leaking tensors.
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeBackends, selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { readSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { useSwiftShader } from '../../helpers/swiftshader.ts';
import { seeded } from './grad-cases.ts';
import { relativeError } from '../../helpers/relative-error.ts';

const golden = join(import.meta.dirname, '../../fixtures/stm-small.safetensors');
const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');


const TINY = { variant: 'stm' as const, layers: [1, 1, 1, 1] as const, baseWidth: 16, frames: 4, classes: 5, inputSize: 32 };
const STEPS = 5;

interface Curve {
  losses: number[];
  /** Live tensors after each step. */
  tensors: number[];
}

/** Loss after each of five SGD-with-momentum steps of the tiny STM on fixed data, read with `await data()`. */
async function lossCurve(backend: 'wasm' | 'webgpu'): Promise<Curve> {
  await selectBackend(backend);
  const net = createStmNetwork(TINY, { seed: 5 });
  const size = TINY.inputSize;
  const x = tf.tensor4d(seeded(TINY.frames * size * size * 3, 21), [TINY.frames, size, size, 3]);
  const labels = tf.oneHot(tf.tensor1d([3], 'int32'), TINY.classes);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const curve: Curve = { losses: [], tensors: [] };
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x, { training: true }).clipLogits) as tf.Scalar, true, net.trainableVariables())!;
    curve.losses.push((await loss.data())[0]!);
    loss.dispose();
    curve.tensors.push(tf.memory().numTensors);
  }
  optimizer.dispose();
  tf.dispose([x, labels]);
  net.dispose();
  return curve;
}

describe('webgpu on a software adapter (SwiftShader)', () => {
  beforeAll(() => useSwiftShader());

  it('doctor does not count a software adapter as a GPU', async () => {
    const webgpu = (await probeBackends()).find((b) => b.name === 'webgpu')!;
    expect(webgpu.available).toBe(false);
    expect(webgpu.reason).toMatch(/only a software adapter \(.*SwiftShader.*\).*force it with --backend webgpu/i);
  });

  it('stm-studio model forward --backend webgpu writes the golden logits and features', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'stm-forward-')), 'logits.safetensors');
    const r = spawnSync(
      process.execPath,
      [bin, 'model', 'forward', '--weights', golden, '--input', golden, '--input-key', 'golden.input', '--out', out, '--backend', 'webgpu', '--features'],
      { encoding: 'utf8', timeout: 90_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('webgpu');
    const expected = readSafetensors(golden).tensors;
    const written = readSafetensors(out).tensors;
    for (const name of ['frame_logits', 'clip_logits', 'stem', 'layer1', 'layer4']) {
      const reference = expected.get(`golden.${name}`)!;
      expect(written.get(name)!.shape, name).toEqual(reference.shape);
      expect(relativeError(written.get(name)!.data as Float32Array, reference.data as Float32Array), name).toBeLessThan(1e-3);
    }
  });

  it('five training steps of the tiny STM give the wasm backend’s losses within 1e-3, with no tensor left behind', async () => {
    const wasm = await lossCurve('wasm');
    const webgpu = await lossCurve('webgpu');
    expect(wasm.losses[STEPS - 1]).toBeLessThan(wasm.losses[0]! - 0.01);
    for (let i = 0; i < STEPS; i++) expect(Math.abs(webgpu.losses[i]! - wasm.losses[i]!), `step ${i + 1}`).toBeLessThan(1e-3);
    expect(new Set(webgpu.tensors).size, `live tensors per step: ${webgpu.tensors.join(', ')}`).toBe(1);
  }, 180_000);
});
