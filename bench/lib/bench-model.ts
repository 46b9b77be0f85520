import { join } from 'node:path';
import { archOf, saveCheckpointAtomically } from '../../src-main/core/jobs/model-files.ts';
import { createStmNetwork } from '../../src-main/core/model/network.ts';
import type { StmConfig } from '../../src-main/core/model/config.ts';
import type { Project } from '../../src-main/core/store/project.ts';

/** A randomly initialised model of four classes in the project's models folder; its id. */
export async function addBenchModel(project: Project, config: Partial<StmConfig>): Promise<number> {
  const network = createStmNetwork(config, { seed: 1 });
  const classes = ['a', 'b', 'c', 'd'];
  const model = project.models.insert({ name: 'bench', arch: archOf(network.config), classes });
  const weightsPath = join('models', `${model.id}.safetensors`);
  await saveCheckpointAtomically(join(project.dir, weightsPath), network, classes);
  network.dispose();
  project.models.update(model.id, { weightsPath });
  return model.id;
}
