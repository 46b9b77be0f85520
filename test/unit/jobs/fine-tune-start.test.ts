import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { readSafetensors, type StoredTensor } from '../../../src-main/core/model/safetensors.ts';
import { archOf, buildStartingNetwork, saveCheckpointAtomically } from '../../../src-main/core/jobs/model-files.ts';
import { runTrainJob } from '../../../src-main/core/jobs/train.ts';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../../../src-main/core/jobs/params.ts';
import { labelledProject, recordingHooks, TINY, type LabelledProject } from './project-fixture.ts';

const GOLDEN = join(import.meta.dirname, '..', '..', 'fixtures', 'stm-small.safetensors');

function params(from: TrainParams['from'], extra: Partial<TrainParams> = {}): TrainParams {
  return { ...DEFAULT_TRAIN_PARAMS, ...TINY, layers: [1, 1, 1, 1], dropout: 0, from, ...extra };
}

const rowOf = (t: StoredTensor, row: number): number[] => {
  const width = t.shape[1];
  return Array.from((t.data as Float32Array).subarray(row * width, (row + 1) * width));
};
const values = (t: StoredTensor | undefined): number[] => Array.from((t?.data ?? new Float32Array()) as Float32Array);

describe('where a fine-tune starts', () => {
  let f: LabelledProject;
  let sourceId: number;
  let source: Map<string, StoredTensor>;

  beforeAll(async () => {
    f = await labelledProject();
    // A model of another label set: "blue" is shared, "purple" is not a class of this project.
    const network = createStmNetwork({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: 2, inputSize: 32 }, { seed: 5 });
    const model = f.project.models.insert({ name: 'older', arch: archOf(network.config), classes: ['blue', 'purple'] });
    await saveCheckpointAtomically(join(f.dir, 'models', `${model.id}.safetensors`), network, ['blue', 'purple']);
    network.dispose();
    f.project.models.update(model.id, { weightsPath: join('models', `${model.id}.safetensors`) });
    sourceId = model.id;
    source = readSafetensors(join(f.dir, 'models', `${model.id}.safetensors`)).tensors;
  });

  afterAll(() => f.cleanup());

  it('gives a model with other classes a new head, keeping the rows of classes with the same name', async () => {
    const hooks = recordingHooks();
    const { network, parentModelId } = await buildStartingNetwork(f.project, params({ kind: 'model', modelId: sourceId }), ['red', 'blue'], hooks);
    try {
      expect(parentModelId).toBe(sourceId);
      const state = await network.stateDict();
      expect(values(state.get('layer3.0.conv2.weight'))).toEqual(values(source.get('layer3.0.conv2.weight')));
      expect(rowOf(state.get('fc.weight')!, 1)).toEqual(rowOf(source.get('fc.weight')!, 0));
      expect(rowOf(state.get('fc.weight')!, 0)).not.toEqual(rowOf(source.get('fc.weight')!, 1));
      expect(hooks.lines.join('\n')).toMatch(/head: 1 class\(es\) kept by name, new: red/);
    } finally {
      network.dispose();
    }
  });

  it('takes the architecture of a weights file and starts its head afresh when no class name matches', async () => {
    const hooks = recordingHooks();
    const { network } = await buildStartingNetwork(f.project, params({ kind: 'weights', path: GOLDEN }, { width: 64 }), ['red', 'blue'], hooks);
    try {
      expect(network.config).toMatchObject({ baseWidth: 16, classes: 2, frames: 4, inputSize: 32 });
      const golden = readSafetensors(GOLDEN).tensors;
      expect(values((await network.stateDict()).get('layer1.0.shift.weight'))).toEqual(values(golden.get('layer1.0.shift.weight')));
      expect(hooks.lines.join('\n')).toMatch(/head: 0 class\(es\) kept by name, new: red, blue/);
    } finally {
      network.dispose();
    }
  });

  it('keeps frozen stages fixed while the rest of the network learns', async () => {
    const job = f.project.jobs.insert('train', { ...params({ kind: 'model', modelId: sourceId }, { freeze: 2, epochs: 1, lr: 0.05 }) });
    const outcome = await runTrainJob(f.project, f.project.jobs.require(job.id), recordingHooks());
    const trained = readSafetensors(join(f.dir, 'models', `${outcome.modelId}.safetensors`)).tensors;
    for (const name of ['conv1.weight', 'layer1.0.conv1.weight', 'layer2.0.conv2.weight', 'layer2.0.shift.weight']) {
      expect(values(trained.get(name)), name).toEqual(values(source.get(name)));
    }
    expect(values(trained.get('layer3.0.conv2.weight'))).not.toEqual(values(source.get('layer3.0.conv2.weight')));
    expect(values(trained.get('layer4.0.conv3.weight'))).not.toEqual(values(source.get('layer4.0.conv3.weight')));
  });
});
