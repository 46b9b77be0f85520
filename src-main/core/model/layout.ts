import type { ParamKind } from './parameters.ts';

/** Permutes the axes of a dense row-major array: out axis i is input axis perm[i]. */
export function transposeArray(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = stride;
    stride *= shape[i];
  }
  const permutedStrides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src];
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      src += permutedStrides[axis];
      if (index[axis] < outShape[axis]) break;
      src -= permutedStrides[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
  return out;
}

/** The TensorFlow.js shape of a parameter given its PyTorch shape. */
export function tfShapeOf(kind: ParamKind, torchShape: readonly number[]): number[] {
  switch (kind) {
    case 'conv':
      return [torchShape[2], torchShape[3], torchShape[1], torchShape[0]];
    case 'depthwise':
      return [torchShape[2], torchShape[3], torchShape[0], 1];
    case 'temporal':
      return [torchShape[2], 1, torchShape[0], 1];
    case 'linear':
      return [torchShape[1], torchShape[0]];
    case 'vector':
      return [...torchShape];
  }
}

/** PyTorch layout → TensorFlow.js layout (data in the order of tfShapeOf). */
export function torchToTf(kind: ParamKind, data: Float32Array, torchShape: readonly number[]): Float32Array {
  switch (kind) {
    case 'conv':
      return transposeArray(data, torchShape, [2, 3, 1, 0]);
    case 'depthwise':
      return transposeArray(data, torchShape, [2, 3, 0, 1]);
    case 'temporal':
      return transposeArray(data, [torchShape[0], torchShape[2]], [1, 0]);
    case 'linear':
      return transposeArray(data, torchShape, [1, 0]);
    case 'vector':
      return data;
  }
}

/** TensorFlow.js layout → PyTorch layout (data in the order of torchShape). */
export function tfToTorch(kind: ParamKind, data: Float32Array, torchShape: readonly number[]): Float32Array {
  const tfShape = tfShapeOf(kind, torchShape);
  switch (kind) {
    case 'conv':
      return transposeArray(data, tfShape, [3, 2, 0, 1]);
    case 'depthwise':
      return transposeArray(data, tfShape, [2, 3, 0, 1]);
    case 'temporal':
      return transposeArray(data, [tfShape[0], tfShape[2]], [1, 0]);
    case 'linear':
      return transposeArray(data, tfShape, [1, 0]);
    case 'vector':
      return data;
  }
}
