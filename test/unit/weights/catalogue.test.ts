import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_CATALOGUE, downloadUrlOf, fileNameOf, hashMatches, loadCatalogue } from '../../../src-main/core/weights/catalogue.ts';

const dir = mkdtempSync(join(tmpdir(), 'stm-catalogue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the pretrained weights catalogue', () => {
  it('has the four starting points, each hash agreeing with the prefix its publisher puts in the file name', () => {
    expect(BUILTIN_CATALOGUE.map((e) => e.name)).toEqual(['resnet50-imagenet1k-v1', 'resnet50-imagenet1k-v2', 'tsm-r50-kinetics400', 'tsm-r50-sthv2']);
    for (const e of BUILTIN_CATALOGUE) {
      const published = /-([0-9a-f]{8})\.pth$/.exec(fileNameOf(e))![1];
      expect(e.sha256.startsWith(published), e.name).toBe(true);
      expect(e.layers, e.name).toEqual([3, 4, 6, 3]);
      expect(e.width, e.name).toBe(64);
    }
    // torchvision: whole hash and exact size; mmaction2: only the published prefix, size estimated.
    expect(BUILTIN_CATALOGUE.filter((e) => e.sha256.length === 64 && e.bytes !== null).map((e) => e.name)).toEqual(['resnet50-imagenet1k-v1', 'resnet50-imagenet1k-v2']);
    expect(BUILTIN_CATALOGUE.filter((e) => e.sha256.length === 8 && e.bytes === null).map((e) => e.name)).toEqual(['tsm-r50-kinetics400', 'tsm-r50-sthv2']);
    const tsm = BUILTIN_CATALOGUE[2];
    expect(hashMatches(tsm, `64d69186${'0'.repeat(56)}`)).toBe(true);
    expect(hashMatches(tsm, `64d69187${'0'.repeat(56)}`)).toBe(false);
  });

  it('fetches the same paths from a mirror given in STM_STUDIO_WEIGHTS_URL', () => {
    const [v1] = BUILTIN_CATALOGUE;
    expect(downloadUrlOf(v1, {})).toBe('https://download.pytorch.org/models/resnet50-0676ba61.pth');
    expect(downloadUrlOf(v1, { STM_STUDIO_WEIGHTS_URL: 'http://mirror.lab:8080/' })).toBe('http://mirror.lab:8080/models/resnet50-0676ba61.pth');
  });

  it('adds and replaces entries from the file in STM_STUDIO_WEIGHTS_CATALOGUE, and names a bad one', () => {
    const extra = join(dir, 'extra.json');
    writeFileSync(extra, JSON.stringify([{ ...BUILTIN_CATALOGUE[0], name: 'lab-resnet', title: 'Our lab ResNet-50' }, { ...BUILTIN_CATALOGUE[3], top1: { value: 63, on: 'SSv2 val', protocol: 'ours' } }]));
    const catalogue = loadCatalogue({ STM_STUDIO_WEIGHTS_CATALOGUE: extra });
    expect(catalogue.map((e) => e.name)).toEqual(['resnet50-imagenet1k-v1', 'resnet50-imagenet1k-v2', 'tsm-r50-kinetics400', 'tsm-r50-sthv2', 'lab-resnet']);
    expect(catalogue[3].top1.value).toBe(63);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ ...BUILTIN_CATALOGUE[0], sha256: 'not-hex' }]));
    expect(() => loadCatalogue({ STM_STUDIO_WEIGHTS_CATALOGUE: bad })).toThrow(`${bad} (STM_STUDIO_WEIGHTS_CATALOGUE): entry 0.sha256: `);
    writeFileSync(bad, '{ not json');
    expect(() => loadCatalogue({ STM_STUDIO_WEIGHTS_CATALOGUE: bad })).toThrow(new RegExp(`^${bad.replace(/\./g, '\\.')} \\(STM_STUDIO_WEIGHTS_CATALOGUE\\): cannot read the weights catalogue: `));
  });
});
