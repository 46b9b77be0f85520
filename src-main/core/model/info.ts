import { CMM_REDUCTION, resolveStmConfig, type StmConfig } from './config.ts';
import { countParameters, networkSpec } from './parameters.ts';

/** Size and cost of a network, computed from its shape alone (no tensors). */
export interface ModelInfo {
  config: StmConfig;
  /** Trainable parameters (BatchNorm running statistics excluded), as PyTorch counts them. */
  params: number;
  /** Multiply-accumulates of the convolutions and the classifier for one clip of T frames at inputSize². */
  macs: number;
}

export function modelInfo(partial: Partial<StmConfig> = {}): ModelInfo {
  const config = resolveStmConfig(partial);
  const spec = networkSpec(config);
  const t = config.frames;
  // Per frame, then × T: every conv runs on every frame (the CMM depthwise conv too, as in the reference).
  let size = config.inputSize / 2; // after the 7×7/2 stem conv
  let perFrame = size * size * config.baseWidth * 3 * 49;
  let temporal = 0;
  size /= 2; // after the 3×3/2 max-pool
  for (const stage of spec.blocks) {
    for (const b of stage) {
      const inSize = size;
      const outSize = inSize / b.stride;
      perFrame += inSize * inSize * b.planes * b.inChannels; // conv1
      perFrame += outSize * outSize * b.planes * b.planes * 9; // conv2
      perFrame += outSize * outSize * b.outChannels * b.planes; // conv3
      if (b.hasDownsample) perFrame += outSize * outSize * b.outChannels * b.inChannels;
      if (b.cstm) temporal += inSize * inSize * b.planes * 3;
      if (b.cmm) {
        const reduced = b.planes / CMM_REDUCTION;
        perFrame += inSize * inSize * (reduced * b.planes + reduced * 9 + b.planes * reduced);
      }
      size = outSize;
    }
  }
  perFrame += spec.featureChannels * config.classes;
  return { config, params: countParameters(spec.params), macs: (perFrame + temporal) * t };
}
