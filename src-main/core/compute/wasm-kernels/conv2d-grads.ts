import * as tf from '@tensorflow/tfjs';
import { composeKernel, padOrCrop, stridedWindow } from './compose.ts';
import { transposedConv } from './transposed-conv.ts';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function requireNhwc(kernel: string, dataFormat: string): void {
  if (dataFormat !== 'NHWC') throw new Error(`${kernel} on wasm supports NHWC only, got ${dataFormat}`);
}

/** dL/dx of conv2d: stride-1 XNNPACK convolutions per stride phase (see transposedConv). */
export const conv2dBackpropInput: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    requireNhwc('Conv2DBackpropInput', dataFormat);
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const filterShape = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode);
    return composeKernel(backend, [dy, filter], (dyT, filterT) =>
      transposedConv(
        dyT as tf.Tensor4D,
        filterT as tf.Tensor4D,
        {
          inHeight: info.inHeight,
          inWidth: info.inWidth,
          strideHeight: info.strideHeight,
          strideWidth: info.strideWidth,
          padTop: info.padInfo.top,
          padLeft: info.padInfo.left,
        },
        info.inChannels,
        (taps) => tf.transpose(taps, [0, 1, 3, 2]),
        (dyPadded, kernel) => {
          const [kh, kw, outChannels, inChannels] = kernel.shape;
          if (kh !== 1 || kw !== 1) return tf.conv2d(dyPadded, kernel, 1, 'valid');
          // A 1×1 phase is a plain matMul, about twice as fast as XNNPACK's 1×1 convolution here.
          const [n, h, w] = dyPadded.shape;
          return tf.matMul(dyPadded.reshape([n * h * w, outChannels]), kernel.reshape([outChannels, inChannels])).reshape([n, h, w, inChannels]);
        },
      ),
    );
  },
};

/**
 * dL/dW of conv2d as one forward convolution: with the batch moved to the channel axis, x becomes
 * [Cin, H, W, N] and dy the "filter" [Ho, Wo, N, Cout]; a stride-1 convolution dilated by the forward
 * stride yields [Cin, kh, kw, Cout], and XNNPACK runs it near forward speed. 1×1 kernels are a plain
 * matMul of the (subsampled) x, transposed by a copy. Measured against im2col + matMul, which loses to
 * wasm's JavaScript Slice, and transposed matMul, which is slow on wasm.
 */
export const conv2dBackpropFilter: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    requireNhwc('Conv2DBackpropFilter', dataFormat);
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const [kh, kw, inChannels, outChannels] = filterShape;
    const { strideHeight: sh, strideWidth: sw, outHeight, outWidth, inHeight, inWidth, batchSize } = info;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    return composeKernel(backend, [x, dy], (xT, dyT) => {
      if (kh === 1 && kw === 1) {
        const rows = batchSize * outHeight * outWidth;
        const seen = stridedWindow(xT as tf.Tensor4D, -top, -left, sh, sw, outHeight, outWidth).reshape([rows, inChannels]);
        const dyRows = dyT.reshape([rows, outChannels]);
        // xᵀ·dy, or (dyᵀ·x)ᵀ when dy is the narrower: the copy that transposes goes to the smaller operand.
        if (outChannels < inChannels) return tf.transpose(tf.matMul(tf.transpose(dyRows), seen)).reshape(filterShape);
        return tf.matMul(tf.transpose(seen), dyRows).reshape(filterShape);
      }
      const needH = (outHeight - 1) * sh + kh;
      const needW = (outWidth - 1) * sw + kw;
      const xPadded = padOrCrop(xT as tf.Tensor4D, top, needH - inHeight - top, left, needW - inWidth - left);
      const xByChannel = tf.transpose(xPadded, [3, 1, 2, 0]) as tf.Tensor4D;
      const dyAsFilter = tf.transpose(dyT, [1, 2, 0, 3]) as tf.Tensor4D;
      const grad = tf.conv2d(xByChannel, dyAsFilter, 1, 'valid', 'NHWC', [sh, sw]);
      return tf.transpose(grad, [1, 2, 0, 3]);
    });
  },
};
