import { BN_EPSILON } from '../config.ts';

/** A convolution with BatchNorm folded in: PyTorch weight layout [O, I/groups, kh, kw] plus a bias per output. */
export interface FoldedConv {
  weight: Float32Array;
  bias: Float32Array;
}

export interface BatchNormParams {
  gamma: Float32Array;
  beta: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * conv → BN (inference) as one conv: w' = w·γ/√(σ²+ε) per output channel, b' = β − μ·γ/√(σ²+ε).
 * Computed in double precision so folding adds no error beyond the final rounding to float32.
 */
export function foldBatchNorm(weight: Float32Array, bn: BatchNormParams): FoldedConv {
  const outChannels = bn.gamma.length;
  const perOutput = weight.length / outChannels;
  const folded = new Float32Array(weight.length);
  const bias = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const scale = bn.gamma[o] / Math.sqrt(bn.variance[o] + BN_EPSILON);
    for (let i = o * perOutput; i < (o + 1) * perOutput; i++) folded[i] = weight[i] * scale;
    bias[o] = bn.beta[o] - bn.mean[o] * scale;
  }
  return { weight: folded, bias };
}
