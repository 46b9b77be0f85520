import * as tf from '@tensorflow/tfjs';
import { composeKernel, stridedWindow } from './compose.ts';
import { transposedConv } from './transposed-conv.ts';

interface DepthwiseGradAttrs {
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function requireUnitDilation(kernel: string, dilations: number | [number, number]): void {
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm supports dilation 1 only, got ${dh}×${dw}`);
}

/**
 * dL/dx of a depthwise convolution: per stride phase, a depthwise convolution of dy with the flipped
 * sub-kernel (see transposedConv). A channel multiplier M > 1 sums M such convolutions.
 */
export const depthwiseBackpropInput: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as DepthwiseGradAttrs & {
      inputShape: [number, number, number, number];
    };
    requireUnitDilation('DepthwiseConv2dNativeBackpropInput', dilations);
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const filterShape = filter.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, strides, 1, pad, dimRoundingMode, true);
    const [, , channels, multiplier] = filterShape;
    const geometry = {
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
    };
    const asIs = (taps: tf.Tensor4D) => taps;
    const depthwise = (dyPadded: tf.Tensor4D, kernel: tf.Tensor4D) => tf.depthwiseConv2d(dyPadded, kernel, 1, 'valid');
    return composeKernel(backend, [dy, filter], (dyT, filterT) => {
      if (multiplier === 1) return transposedConv(dyT as tf.Tensor4D, filterT as tf.Tensor4D, geometry, channels, asIs, depthwise);
      const [n, oh, ow] = dyT.shape;
      const dyPerMultiplier = tf.unstack(dyT.reshape([n!, oh!, ow!, channels, multiplier]), 4) as tf.Tensor4D[];
      const filterPerMultiplier = tf.unstack(filterT, 3).map((f) => f.expandDims(3) as tf.Tensor4D);
      const parts = dyPerMultiplier.map((d, m) => transposedConv(d, filterPerMultiplier[m]!, geometry, channels, asIs, depthwise));
      return tf.addN(parts);
    });
  },
};

/**
 * dL/dW of a depthwise convolution: for each of the kh·kw taps, the strided window of x that the tap saw,
 * times dy, summed over batch and space. Depthwise kernels are small, so kh·kw elementwise passes cost
 * about what the forward does.
 */
export const depthwiseBackpropFilter: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as DepthwiseGradAttrs & {
      filterShape: [number, number, number, number];
    };
    requireUnitDilation('DepthwiseConv2dNativeBackpropFilter', dilations);
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, true);
    const [kh, kw, channels, multiplier] = filterShape;
    const { strideHeight: sh, strideWidth: sw, outHeight, outWidth } = info;
    return composeKernel(backend, [x, dy], (xT, dyT) => {
      const n = xT.shape[0]!;
      const dyByMultiplier = multiplier === 1 ? dyT : dyT.reshape([n, outHeight, outWidth, channels, multiplier]);
      const taps: tf.Tensor[] = [];
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < kw; q++) {
          const window = stridedWindow(xT as tf.Tensor4D, p - info.padInfo.top, q - info.padInfo.left, sh, sw, outHeight, outWidth);
          const product = multiplier === 1 ? tf.mul(window, dyByMultiplier) : tf.mul(window.expandDims(4), dyByMultiplier);
          taps.push(tf.sum(product, [0, 1, 2]));
        }
      }
      return tf.stack(taps).reshape(filterShape);
    });
  },
};
