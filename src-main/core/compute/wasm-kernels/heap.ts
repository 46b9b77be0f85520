import type * as tf from '@tensorflow/tfjs';

/** What kernels written in JavaScript need of the wasm backend: tensors as views of its heap. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}
