import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { modelInfo } from '../../../src-main/core/model/info.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { createLocalApi } from '../../../src-main/api/local-client.ts';

const bin = join(import.meta.dirname, '../../../bin/stm-studio.mjs');
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('model info (ResNet-50 layout, 174 classes, T = 8, 224²)', () => {
  it('counts the parameters of the paper and the reference implementation exactly', () => {
    expect(modelInfo({ variant: 'stm' }).params).toBe(24_035_666);
    expect(modelInfo({ variant: 'cstm' }).params).toBe(23_875_886);
    expect(modelInfo({ variant: 'tsn' }).params).toBe(23_864_558);
  });

  it('counts multiply-accumulates within 1% of 33.08 G (STM) and 32.70 G (ResNet-50)', () => {
    expect(Math.abs(modelInfo({ variant: 'stm' }).macs / 33.08e9 - 1)).toBeLessThan(0.01);
    expect(Math.abs(modelInfo({ variant: 'tsn' }).macs / 32.7e9 - 1)).toBeLessThan(0.01);
    // Frames travel in the batch: twice the frames, twice the work, same parameters.
    const t16 = modelInfo({ frames: 16 });
    expect(t16.macs).toBe(2 * modelInfo({ frames: 8 }).macs);
    expect(t16.params).toBe(24_035_666);
  });

  it('agrees with the parameters a built network really has', () => {
    const config = { layers: [1, 2, 1, 1] as const, baseWidth: 16, frames: 3, classes: 7, inputSize: 64 };
    for (const variant of ['stm', 'cstm', 'cmm', 'tsn'] as const) {
      const network = createStmNetwork({ ...config, variant });
      const actual = network.trainableVariables().reduce((sum, v) => sum + v.size, 0);
      expect(modelInfo({ ...config, variant }).params, variant).toBe(actual);
      network.dispose();
    }
  });

  it('answers through the contract and rejects an unknown arch', async () => {
    const { client } = createLocalApi('cli');
    const info = await client.call('model.info', { arch: 'stm-r50', classes: 174 });
    expect(info.params).toBe(24_035_666);
    await expect(client.call('model.info', { arch: 'vgg16' })).rejects.toThrow(/unknown architecture "vgg16"/);
  });

  it('stm-studio model info --json prints params and macs', () => {
    const r = run('model', 'info', '--arch', 'stm-r50', '--variant', 'cstm', '--frames', '8', '--classes', '174', '--size', '224', '--json');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { params: number; macs: number };
    expect(out.params).toBe(23_875_886);
    expect(out.macs).toBeGreaterThan(32e9);
    const human = run('model', 'info', '--variant', 'tsn');
    expect(human.stdout).toContain('23,864,558');
    expect(run('model', 'info', '--variant', 'i3d').status).toBe(2);
    expect(run('model', 'info', '--size', '100').stderr).toContain('multiple of 32');
  });
});
