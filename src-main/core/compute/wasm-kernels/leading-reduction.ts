import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './heap.ts';

/**
 * Sum and Mean over every axis but the last (BatchNorm's per-channel statistics and their gradients, over
 * N·H·W): the stock wasm kernels transpose the whole tensor first so that the reduced axes come last. Here
 * one pass over the heap adds each row into per-channel accumulators (in float64). Other reductions go to
 * the stock kernel.
 */
export function fastLeadingReduction(stock: tf.KernelConfig, kind: 'sum' | 'mean'): tf.KernelConfig {
  return {
    kernelName: stock.kernelName,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const x = (args.inputs as { x: tf.TensorInfo }).x;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const rank = x.shape.length;
      const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
      const leading = rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
      if (x.dtype !== 'float32' || !leading) return stock.kernelFunc(args);
      const channels = x.shape[rank - 1]!;
      const heap = args.backend as unknown as HeapBackend;
      // Allocated first: growing the heap detaches the views taken before.
      const out = heap.makeOutput(keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels], 'float32');
      const result = heap.typedArrayFromHeap(out) as Float32Array;
      const values = heap.typedArrayFromHeap(x) as Float32Array;
      const totals = new Float64Array(channels);
      for (let row = 0; row < values.length; row += channels) {
        for (let c = 0; c < channels; c++) totals[c] += values[row + c]!;
      }
      const scale = kind === 'mean' ? channels / Math.max(values.length, 1) : 1;
      for (let c = 0; c < channels; c++) result[c] = totals[c]! * scale;
      return out;
    },
  };
}
