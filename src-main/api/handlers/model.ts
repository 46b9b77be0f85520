import { resolve } from 'node:path';
import type { HandlersFor } from '../handler-types.ts';
import type { modelRequests } from '../contract/model.ts';
import { appDataDir } from '../session.ts';
import { configForArch } from '../../core/model/config.ts';
import { modelInfo } from '../../core/model/info.ts';
import { readCheckpointInfo } from '../../core/model/checkpoint.ts';

export const modelHandlers: HandlersFor<typeof modelRequests> = {
  'model.info': (p) => {
    const arch = configForArch(p.arch);
    return modelInfo({
      variant: p.variant,
      layers: p.layers ?? arch.layers,
      baseWidth: p.baseWidth ?? arch.baseWidth,
      frames: p.frames,
      classes: p.classes,
      inputSize: p.size,
    });
  },
  'model.describe': (p) => {
    const path = resolve(p.path);
    const info = readCheckpointInfo(path);
    const { params, macs } = modelInfo(info.config);
    return { ...info, path, params, macs };
  },
  'model.create': async (p) => {
    const { initCheckpoint } = await import('../../core/model/init-checkpoint.ts');
    const arch = configForArch(p.arch);
    return initCheckpoint({
      out: resolve(p.out),
      classNames: p.classNames,
      config: {
        variant: p.variant,
        layers: p.layers ?? arch.layers,
        baseWidth: p.baseWidth ?? arch.baseWidth,
        frames: p.frames,
        inputSize: p.size,
        dropout: p.dropout,
      },
      pretrained: p.pretrained ? resolve(p.pretrained) : undefined,
      pretrainedFrom: p.pretrainedFrom,
      seed: p.seed,
    });
  },
  'model.forward': async (p) => {
    // Loaded on demand: tfjs and the backends are heavy and most requests never need them.
    const { selectBackend } = await import('../../core/compute/backends.ts');
    const { forwardFile } = await import('../../core/model/forward-file.ts');
    const { resolveBackendPreference } = await import('../../core/compute/settings.ts');
    // Same order as jobs: --backend, then STM_BACKEND, then the app setting, then auto.
    const { preference, source } = resolveBackendPreference(p.backend, appDataDir());
    const selection = await selectBackend(preference, source);
    const result = await forwardFile({ weights: resolve(p.weights), input: resolve(p.input), inputKey: p.inputKey, out: resolve(p.out), features: p.features });
    return { ...result, backend: selection.name };
  },
};
