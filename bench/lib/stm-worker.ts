// Worker-side bodies of the model bench: STM inference (a pool service) and timed training steps (a job).
import * as tf from '@tensorflow/tfjs';
import { createStmNetwork } from '../../src-main/core/model/network.ts';
import type { StmConfig } from '../../src-main/core/model/config.ts';
import type { WorkerTaskContext } from '../../src-main/core/compute/worker-pool.ts';

export interface BenchModelArgs {
  config: Partial<StmConfig>;
  size: number;
}

/** Pool factory: one network per worker; each run classifies `clips` clips of random frames. */
export function createStmInference(args: BenchModelArgs) {
  const net = createStmNetwork({ ...args.config, inputSize: args.size }, { seed: 1 });
  const frames = net.config.frames;
  return async (input: { clips: number }) => {
    const start = performance.now();
    const clipLogits = tf.tidy(() => {
      const x = tf.randomUniform([input.clips * frames, args.size, args.size, 3]) as tf.Tensor4D;
      return net.forward(x, { training: false }).clipLogits;
    });
    // Read back asynchronously: a GPU backend has no synchronous read in Node.
    const logits = await clipLogits.data();
    clipLogits.dispose();
    return { ms: performance.now() - start, classes: logits.length / input.clips };
  };
}

/**
 * Times SGD training steps on a batch of clips; returns the median step in ms after one warm-up step, the
 * most tensor bytes alive during the warm-up step and (on wasm) the size its heap grew to.
 * `microBatchClips` splits the batch and sums the gradients; BatchNorm then sees each micro-batch alone.
 */
export async function measureTrainSteps(args: BenchModelArgs & { clips: number; steps: number; microBatchClips: number }, ctx: WorkerTaskContext) {
  const net = createStmNetwork({ ...args.config, inputSize: args.size }, { seed: 1 });
  const { frames, classes } = net.config;
  const micro = Math.min(args.microBatchClips, args.clips);
  const x = tf.randomUniform([micro * frames, args.size, args.size, 3]) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: micro }, (_, i) => i % classes), 'int32'), classes);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const variables = net.trainableVariables();
  const step = async () => {
    let sums: Record<string, tf.Tensor> | null = null;
    for (let done = 0; done < args.clips; done += micro) {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x, { training: true }).clipLogits) as tf.Scalar, variables);
      await value.data();
      value.dispose();
      if (!sums) sums = grads;
      else {
        const previous: Record<string, tf.Tensor> = sums;
        sums = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.add(previous[name]!, g)]));
        tf.dispose([...Object.values(previous), ...Object.values(grads)]);
      }
    }
    optimizer.applyGradients(Object.entries(sums!).map(([name, tensor]) => ({ name, tensor })));
    tf.dispose(Object.values(sums!));
  };
  const times: number[] = [];
  const bytesBefore = tf.memory().numBytes;
  let peakBytes = 0;
  for (let i = 0; i <= args.steps; i++) {
    const start = performance.now();
    if (i === 0) peakBytes = (await tf.profile(step)).peakBytes - bytesBefore;
    else await step();
    if (i > 0) times.push(performance.now() - start);
    ctx.progress(i);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, backend: ctx.backend.name, microBatchClips: micro, peakTensorMiB: peakBytes / 2 ** 20, wasmHeapMiB: wasmHeapMiB() };
}

/** The wasm backend's heap size (it only grows, so this is its high-water mark), or null on other backends. */
function wasmHeapMiB(): number | null {
  const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8;
  return heap ? heap.length / 2 ** 20 : null;
}
