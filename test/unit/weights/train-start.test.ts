import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../../../src-main/core/jobs/params.ts';
import { readCheckpointInfo } from '../../../src-main/core/model/checkpoint.ts';
import { readSafetensors, type StoredTensor } from '../../../src-main/core/model/safetensors.ts';
import { readWeightsFile } from '../../../src-main/core/model/pretrained.ts';
import { importWeightsFile } from '../../../src-main/core/weights/import.ts';
import { BASE_URL_ENV, CATALOGUE_FILE_ENV } from '../../../src-main/core/weights/catalogue.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { startWeightsServer } from '../../helpers/weights-server.ts';
import { labelledProject, recordingHooks, TINY_TRAIN, type LabelledProject } from '../jobs/project-fixture.ts';
import { fixture, servedFiles, sha256Of, testCatalogue, writeCatalogueFile } from '../../helpers/weights-catalogue.ts';

const saved = { home: process.env.STM_STUDIO_HOME, catalogue: process.env[CATALOGUE_FILE_ENV] };
let home: string;
let f: LabelledProject;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'stm-weights-train-'));
  process.env.STM_STUDIO_HOME = home;
  process.env[CATALOGUE_FILE_ENV] = writeCatalogueFile(home, testCatalogue());
  await importWeightsFile(fixture('weights-tsm-k400-tiny.pth'), testCatalogue());
  f = await labelledProject();
});

afterAll(() => {
  f.cleanup();
  rmSync(home, { recursive: true, force: true });
  for (const [key, value] of [['STM_STUDIO_HOME', saved.home], [CATALOGUE_FILE_ENV, saved.catalogue]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const params = (extra: Partial<TrainParams>): TrainParams => ({ ...DEFAULT_TRAIN_PARAMS, ...TINY_TRAIN, epochs: 1, from: { kind: 'scratch' }, ...extra });
const values = (t: StoredTensor | undefined): number[] => Array.from((t?.data ?? new Float32Array()) as Float32Array);

describe('a fine-tune that starts from cached pretrained weights', () => {
  it('fails with the command to run when the weights are not downloaded', async () => {
    const job = f.project.jobs.insert('train', { ...params({ from: { kind: 'pretrained', name: 'tsm-r50-sthv2' } }) });
    await expect(runTrainJob(f.project, f.project.jobs.require(job.id), recordingHooks())).rejects.toThrow(
      'The weights "tsm-r50-sthv2" are not downloaded yet: run "stm-studio weights get tsm-r50-sthv2" (or pick them under "Start from" in the app).',
    );
  });

  it('takes the layout of the weights, loads them, and records their name and sha256 on the model card', async () => {
    // The form's layout (ResNet-50) is not the fixture's: the weights' own layout wins.
    const job = f.project.jobs.insert('train', { ...params({ from: { kind: 'pretrained', name: 'tsm-r50-kinetics400' }, layers: [3, 4, 6, 3], width: 64, freeze: 2 }) });
    const hooks = recordingHooks();
    const outcome = await runTrainJob(f.project, f.project.jobs.require(job.id), hooks);
    const sha256 = sha256Of(fixture('weights-tsm-k400-tiny.pth'));
    expect(hooks.lines.join('\n')).toMatch(new RegExp(`starting from tsm-r50-kinetics400 \\(sha256 ${sha256}\\), layout 1,1,1,1 width 16: \\d+ tensors loaded`));

    const model = f.project.models.require(outcome.modelId!);
    expect(model.arch).toMatchObject({ layers: [1, 1, 1, 1], baseWidth: 16, startedFrom: { name: 'tsm-r50-kinetics400', sha256 } });
    const checkpoint = join(f.dir, model.weightsPath!);
    expect(readCheckpointInfo(checkpoint).extra).toMatchObject({ started_from: 'tsm-r50-kinetics400', started_from_sha256: sha256 });
    const describe = spawnSync(process.execPath, [join(import.meta.dirname, '../../../bin/stm-studio.mjs'), 'model', 'describe', checkpoint], { encoding: 'utf8' });
    expect(describe.stdout).toContain(`started from: tsm-r50-kinetics400 (sha256 ${sha256}, ${join(home, 'weights', 'weights-tsm-k400-tiny.pth')})\n`);

    // Frozen early stages keep the Kinetics weights exactly; the head is this project's (2 classes).
    const trained = readSafetensors(checkpoint).tensors;
    const source = readWeightsFile(fixture('weights-tsm-k400-tiny.pth')).tensors;
    expect(values(trained.get('layer1.0.conv1.weight'))).toEqual(values(source.get('backbone.layer1.0.conv1.conv.net.weight')));
    expect(values(trained.get('bn1.weight'))).toEqual(values(source.get('backbone.conv1.bn.weight')));
    expect(trained.get('fc.weight')!.shape).toEqual([2, 512]);

    // A fine-tune of that model keeps the pretrained weights at the root of its lineage.
    const next = f.project.jobs.insert('train', { ...params({ from: { kind: 'model', modelId: model.id } }) });
    const nextOutcome = await runTrainJob(f.project, f.project.jobs.require(next.id), recordingHooks());
    expect(f.project.models.require(nextOutcome.modelId!)).toMatchObject({ parentModelId: model.id, arch: { startedFrom: { name: 'tsm-r50-kinetics400', sha256 } } });
  }, 120_000);

  it('stm-studio train --from NAME downloads catalogue weights first (progress on stderr), then trains from them', async () => {
    const server = await startWeightsServer(servedFiles(testCatalogue()));
    const g = await labelledProject();
    g.project.close();
    try {
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(import.meta.dirname, '../../../bin/stm-studio.mjs'), 'train', g.dir, '--from', 'tsm-r50-sthv2', '--epochs', '1', '--frames', '4', '--size', '32', '--batch', '4', '--backend', 'wasm', '--json'],
          { encoding: 'utf8', timeout: 120_000, env: { ...process.env, [BASE_URL_ENV]: server.url } },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(result.stderr).toMatch(/tsm-r50-sthv2 \(MB\): .*(verified|MB\/s)/);
      expect(result.code).toBe(0);
      expect(server.requests.map((r) => r.path)).toEqual([expect.stringMatching(/weights-tsm-sthv2-tiny\.pth$/)]);
      const project = openProject(g.dir);
      try {
        const model = project.models.list().at(-1)!;
        expect(model.arch).toMatchObject({ startedFrom: { name: 'tsm-r50-sthv2', sha256: sha256Of(fixture('weights-tsm-sthv2-tiny.pth')) } });
      } finally {
        project.close();
      }
    } finally {
      await server.close();
      rmSync(g.dir, { recursive: true, force: true });
    }
  });

});
