import * as tf from '@tensorflow/tfjs';

/**
 * PyTorch-style conv with symmetric zero padding. At stride 1 with an odd square kernel that padding is TF's
 * 'same' (no padded copy kept for the backward pass); otherwise TF 'same' pads asymmetrically, so the input
 * is padded explicitly and convolved 'valid'.
 */
export function torchConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  if (pad > 0 && stride === 1 && kh === kw && kh === 2 * pad + 1) return tf.conv2d(x, filter, 1, 'same');
  const input = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x;
  return tf.conv2d(input, filter, stride, 'valid');
}

/**
 * CSTM's channel-wise temporal conv: kernel 3 along T with zero padding, one kernel per channel.
 * x is [N·T, H, W, C] with the frames of a clip contiguous; kernel is [3, 1, C, 1].
 */
export function temporalConv(x: tf.Tensor4D, kernel: tf.Tensor4D, frames: number): tf.Tensor4D {
  const [nt, height, width, channels] = x.shape;
  const series = tf.reshape(x, [nt / frames, frames, height * width, channels]) as tf.Tensor4D;
  return tf.reshape(tf.depthwiseConv2d(series, kernel, 1, 'same'), [nt, height, width, channels]);
}

export interface CmmWeights {
  /** 1×1 reduction C → C/16, [1, 1, C, C/16]. */
  stageConv: tf.Tensor4D;
  /** Depthwise 3×3 on every frame, [3, 3, C/16, 1]. */
  shift: tf.Tensor4D;
  /** 1×1 expansion C/16 → C, [1, 1, C/16, C]. */
  conv1x1: tf.Tensor4D;
}

/**
 * CMM: reduce channels (then `norm`, the stage BatchNorm), H[t] = conv(F[t+1]) − F[t] for t < T−1 and zero at
 * t = T−1, restore channels; 2×2 max-pool when the block has stride 2.
 */
export function channelMotion(
  x: tf.Tensor4D,
  weights: CmmWeights,
  norm: (reduced: tf.Tensor4D) => tf.Tensor4D,
  frames: number,
  stride: 1 | 2,
): tf.Tensor4D {
  const reduced = norm(torchConv2d(x, weights.stageConv, 1, 0));
  const next = tf.depthwiseConv2d(reduced, weights.shift, 1, 'same');
  const [nt, height, width, channels] = reduced.shape;
  const series = [nt / frames, frames, height * width, channels];
  const steps = [nt / frames, frames - 1, height * width, channels];
  const diff = tf.sub(tf.slice(tf.reshape(next, series), [0, 1, 0, 0], steps), tf.slice(tf.reshape(reduced, series), [0, 0, 0, 0], steps));
  const padded = tf.reshape(tf.pad(diff, [[0, 0], [0, 1], [0, 0], [0, 0]]), [nt, height, width, channels]) as tf.Tensor4D;
  const restored = torchConv2d(padded, weights.conv1x1, 1, 0);
  return stride === 2 ? tf.maxPool(restored, 2, 2, 'valid') : restored;
}
