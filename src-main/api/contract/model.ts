import { z } from 'zod';
import { request, type RequestMap, type EventMap } from '../define.ts';
import type { ModelInfo } from '../../core/model/info.ts';
import type { CheckpointInfo } from '../../core/model/checkpoint.ts';
import type { ForwardFileResult } from '../../core/model/forward-file.ts';

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
        backend: backend.default('auto'),
      })
      .strict(),
  ).returns<ForwardFileResult & { backend: string }>(),
} satisfies RequestMap;

export const modelEvents = {} satisfies EventMap;
