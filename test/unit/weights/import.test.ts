import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { importWeightsFile, checkStartingWeights } from '../../../src-main/core/weights/import.ts';
import { listStartingPoints, resolveCachedWeights, suggestFineTune } from '../../../src-main/core/weights/starting-points.ts';
import { fixture, sha256Of, testCatalogue } from '../../helpers/weights-catalogue.ts';

const catalogue = testCatalogue();
const savedHome = process.env.STM_STUDIO_HOME;
let home: string;
let scratch: string;

beforeAll(async () => {
  await selectBackend('cpu');
  scratch = mkdtempSync(join(tmpdir(), 'stm-weights-files-'));
});
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'stm-weights-home-'));
  process.env.STM_STUDIO_HOME = home;
});
afterEach(() => rmSync(home, { recursive: true, force: true }));
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (savedHome === undefined) delete process.env.STM_STUDIO_HOME;
  else process.env.STM_STUDIO_HOME = savedHome;
});

const cacheFiles = (): string[] => (existsSync(join(home, 'weights')) ? readdirSync(join(home, 'weights'), { recursive: true }).map(String).sort() : []);

describe('importing weights a user brings (offline machines)', () => {
  it('files a known file under its catalogue name, by its hash, whatever it is called', async () => {
    const renamed = join(scratch, 'downloaded on the lab PC.pth');
    copyFileSync(fixture('weights-tsm-sthv2-tiny.pth'), renamed);
    const imported = await importWeightsFile(renamed, catalogue);
    expect(imported.entry?.name).toBe('tsm-r50-sthv2');
    expect(imported.alreadyCached).toBe(false);
    expect(imported.weights.path).toBe(join(home, 'weights', 'weights-tsm-sthv2-tiny.pth'));
    expect(imported.weights.sha256).toBe(sha256Of(renamed));
    expect(listStartingPoints(catalogue).catalogue.find((e) => e.name === 'tsm-r50-sthv2')?.status).toBe('cached');
    expect(resolveCachedWeights('tsm-r50-sthv2', catalogue)).toMatchObject({ layers: [1, 1, 1, 1], width: 16 });
    const again = await importWeightsFile(renamed, catalogue);
    expect(again.alreadyCached).toBe(true);
    expect(cacheFiles()).toEqual(['weights-tsm-sthv2-tiny.pth', 'weights-tsm-sthv2-tiny.pth.json']);
  });

  it('accepts an unknown ResNet-50-family file as custom after loading it into an STM network', async () => {
    // A catalogue without this file: it is unknown, so it goes through the loading checks.
    const unknown = join(scratch, 'resnet-lab.pth');
    copyFileSync(fixture('weights-resnet-tiny.pth'), unknown);
    const onlyTsm = catalogue.filter((e) => e.name.startsWith('tsm'));
    const imported = await importWeightsFile(unknown, onlyTsm);
    expect(imported.entry).toBeNull();
    expect(imported.weights.name).toBe('custom-resnet-lab');
    expect(imported.check).toMatchObject({ source: 'torchvision', layers: [1, 1, 1, 1], width: 16 });
    expect(imported.check!.matched).toBeGreaterThan(20);
    expect(imported.weights.path).toBe(join(home, 'weights', 'custom', 'custom-resnet-lab.pth'));
    expect(listStartingPoints(onlyTsm).custom.map((c) => c.name)).toEqual(['custom-resnet-lab']);
    expect(resolveCachedWeights('custom-resnet-lab', onlyTsm)).toMatchObject({ layers: [1, 1, 1, 1], width: 16 });
    expect(existsSync(unknown)).toBe(true);
  });

  it('names the file and the problem for bad inputs, and writes nothing into the cache', async () => {
    const text = join(scratch, 'notes.pth');
    writeFileSync(text, 'these are my notes, not weights\n'.repeat(20));
    await expect(importWeightsFile(text, catalogue)).rejects.toThrow(new RegExp(`^${text.replace(/[.()]/g, '\\$&')}: `));

    const truncated = join(scratch, 'truncated.pth');
    const whole = readFileSync(fixture('weights-tsm-k400-tiny.pth'));
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length * 0.6)));
    await expect(importWeightsFile(truncated, catalogue)).rejects.toThrow(new RegExp(`^${truncated.replace(/[.]/g, '\\.')}: .*(truncated|not a readable PyTorch checkpoint|zip)`, 'i'));

    const resnet18 = fixture('weights-resnet18-tiny.pth');
    await expect(importWeightsFile(resnet18, catalogue)).rejects.toThrow(
      `${resnet18}: a ResNet with basic blocks (stage depths 1,1,1,1, no conv3: the ResNet-18/34 layout). STM's blocks are bottlenecks (ResNet-50 family), so these weights cannot start it.`,
    );
    const vit = fixture('weights-vit-tiny.pth');
    await expect(importWeightsFile(vit, catalogue)).rejects.toThrow(`${vit}: no ResNet backbone in this file (first tensors: "cls_token", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight").`);
    await expect(importWeightsFile(join(scratch, 'nope.pth'), catalogue)).rejects.toThrow(`No such weights file: ${join(scratch, 'nope.pth')}`);
    expect(cacheFiles()).toEqual([]);
  });

  it('checks a mmaction2 TSM checkpoint as a training start would load it', () => {
    const check = checkStartingWeights(fixture('weights-tsm-k400-tiny.pth'));
    expect(check).toMatchObject({ source: 'mmaction', layers: [1, 1, 1, 1], width: 16 });
    // The 10-way Kinetics head of the fixture is not this network's, so it keeps its init with CSTM and CMM.
    expect(check.keptInit).toBeGreaterThan(0);
  });
});

describe('fine-tune defaults for a pretrained start', () => {
  it('picks Something-Something TSM for reverse pairs, Kinetics TSM otherwise, and scratch when nothing is cached', async () => {
    const none = suggestFineTune(listStartingPoints(catalogue), { reversePairs: 2, onGpu: false });
    expect(none.from).toEqual({ kind: 'scratch' });
    expect(none.why).toMatch(/^Scratch: no pretrained weights are downloaded; tsm-r50-sthv2 fits best/);

    await importWeightsFile(fixture('weights-tsm-k400-tiny.pth'), catalogue);
    const scene = suggestFineTune(listStartingPoints(catalogue), { reversePairs: 0, onGpu: false });
    expect(scene).toMatchObject({ from: { kind: 'pretrained', name: 'tsm-r50-kinetics400' }, layers: [1, 1, 1, 1], width: 16, freeze: 2, lr: 0.001 });
    expect(scene.why).toMatch(/Kinetics-400.*no reverse partner/);
    const fallback = suggestFineTune(listStartingPoints(catalogue), { reversePairs: 1, onGpu: true });
    expect(fallback).toMatchObject({ from: { name: 'tsm-r50-kinetics400' }, freeze: 0, size: 224 });
    expect(fallback.why).toMatch(/the better fit \(tsm-r50-sthv2\) is not downloaded/);

    await importWeightsFile(fixture('weights-tsm-sthv2-tiny.pth'), catalogue);
    const temporal = suggestFineTune(listStartingPoints(catalogue), { reversePairs: 1, onGpu: false });
    expect(temporal.from).toEqual({ kind: 'pretrained', name: 'tsm-r50-sthv2' });
    expect(temporal.why).toMatch(/1 reverse pair\(s\), and Something-Something v2 was trained to tell actions from their reverse/);
  });
});
