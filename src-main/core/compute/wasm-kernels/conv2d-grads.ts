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
        (dyPadded, kernel) => tf.conv2d(dyPadded, kernel, 1, 'valid'),
      ),
    );
  },
};

/**
 * dL/dW of conv2d as im2col + one plain matMul. The columns are built already transposed: x is padded and
 * each stride phase a tap needs is moved to [Cin, H/s, W/s, N] by one transpose, so each kernel tap is a
 * plain slice [Cin, Ho, Wo, N] (contiguous runs of Wo·N), and cols [kh·kw·Cin, Ho·Wo·N] × dy [Ho·Wo·N, Cout]
 * needs no transposed matMul (slow on wasm) and no StridedSlice (slower still).
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
    const rows = batchSize * outHeight * outWidth;
    // Rows (columns) each stride phase must hold so that every tap's window fits.
    const phaseHeight = outHeight + Math.floor((kh - 1) / sh);
    const phaseWidth = outWidth + Math.floor((kw - 1) / sw);
    return composeKernel(backend, [x, dy], (xT, dyT) => {
      const top = info.padInfo.top;
      const left = info.padInfo.left;
      const padded = padOrCrop(xT as tf.Tensor4D, top, sh * phaseHeight - inHeight - top, left, sw * phaseWidth - inWidth - left);
      const phases = new Map<number, tf.Tensor>();
      // Stride phase (a, b) of x as [Cin, Hk, Wk, N]: rows a, a+s, … and columns b, b+s, …
      const phaseOf = (a: number, b: number): tf.Tensor => {
        const key = a * sw + b;
        let phase = phases.get(key);
        if (!phase) {
          const cells = stridedWindow(padded, a, b, sh, sw, phaseHeight, phaseWidth);
          phase = tf.transpose(cells, [3, 1, 2, 0]);
          phases.set(key, phase);
        }
        return phase;
      };
      const columns: tf.Tensor[] = [];
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < kw; q++) {
          const phase = phaseOf(p % sh, q % sw);
          const window = tf.slice(phase, [0, Math.floor(p / sh), Math.floor(q / sw), 0], [inChannels, outHeight, outWidth, batchSize]);
          columns.push(window.reshape([inChannels, rows]));
        }
      }
      const cols = columns.length === 1 ? columns[0]! : tf.concat(columns, 0);
      // Columns run over (Ho, Wo, N), so dy is laid out the same way.
      const dyRows = tf.transpose(dyT, [1, 2, 0, 3]).reshape([rows, outChannels]);
      return tf.matMul(cols, dyRows).reshape(filterShape);
    });
  },
};
