import { UserError } from '../errors.ts';
import type { StmConfig } from './config.ts';
import { saveCheckpoint, type Normalization } from './checkpoint.ts';
import { countParameters, createStmNetwork } from './network.ts';
import { importPretrained, type ImportReport, type PretrainedSource } from './pretrained.ts';

export interface InitCheckpointRequest {
  out: string;
  config: Partial<StmConfig>;
  /** Class names in logit order; their count sets the number of classes. */
  classNames: string[];
  /** Weights to start the backbone from (torchvision ResNet, TSM, or another STM), safetensors. */
  pretrained?: string;
  pretrainedFrom?: PretrainedSource | 'auto';
  normalization?: Normalization;
  seed?: number;
}

export interface InitCheckpointResult {
  path: string;
  config: StmConfig;
  params: number;
  /** What the pretrained import matched, left at init and ignored; null without `pretrained`. */
  imported: ImportReport | null;
}

/** Creates a checkpoint ready for fine-tuning: paper init, optionally with a pretrained backbone. */
export async function initCheckpoint(request: InitCheckpointRequest): Promise<InitCheckpointResult> {
  const names = request.classNames.map((n) => n.trim());
  if (names.length === 0 || names.some((n) => n === '')) throw new UserError('invalid_input', 'a model needs at least one class, and class names cannot be empty');
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new UserError('invalid_input', `class "${duplicate}" is listed twice`);
  const network = createStmNetwork({ ...request.config, classes: names.length }, { seed: request.seed });
  try {
    const imported = request.pretrained ? importPretrained(network, request.pretrained, { from: request.pretrainedFrom }) : null;
    await saveCheckpoint(request.out, network, {
      classNames: names,
      normalization: request.normalization,
      extra: imported ? { pretrained: request.pretrained!, pretrained_source: imported.source } : {},
    });
    return { path: request.out, config: network.config, params: countParameters(network.params), imported };
  } finally {
    network.dispose();
  }
}
