import * as tf from '@tensorflow/tfjs';

export interface RecomputedSegment {
  /** The forward pass, as the caller wants it run now (it may have side effects, e.g. moving running statistics). */
  run(x: tf.Tensor4D): tf.Tensor4D;
  /** The same function without side effects: run again during the backward pass. */
  rerun(x: tf.Tensor4D): tf.Tensor4D;
  /** The trainable variables the segment reads; their gradients leave through this op. */
  params: readonly tf.Variable[];
  /** Whether x needs a gradient (false for the network input, which saves one backward convolution). */
  inputGradient: boolean;
}

/**
 * Gradient checkpointing for a segment of the network: the tape keeps only the segment's input, and the
 * backward pass runs the segment again under a tape of its own to backpropagate through it. tfjs keeps
 * every saved intermediate and every intermediate gradient until a backward pass ends, so without this a
 * whole network's worth of both is alive at the peak; with it, one segment's worth plus the segment inputs.
 */
export function recomputeInBackward(x: tf.Tensor4D, segment: RecomputedSegment): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[args.length - 1] as tf.GradSaveFunc;
    save([input]);
    return {
      value: segment.run(input),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => tf.tidy(() => segmentGradients(saved[0] as tf.Tensor4D, dy, segment)),
    };
  });
  return op(x, ...segment.params) as tf.Tensor4D;
}

function segmentGradients(x: tf.Tensor4D, dy: tf.Tensor4D, segment: RecomputedSegment): tf.Tensor[] {
  // A gradient computation that starts while another one is backpropagating replaces the engine's tape and
  // clears it when done; the outer one still needs its own to release its saved tensors.
  const engine = tf.engine();
  const outerTape = engine.state.activeTape;
  try {
    if (segment.inputGradient) {
      return tf.grads((input: tf.Tensor) => segment.rerun(input as tf.Tensor4D))([x, ...segment.params], dy);
    }
    const grads = tf.grads(() => segment.rerun(x))([...segment.params], dy);
    return [tf.zerosLike(x), ...grads];
  } finally {
    engine.state.activeTape = outerTape;
  }
}
