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
