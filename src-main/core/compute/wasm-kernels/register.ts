import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv2d-grads.ts';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grads.ts';
import { maxPoolGrad } from './max-pool-grad.ts';
import { fastTile } from './tile.ts';
import { fastLeadingReduction } from './leading-reduction.ts';

const KERNELS = [conv2dBackpropInput, conv2dBackpropFilter, depthwiseBackpropInput, depthwiseBackpropFilter, maxPoolGrad];

let registered = false;

/**
 * Gives the wasm backend the convolution gradients it lacks (filter gradients, depthwise input gradient)
 * and replaces its naive Conv2DBackpropInput, its MaxPoolGrad (wrong for windows of values ≤ 0) and the
 * broadcast case of its Tile (slow; BatchNorm gradients use it) and its Sum and Mean over all axes but the
 * last (slow; BatchNorm's statistics use them).
 * Call after importing '@tensorflow/tfjs-backend-wasm'; idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  const stock = (name: string) => tf.getKernel(name, 'wasm');
  const wrapped = [
    stock(tf.Tile) && fastTile(stock(tf.Tile)!),
    stock(tf.Sum) && fastLeadingReduction(stock(tf.Sum)!, 'sum'),
    stock(tf.Mean) && fastLeadingReduction(stock(tf.Mean)!, 'mean'),
  ].filter((k): k is tf.KernelConfig => Boolean(k));
  for (const kernel of [...KERNELS, ...wrapped]) {
    if (tf.getKernel(kernel.kernelName, 'wasm')) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(kernel);
  }
  registered = true;
}
