import * as tf from '@tensorflow/tfjs';

/**
 * Runs tfjs ops inside a kernel: wraps the kernel's inputs as tensors, runs `body` in a tidy scope and
 * hands the result's data to the engine. Wrapping does not add a backend reference by itself, so each
 * input gets one first (otherwise disposing the wrapper would free the caller's tensor); the result gets
 * one before its wrapper is disposed so the data outlives it. Ops called here are not taped (kernel depth
 * > 0), so the gradient of the op that called this kernel stays correct.
 */
export function composeKernel(kernelBackend: unknown, inputs: tf.TensorInfo[], body: (...tensors: tf.Tensor[]) => tf.Tensor): tf.TensorInfo {
  const backend = kernelBackend as tf.KernelBackend;
  const engine = tf.engine();
  const wrapped = inputs.map((info) => {
    backend.incRef(info.dataId);
    return engine.makeTensorFromTensorInfo(info, backend);
  });
  try {
    const result = tf.tidy(() => body(...wrapped));
    backend.incRef(result.dataId);
    const info: tf.TensorInfo = { dataId: result.dataId, shape: result.shape, dtype: result.dtype };
    result.dispose();
    return info;
  } finally {
    for (const tensor of wrapped) tensor.dispose();
  }
}

/** Pads (positive amounts) or crops (negative amounts) the two spatial axes of an NHWC tensor. */
export function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  let out = x;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    const cropTop = Math.max(0, -top);
    const cropLeft = Math.max(0, -left);
    const keepH = h - cropTop - Math.max(0, -bottom);
    const keepW = w - cropLeft - Math.max(0, -right);
    out = tf.slice(out, [0, cropTop, cropLeft, 0], [n, keepH, keepW, c]);
  }
  const [padT, padB, padL, padR] = [top, bottom, left, right].map((v) => Math.max(0, v)) as [number, number, number, number];
  if (padT || padB || padL || padR) {
    out = tf.pad(out, [
      [0, 0],
      [padT, padB],
      [padL, padR],
      [0, 0],
    ]);
  }
  return out;
}

/**
 * x[:, top + i·sh, left + j·sw, :] for i < outHeight, j < outWidth (0 where that falls outside x), with
 * pad/crop, reshapes and one rank-4 slice: wasm's StridedSlice and its slices of rank > 4 run element by
 * element in JavaScript.
 */
export function stridedWindow(x: tf.Tensor4D, top: number, left: number, sh: number, sw: number, outHeight: number, outWidth: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const aligned = padOrCrop(x, -top, outHeight * sh - (h - top), -left, outWidth * sw - (w - left));
  if (sh === 1 && sw === 1) return aligned;
  const rows = aligned.reshape([n * outHeight, sh, outWidth, sw * c]);
  return tf.slice(rows, [0, 0, 0, 0], [n * outHeight, 1, outWidth, c]).reshape([n, outHeight, outWidth, c]);
}

/**
 * Rows/columns `start, start + step, …` of a small filter [kh, kw, …], optionally in reverse order, by
 * slices along the two leading axes (contiguous copies; wasm's Gather is slow).
 */
export function filterTaps(filter: tf.Tensor4D, rowStart: number, colStart: number, sh: number, sw: number, reversed: boolean): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  const pick = (start: number, step: number, size: number) => {
    const idx: number[] = [];
    for (let i = start; i < size; i += step) idx.push(i);
    return reversed ? idx.reverse() : idx;
  };
  const rows = pick(rowStart, sh, kh);
  const cols = pick(colStart, sw, kw);
  const identity = (idx: number[], size: number) => idx.length === size && idx.every((v, i) => v === i);
  let out = filter;
  if (!identity(rows, kh)) {
    const picked = rows.map((r) => tf.slice(filter, [r, 0, 0, 0], [1, kw, a, b]));
    out = picked.length === 1 ? picked[0]! : tf.concat(picked, 0);
  }
  if (!identity(cols, kw)) {
    const picked = cols.map((col) => tf.slice(out, [0, col, 0, 0], [rows.length, 1, a, b]));
    out = picked.length === 1 ? picked[0]! : tf.concat(picked, 1);
  }
  return out;
}

/**
 * The inverse placement of stridedWindow: a [n, oh, ow, c] tensor spread onto a [n, height, width, c] grid at
 * rows top + i·sh and columns left + j·sw, zeros elsewhere.
 */
export function placeStrided(values: tf.Tensor4D, top: number, left: number, sh: number, sw: number, height: number, width: number): tf.Tensor4D {
  const [n, oh, ow, c] = values.shape;
  let spread = values;
  if (sh > 1 || sw > 1) {
    // Row u, column v, channel ch lands at row u·sh, column v·sw: pad each cell to sw·c, each row to sh.
    const cells = tf.pad(values.reshape([n * oh, 1, ow, c]), [
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, (sw - 1) * c],
    ]);
    spread = cells.reshape([n, oh * sh, ow * sw, c]);
  }
  return padOrCrop(spread, top, height - top - oh * sh, left, width - left - ow * sw);
}
