import * as tf from '@tensorflow/tfjs';
import { composeKernel, placeStrided, stridedWindow } from './compose.ts';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * dL/dx of max-pooling. The stock wasm kernel starts its running maximum at a positive value, so a window
 * whose values are all ≤ 0 sends its gradient to the window's first cell instead of its maximum (CMM's
 * 2×2 pool sees such windows). Here every kernel tap, in row-major order, claims the cells of dy whose
 * window maximum it holds and no earlier tap claimed — the cpu backend's tie rule — and the claimed
 * gradients are placed back onto the input grid. Padding cells never win.
 */
export const maxPoolGrad: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: ({ inputs, attrs, backend }) => {
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
    const { dy, input, output } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo; output: tf.TensorInfo };
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
    const { effectiveFilterHeight: kh, effectiveFilterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight, outWidth, inHeight, inWidth } = info;
    const { top, left } = info.padInfo;
    return composeKernel(backend, [dy, input, output], (dyT, xT, yT) => {
      let claimed: tf.Tensor = tf.zerosLike(yT).cast('bool');
      let sum: tf.Tensor4D | null = null;
      // One tap at a time, freeing its temporaries (each the input's size) before the next: the stem's
      // 3×3 pool over 112² maps would otherwise hold dozens of them at once.
      for (let p = 0; p < kh; p++) {
        for (let q = 0; q < kw; q++) {
          const [nextSum, nextClaimed] = tf.tidy(() => {
            const window = stridedWindow(xT as tf.Tensor4D, p - top, q - left, sh, sw, outHeight, outWidth, -Infinity);
            const wins = tf.logicalAnd(tf.equal(window, yT), tf.logicalNot(claimed));
            const routed = tf.where(wins, dyT, tf.zerosLike(dyT)) as tf.Tensor4D;
            const placed = placeStrided(routed, p - top, q - left, sh, sw, inHeight, inWidth);
            return [sum ? tf.add(sum, placed) : placed, tf.logicalOr(claimed, wins)] as [tf.Tensor4D, tf.Tensor];
          });
          tf.dispose([sum, claimed].filter((t): t is tf.Tensor => t !== null));
          [sum, claimed] = [nextSum, nextClaimed];
        }
      }
      return sum!;
    });
  },
};
