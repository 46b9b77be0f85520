import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilter, conv2dBackpropInput } from './conv2d-grads.ts';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grads.ts';
import { maxPoolGrad } from './max-pool-grad.ts';

const KERNELS = [conv2dBackpropInput, conv2dBackpropFilter, depthwiseBackpropInput, depthwiseBackpropFilter, maxPoolGrad];

let registered = false;

/**
 * Gives the wasm backend the convolution gradients it lacks (filter gradients, depthwise input gradient)
 * and replaces its naive Conv2DBackpropInput and its MaxPoolGrad (wrong for windows of values ≤ 0).
 * Call after importing '@tensorflow/tfjs-backend-wasm'; idempotent.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const kernel of KERNELS) {
    if (tf.getKernel(kernel.kernelName, 'wasm')) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel(kernel);
  }
  registered = true;
}
