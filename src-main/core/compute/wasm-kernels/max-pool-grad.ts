import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './heap.ts';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * dL/dx of max-pooling. The stock wasm kernel starts its running maximum at a positive value, so a window
 * whose values are all ≤ 0 sends its gradient to the window's first cell instead of its maximum (CMM's
 * 2×2 pool sees such windows). Here each window's gradient goes to its maximum, the first in row-major
 * order among equal ones (the cpu backend's tie rule); padding cells never win. One pass over the heap:
 * composed from tfjs ops, the nine taps of the stem's 3×3 pool each made input-sized temporaries.
 */
export const maxPoolGrad: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const heap = backend as unknown as HeapBackend;
    // Allocated first: growing the heap detaches the views taken before.
    const out = heap.makeOutput([...input.shape], 'float32');
    const dx = heap.typedArrayFromHeap(out) as Float32Array;
    const x = heap.typedArrayFromHeap(input) as Float32Array;
    const g = heap.typedArrayFromHeap(dy) as Float32Array;
    routeToMaxima(x, g, dx, info);
    return out;
  },
};

function routeToMaxima(x: Float32Array, dy: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: kh, effectiveFilterWidth: kw, padInfo } = info;
  dx.fill(0);
  const best = new Float32Array(channels);
  const winner = new Int32Array(channels);
  for (let b = 0; b < batchSize; b++) {
    for (let i = 0; i < outHeight; i++) {
      for (let j = 0; j < outWidth; j++) {
        best.fill(-Infinity);
        winner.fill(-1);
        for (let p = 0; p < kh; p++) {
          const row = i * strideHeight + p - padInfo.top;
          if (row < 0 || row >= inHeight) continue;
          for (let q = 0; q < kw; q++) {
            const col = j * strideWidth + q - padInfo.left;
            if (col < 0 || col >= inWidth) continue;
            const cell = ((b * inHeight + row) * inWidth + col) * channels;
            for (let c = 0; c < channels; c++) {
              const v = x[cell + c]!;
              if (v > best[c]! || winner[c] === -1) {
                best[c] = v;
                winner[c] = cell + c;
              }
            }
          }
        }
        const from = ((b * outHeight + i) * outWidth + j) * channels;
        for (let c = 0; c < channels; c++) if (winner[c]! >= 0) dx[winner[c]!] += dy[from + c]!;
      }
    }
  }
}
