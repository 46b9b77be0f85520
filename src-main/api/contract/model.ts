import { z } from 'zod';
import { request, type RequestMap, type EventMap } from '../define.ts';
import type { ModelInfo } from '../../core/model/info.ts';
import type { CheckpointInfo } from '../../core/model/checkpoint.ts';
import type { ForwardFileResult } from '../../core/model/forward-file.ts';
import type { InitCheckpointResult } from '../../core/model/init-checkpoint.ts';

const variant = z.enum(['stm', 'cstm', 'cmm', 'tsn']);
const backend = z.enum(['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu']);

export interface ModelFileInfo extends CheckpointInfo {
  path: string;
  params: number;
  macs: number;
}

export const modelRequests = {
  /** Parameters and multiply-accumulates (conv + fc, one clip) of an architecture, computed analytically. */
  'model.info': request(
    z
      .object({
        arch: z.string().default('stm-r50'),
        variant: variant.default('stm'),
        /** Overrides the arch's stage depths, e.g. [1,1,1,1]. */
        layers: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]).optional(),
        baseWidth: z.number().int().min(16).optional(),
        frames: z.number().int().min(2).default(8),
        classes: z.number().int().min(1).default(174),
        size: z.number().int().min(32).default(224),
      })
      .strict(),
  ).returns<ModelInfo>(),
  /** The architecture, class names and settings stored in a weights/checkpoint file (header only). */
  'model.describe': request(z.object({ path: z.string().min(1) }).strict()).returns<ModelFileInfo>(),
  /**
   * Runs a weights file's network (built from its metadata) over clips in a safetensors file
   * ([clips·T, 3, S, S], PyTorch layout, normalised) and writes `frame_logits` and `clip_logits`.
   */
  'model.forward': request(
    z
      .object({
        weights: z.string().min(1),
        input: z.string().min(1),
        inputKey: z.string().min(1).optional(),
        out: z.string().min(1),
        /** Also write stem, layer1 … layer4 feature maps (NCHW). */
        features: z.boolean().default(false),
        backend: backend.default('auto'),
      })
      .strict(),
  ).returns<ForwardFileResult & { backend: string }>(),
  /**
   * Writes a new checkpoint (paper init) for the given classes, optionally starting the backbone from
   * pretrained weights (torchvision ResNet-50, a TSM checkpoint or another STM), and reports the import.
   */
  'model.create': request(
    z
      .object({
        out: z.string().min(1),
        classNames: z.array(z.string().min(1)).min(1),
        arch: z.string().default('stm-r50'),
        variant: variant.default('stm'),
        layers: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]).optional(),
        baseWidth: z.number().int().min(16).optional(),
        frames: z.number().int().min(2).default(8),
        size: z.number().int().min(32).default(224),
        dropout: z.number().min(0).max(0.99).default(0.5),
        pretrained: z.string().min(1).optional(),
        pretrainedFrom: z.enum(['auto', 'torchvision', 'tsm', 'mmaction', 'stm']).default('auto'),
        seed: z.number().int().optional(),
      })
      .strict(),
  ).returns<InitCheckpointResult>(),
} satisfies RequestMap;

export const modelEvents = {} satisfies EventMap;
