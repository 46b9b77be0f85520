import * as tf from '@tensorflow/tfjs';
import { filterTaps, padOrCrop, placeStrided } from './compose.ts';

export interface TransposedConvGeometry {
  /** The forward input's spatial size: the size of the gradient to produce. */
  inHeight: number;
  inWidth: number;
  strideHeight: number;
  strideWidth: number;
  /** Forward padding before the first row / column. */
  padTop: number;
  padLeft: number;
}

/**
 * One stride-1 'valid' convolution of the (padded) output gradient with a flipped sub-kernel; the caller
 * decides whether it is dense (sub-kernel [mh,mw,Cout,Cin]) or depthwise.
 */
export type PhaseConv = (dyPadded: tf.Tensor4D, flippedSubKernel: tf.Tensor4D) => tf.Tensor4D;

/**
 * Gradient of a convolution with respect to its input, as ordinary stride-1 convolutions (fast XNNPACK
 * kernels on wasm) instead of a naive transposed convolution.
 *
 * With stride s, input row i = a + s·u (phase a) receives only the kernel taps p ≡ (a + padTop) mod s, so
 * each of the s×s phases is a stride-1 correlation of dy with the flipped sub-kernel W[r::s] — together
 * they do exactly the forward's multiply-adds, with no zero-insertion. The phases are interleaved back by
 * stacking and reshaping. For stride 1 this is the textbook conv(pad(dy), flip(W)).
 *
 * `filter` is [kh, kw, inChannels, k] in tfjs layout; `flipSubKernel` turns the flipped taps of one phase
 * into the kernel `conv` expects (dense: swap the channel axes; depthwise: as is).
 */
export function transposedConv(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  geometry: TransposedConvGeometry,
  outChannels: number,
  flipSubKernel: (subKernel: tf.Tensor4D) => tf.Tensor4D,
  conv: PhaseConv,
): tf.Tensor4D {
  const { inHeight, inWidth, strideHeight: sh, strideWidth: sw, padTop, padLeft } = geometry;
  const [n, outHeight, outWidth] = dy.shape;
  const [kh, kw] = filter.shape;
  const rowsPerPhase = Math.ceil(inHeight / sh);
  const colsPerPhase = Math.ceil(inWidth / sw);

  const phase = (a: number, b: number): tf.Tensor4D => {
    const rowTap = (a + padTop) % sh;
    const colTap = (b + padLeft) % sw;
    const tapsH = rowTap < kh ? Math.ceil((kh - rowTap) / sh) : 0;
    const tapsW = colTap < kw ? Math.ceil((kw - colTap) / sw) : 0;
    if (tapsH === 0 || tapsW === 0) return tf.fill([n, rowsPerPhase, colsPerPhase, outChannels], 0) as tf.Tensor4D;
    const top = tapsH - 1 - Math.floor((a + padTop) / sh);
    const left = tapsW - 1 - Math.floor((b + padLeft) / sw);
    const bottom = rowsPerPhase + tapsH - 1 - outHeight - top;
    const right = colsPerPhase + tapsW - 1 - outWidth - left;
    return conv(padOrCrop(dy, top, bottom, left, right), flipSubKernel(filterTaps(filter, rowTap, colTap, sh, sw, true)));
  };

  if (sh === 1 && sw === 1) return phase(0, 0);
  const hasTaps = (offset: number, pad: number, stride: number, k: number) => (offset + pad) % stride < k;
  const live: Array<[number, number]> = [];
  for (let a = 0; a < sh; a++) for (let b = 0; b < sw; b++) if (hasTaps(a, padTop, sh, kh) && hasTaps(b, padLeft, sw, kw)) live.push([a, b]);
  if (live.length === 1) {
    // Kernel no larger than the stride (a strided 1×1 shortcut): one phase, spread onto the grid.
    const [a, b] = live[0]!;
    return placeStrided(phase(a, b), a, b, sh, sw, inHeight, inWidth);
  }
  const rows: tf.Tensor[] = [];
  for (let a = 0; a < sh; a++) {
    const cols: tf.Tensor4D[] = [];
    for (let b = 0; b < sw; b++) cols.push(phase(a, b));
    rows.push(tf.stack(cols, 3)); // [n, U, V, sw, C]
  }
  const interleaved = tf.stack(rows, 2).reshape([n, rowsPerPhase * sh, colsPerPhase * sw, outChannels]) as tf.Tensor4D;
  if (rowsPerPhase * sh === inHeight && colsPerPhase * sw === inWidth) return interleaved;
  return tf.slice(interleaved, [0, 0, 0, 0], [n, inHeight, inWidth, outChannels]);
}
