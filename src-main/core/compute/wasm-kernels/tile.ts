import * as tf from '@tensorflow/tfjs';
import { composeKernel } from './compose.ts';

/**
 * Tile for the broadcast case (only size-1 axes repeated), which BatchNorm's gradient hits with
 * [1,1,1,C] → [N,H,W,C]: the stock wasm Tile indexes element by element (about 1 s for 4 M values).
 * Repeating leading axes is an outer product ones[R,1] × x[1,S] (XNNPACK); other broadcasts add x to a
 * filled tensor. Anything else goes to the stock kernel.
 */
export function fastTile(stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: tf.Tile,
    backendName: 'wasm',
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { inputs, attrs, backend } = args;
      const x = (inputs as { x: tf.TensorInfo }).x;
      const reps = (attrs as unknown as { reps: number[] }).reps;
      const broadcastOnly = x.shape.every((size, i) => size === 1 || reps[i] === 1);
      if (x.dtype !== 'float32' || !broadcastOnly) return stock.kernelFunc(args);
      const outShape = x.shape.map((size, i) => size * reps[i]!);
      const firstKept = x.shape.findIndex((size) => size > 1);
      const leadingOnly = firstKept === -1 || reps.slice(firstKept).every((r) => r === 1);
      return composeKernel(backend, [x], (xT) => {
        if (leadingOnly) {
          const repeats = reps.reduce((a, b) => a * b, 1);
          return tf.matMul(tf.ones([repeats, 1]), xT.reshape([1, xT.size])).reshape(outShape);
        }
        return tf.add(xT, tf.fill(outShape, 0));
      });
    },
  };
}
