import { UserError } from '../errors.ts';
import { fromJson, nowIso, toJson, writeTx, type Db, type SqlRow, stmt } from './sql.ts';

export interface ModelRecord {
  id: number;
  name: string;
  /** Architecture description (variant, depths, width, frames, input size...), owned by core/model. */
  arch: Record<string, unknown>;
  /** Class names in the order of the network's outputs. */
  classes: string[];
  /** Relative to the project folder, e.g. `models/3.safetensors`. */
  weightsPath: string | null;
  parentModelId: number | null;
  metrics: Record<string, unknown> | null;
  createdAt: string;
}

export type NewModel = Omit<ModelRecord, 'id' | 'createdAt' | 'metrics' | 'parentModelId' | 'weightsPath'> &
  Partial<Pick<ModelRecord, 'metrics' | 'parentModelId' | 'weightsPath'>>;
export type ModelPatch = Partial<Pick<ModelRecord, 'name' | 'weightsPath' | 'metrics'>>;

function toModel(r: SqlRow): ModelRecord {
  return {
    id: Number(r.id),
    name: String(r.name),
    arch: fromJson<Record<string, unknown>>(r.arch) ?? {},
    classes: fromJson<string[]>(r.classes) ?? [],
    weightsPath: (r.weights_path as string | null) ?? null,
    parentModelId: r.parent_model_id === null ? null : Number(r.parent_model_id),
    metrics: fromJson<Record<string, unknown>>(r.metrics),
    createdAt: String(r.created_at),
  };
}

export class ModelsRepo {
  constructor(private readonly db: Db) {}

  insert(model: NewModel): ModelRecord {
    const info = writeTx(this.db, () =>
      stmt(this.db,
          'INSERT INTO models (name, arch, classes, weights_path, parent_model_id, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(model.name, JSON.stringify(model.arch), JSON.stringify(model.classes), model.weightsPath ?? null,
          model.parentModelId ?? null, toJson(model.metrics), nowIso()),
    );
    return this.require(Number(info.lastInsertRowid));
  }

  /**
   * Adds a model and its weights file in one edit: `storeWeights(id)` writes the file for the new row and
   * returns its path relative to the project; if it throws, the row is not added.
   */
  insertWithWeights(model: Omit<NewModel, 'weightsPath'>, storeWeights: (id: number) => string): ModelRecord {
    const id = writeTx(this.db, () => {
      const added = this.insert(model);
      this.update(added.id, { weightsPath: storeWeights(added.id) });
      return added.id;
    });
    return this.require(id);
  }

  get(id: number): ModelRecord | null {
    const row = stmt(this.db, 'SELECT * FROM models WHERE id = ?').get(id) as SqlRow | undefined;
    return row ? toModel(row) : null;
  }

  require(id: number): ModelRecord {
    const model = this.get(id);
    if (!model) throw new UserError('not_found', `No model with id ${id} in this project.`);
    return model;
  }

  list(): ModelRecord[] {
    return (stmt(this.db, 'SELECT * FROM models ORDER BY id').all() as SqlRow[]).map(toModel);
  }

  update(id: number, patch: ModelPatch): ModelRecord {
    writeTx(this.db, () => {
      const current = this.require(id);
      stmt(this.db, 'UPDATE models SET name = ?, weights_path = ?, metrics = ? WHERE id = ?')
        .run(patch.name ?? current.name, patch.weightsPath === undefined ? current.weightsPath : patch.weightsPath,
          toJson(patch.metrics === undefined ? current.metrics : patch.metrics), id);
    });
    return this.require(id);
  }

  /** Deletes the row with its predictions and probe results; the caller removes the weights file. */
  remove(id: number): void {
    writeTx(this.db, () => stmt(this.db, 'DELETE FROM models WHERE id = ?').run(id));
  }
}
