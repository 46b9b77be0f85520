/**
 * The model bench in one process on the GPU backend, for the self-contained GPU pack (scripts/gpu-pack.mjs
 * bundles this file): STM inference clips/s in batches and one training step, then the PyTorch reference on
 * the same device (fp32, and bf16 autocast with channels-last) and the ratios against fp32. One JSON line per
 * figure on stdout. STM_BACKEND picks the rung (default webgpu, forced: a software adapter runs too);
 * STM_BENCH_MODEL=tiny runs the tiny configuration.
 */
import { selectBackend, isBackendName } from '../../src-main/core/compute/backends.ts';
import { clipsPerRun } from '../../src-main/core/compute/webgpu-device.ts';
import { benchArgs, GPU_INFER_BATCH, labelOf, pytorchReference, R50, TINY, TRAIN_CLIPS, type Shape } from '../model.ts';
import { report, reportRatio, round } from './report.ts';
import { createStmInference, measureTrainSteps } from './stm-worker.ts';

const SUITE = 'model';

async function main(): Promise<void> {
  const shape: Shape = process.env.STM_BENCH_MODEL === 'tiny' ? TINY : R50;
  const label = labelOf(shape);
  const requested = process.env.STM_BACKEND ?? 'webgpu';
  if (!isBackendName(requested)) throw new Error(`STM_BACKEND=${requested} is not a backend`);
  const backend = await selectBackend(requested, 'env');
  report({ suite: SUITE, figure: 'backend', value: 1, unit: 'selected', backend: backend.name, reason: backend.reason });

  const args = benchArgs(shape);
  const batch = clipsPerRun({ frames: shape.frames, inputSize: shape.size, baseWidth: shape.width }, GPU_INFER_BATCH).clips;
  const infer = createStmInference(args);
  await infer({ clips: batch }); // warm-up: shader compilation
  const runs = 4;
  const start = performance.now();
  for (let i = 0; i < runs; i++) await infer({ clips: batch });
  const clipsPerSecond = (runs * batch) / ((performance.now() - start) / 1000);
  report({ suite: SUITE, figure: `tfjs inference ${label}`, value: round(clipsPerSecond, 3), unit: 'clips/s', backend: backend.name, batch });

  const ctx = { progress: () => {}, signal: new AbortController().signal, backend };
  const train = await measureTrainSteps({ ...args, clips: TRAIN_CLIPS, steps: 3, microBatchClips: TRAIN_CLIPS }, ctx);
  report({ suite: SUITE, figure: `tfjs train step ${TRAIN_CLIPS} clips ${label}`, value: round(train.ms, 1), unit: 'ms', backend: backend.name });
  report({ suite: SUITE, figure: `tfjs train step ${TRAIN_CLIPS} clips ${label} peak tensor memory`, value: round(train.peakTensorMiB, 0), unit: 'MiB', backend: backend.name });

  const torchInference = await pytorchReference(shape, 'inference', { inferBatch: batch });
  await pytorchReference(shape, 'inference', { inferBatch: batch, bf16ChannelsLast: true });
  const torchTrain = await pytorchReference(shape, 'train');
  await pytorchReference(shape, 'train', { bf16ChannelsLast: true });
  if (torchInference) reportRatio(SUITE, `tfjs inference / PyTorch fp32 clips/s (${label})`, clipsPerSecond / torchInference.value, { min: 0.5 });
  if (torchTrain) reportRatio(SUITE, `tfjs train step / PyTorch fp32 (${label})`, train.ms / torchTrain.value, { max: 3 });
}

try {
  await main();
  process.exit(0);
} catch (err) {
  report({ suite: SUITE, figure: 'failed', value: 0, unit: 'error', reason: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
