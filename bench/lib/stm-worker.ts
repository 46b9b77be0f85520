// Worker-side body of the model bench: STM inference (a pool service).
import * as tf from '@tensorflow/tfjs';
import { createStmNetwork } from '../../src-main/core/model/network.ts';
import type { StmConfig } from '../../src-main/core/model/config.ts';

export interface BenchModelArgs {
  config: Partial<StmConfig>;
  size: number;
}

/** Pool factory: one network per worker; each run classifies `clips` clips of random frames. */
export function createStmInference(args: BenchModelArgs) {
  const net = createStmNetwork({ ...args.config, inputSize: args.size }, { seed: 1 });
  const frames = net.config.frames;
  return (input: { clips: number }) => {
    const start = performance.now();
    const logits = tf.tidy(() => {
      const x = tf.randomUniform([input.clips * frames, args.size, args.size, 3]) as tf.Tensor4D;
      return net.forward(x, { training: false }).clipLogits.dataSync();
    });
    return { ms: performance.now() - start, classes: logits.length / input.clips };
  };
}
