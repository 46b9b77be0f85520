/**
 * A whole job chain on the webgpu backend, forced onto SwiftShader (CI's software Vulkan adapter): training
 * in a job worker, then predict and probe over the trained model, exported as the usual CSVs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSwiftShader } from '../../helpers/swiftshader.ts';
import { trainingTestbed, TINY_TRAIN } from './project-fixture.ts';

const { fixture, openApi } = trainingTestbed();

type CsvRow = Record<string, string>;
const readCsv = (file: string): CsvRow[] => parse(readFileSync(file, 'utf8'), { columns: true }) as CsvRow[];

describe('jobs on webgpu (SwiftShader)', () => {
  beforeAll(() => useSwiftShader());

  it('trains, predicts and probes with --backend webgpu and exports the CSVs', async () => {
    const f = await fixture({ reverse: true });
    const api = openApi(f.dir);
    // Batches of 2 everywhere: every new tensor shape costs SwiftShader a round of shader compilation.
    const train = await api.client.call('train.start', { ...TINY_TRAIN, backend: 'webgpu', epochs: 1, batch: 2, name: 'on webgpu' });
    const trained = await api.client.call('jobs.wait', { id: train.id });
    expect(trained.status, trained.error ?? '').toBe('done');
    const trainLog = (await api.client.call('jobs.log', { id: train.id })).log;
    expect(trainLog).toMatch(/compute backend: webgpu .*WebGPU on .*SwiftShader/i);
    expect(trained.figures).toMatchObject({ epochs: 1, train_loss: expect.any(Number) });
    const modelId = trained.modelId!;

    const predict = await api.client.call('predict.start', {
      modelId, videoIds: [f.videoIds[0], f.videoIds[2]], window: { value: 12, unit: 'frames' }, stride: { value: 12, unit: 'frames' }, direction: 'both', batch: 2, backend: 'webgpu',
    });
    const predicted = await api.client.call('jobs.wait', { id: predict.id });
    expect(predicted.status, predicted.error ?? '').toBe('done');
    expect((await api.client.call('jobs.log', { id: predict.id })).log).toMatch(/TensorFlow\.js on webgpu/);
    expect(predicted.figures).toMatchObject({ videos: 2, windows: 4, predictions: 8 });

    const probe = await api.client.call('probe.start', { modelId, batch: 2, backend: 'webgpu' });
    const probed = await api.client.call('jobs.wait', { id: probe.id });
    expect(probed.status, probed.error ?? '').toBe('done');

    const predictions = join(f.dir, 'predictions.csv');
    expect((await api.client.call('export.csv', { kind: 'predictions', file: predictions, modelId })).rows).toBe(8);
    for (const r of readCsv(predictions)) expect(Number(r.p_red) + Number(r.p_blue)).toBeCloseTo(1, 5);
    const probeCsv = join(f.dir, 'probe.csv');
    await api.client.call('export.csv', { kind: 'probe', file: probeCsv, modelId });
    const rows = readCsv(probeCsv);
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.label === 'red').every((r) => r.expected_reversed === 'blue')).toBe(true);
  }, 900_000);
});
