import * as tf from '@tensorflow/tfjs';

export type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [number, number]] | [[number, number], [number, number]];

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  kernel: [number, number];
  outChannels: number;
  stride: number;
  pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
  depthwise?: boolean;
  multiplier?: number;
}

/** Deterministic pseudo-random values in [-1, 1) so both backends see the same numbers. */
export function seeded(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

export interface Grads {
  dx: Float32Array;
  dw: Float32Array;
  maxAbs: number;
}

/** Input and filter gradients of conv(x, w) against a fixed upstream gradient, on the current backend. */
export function convGrads(c: ConvCase): Grads {
  return tf.tidy(() => {
    const [kh, kw] = c.kernel;
    const inC = c.x[3];
    const wShape: [number, number, number, number] = c.depthwise ? [kh, kw, inC, c.multiplier ?? 1] : [kh, kw, inC, c.outChannels];
    const x = tf.tensor4d(seeded(c.x.reduce((a, b) => a * b), 7), c.x);
    const w = tf.tensor4d(seeded(wShape.reduce((a, b) => a * b), 11), wShape);
    const forward = (xi: tf.Tensor4D, wi: tf.Tensor4D): tf.Tensor4D =>
      c.depthwise ? tf.depthwiseConv2d(xi, wi, c.stride, c.pad) : tf.conv2d(xi, wi, c.stride, c.pad);
    const y = forward(x, w);
    const dy = tf.tensor(seeded(y.size, 13), y.shape);
    const [dx, dw] = tf.grads((xi, wi) => forward(xi as tf.Tensor4D, wi as tf.Tensor4D))([x, w], dy);
    const dxData = dx!.dataSync() as Float32Array;
    const dwData = dw!.dataSync() as Float32Array;
    const maxAbs = Math.max(...Array.from(dxData, Math.abs), ...Array.from(dwData, Math.abs));
    return { dx: Float32Array.from(dxData), dw: Float32Array.from(dwData), maxAbs };
  });
}

export function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
