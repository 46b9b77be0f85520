import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { UserError } from '../../errors.ts';
import type { Project } from '../../store/project.ts';
import type { ModelRecord } from '../../store/models.ts';

/** A model of the project by id or by name, with the absolute path of its weights file. */
export function projectModelWeights(project: Project, reference: string): { model: ModelRecord; weights: string } {
  const models = project.models.list();
  const model = /^\d+$/.test(reference)
    ? models.find((m) => m.id === Number(reference))
    : models.find((m) => m.name === reference);
  if (!model) {
    const known = models.map((m) => `${m.id} "${m.name}"`).join(', ');
    throw new UserError('not_found', `no model "${reference}" in ${project.dir} (models: ${known || 'none'})`);
  }
  if (!model.weightsPath) throw new UserError('not_found', `model ${model.id} "${model.name}" has no weights file yet`);
  const weights = isAbsolute(model.weightsPath) ? model.weightsPath : join(project.dir, model.weightsPath);
  if (!existsSync(weights)) throw new UserError('not_found', `model ${model.id} "${model.name}": weights file ${weights} is missing`);
  return { model, weights };
}
