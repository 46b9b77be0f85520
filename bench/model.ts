/**
 * `npm run bench -- model`: STM-R50 (T=8, 224², 174 classes) inference clips/s over all cores (one wasm
 * worker per core, or one worker on a GPU backend) and one training step of 2 clips on the best local
 * backend, with the tensor bytes alive at its peak and the wasm heap it needed (wasm32 memory is at most
 * 4 GiB; if the step fails at 224² it is retried at smaller sizes and the figure names the size that ran);
 * the same figures from the PyTorch reference (bench/reference/stm.py, 2 threads) and ONNX Runtime
 * (bench/onnx.ts, if present); ratios against PyTorch (targets: train ≤ 3× its time, inference ≥ 0.5× its clips/s).
 * STM_BENCH_MODEL=tiny runs a tiny configuration (smoke test).
 * On a GPU: STM_BACKEND=webgpu (or tfjs-node-gpu) runs tfjs there, batches of GPU_INFER_BATCH clips;
 * STM_BENCH_TORCH_DEVICE=cuda times PyTorch on the GPU too, in fp32 and in bf16 autocast with channels-last
 * (the ratios are against fp32); STM_BENCH_PYTHON names the python with torch (default /usr/bin/python3).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createWorkerPool, runInWorker } from '../src-main/core/compute/worker-pool.ts';
import { report, reportRatio, round } from './lib/report.ts';
import type { BenchModelArgs } from './lib/stm-worker.ts';

const SUITE = 'model';
const WORKER = new URL('./lib/stm-worker.ts', import.meta.url);
/** The PyTorch reference; STM_BENCH_REFERENCE points elsewhere (the GPU pack ships it next to its bundle). */
const REFERENCE = process.env.STM_BENCH_REFERENCE ? pathToFileURL(process.env.STM_BENCH_REFERENCE) : new URL('./reference/stm.py', import.meta.url);
const ONNX_BENCH = new URL('./onnx.ts', import.meta.url);

export const R50 = { layers: [3, 4, 6, 3] as const, width: 64, frames: 8, size: 224, classes: 174 };
export const TINY = { layers: [1, 1, 1, 1] as const, width: 16, frames: 4, size: 64, classes: 5 };
export const TRAIN_CLIPS = 2;
/** Clips per inference run on a GPU backend (a GPU needs a batch to be busy; CPU workers run one clip each). */
export const GPU_INFER_BATCH = 8;
const GPU_BACKENDS = ['webgpu', 'tfjs-node-gpu'];
const TORCH_DEVICE = process.env.STM_BENCH_TORCH_DEVICE ?? 'cpu';
const PYTHON = process.env.STM_BENCH_PYTHON ?? '/usr/bin/python3';
/** Sizes to fall back to when a training step does not fit in memory. */
const FALLBACK_TRAIN_SIZES = [160, 128, 96];

export interface Shape {
  layers: readonly [number, number, number, number];
  width: number;
  frames: number;
  size: number;
  classes: number;
}

export async function run(): Promise<void> {
  const shape: Shape = process.env.STM_BENCH_MODEL === 'tiny' ? TINY : R50;
  const label = labelOf(shape);
  const args = benchArgs(shape);

  const inference = await tfjsInference(args, label);
  const torchInference = await pytorchReference(shape, 'inference', { inferBatch: inference.batch });
  if (TORCH_DEVICE !== 'cpu') await pytorchReference(shape, 'inference', { inferBatch: inference.batch, bf16ChannelsLast: true });
  const onnx = await onnxRuntime(shape, label);

  // The largest size that trains (224² on wasm with the model's gradient checkpointing); PyTorch is timed
  // at the same size for the ratio.
  let trainShape = shape;
  let train = await tfjsTrainStep(benchArgs(shape), label);
  for (const size of FALLBACK_TRAIN_SIZES.filter((s) => s < shape.size)) {
    if (train !== null) break;
    trainShape = { ...shape, size };
    train = await tfjsTrainStep(benchArgs(trainShape), labelOf(trainShape));
  }
  const torchTrain = await pytorchReference(trainShape, 'train');
  if (TORCH_DEVICE !== 'cpu') await pytorchReference(trainShape, 'train', { bf16ChannelsLast: true });

  if (torchInference) {
    reportRatio(SUITE, `tfjs inference / PyTorch clips/s (${label})`, inference.clipsPerSecond / torchInference.value, { min: 0.5 });
    if (onnx !== null) reportRatio(SUITE, `ORT inference / PyTorch clips/s (${label})`, onnx / torchInference.value, { min: 1 });
  }
  if (torchTrain && train !== null) reportRatio(SUITE, `tfjs train step / PyTorch (${labelOf(trainShape)})`, train / torchTrain.value, { max: 3 });
}

export function labelOf(shape: Shape): string {
  return `STM ${shape.layers.join(',')} w${shape.width} T=${shape.frames} ${shape.size}²`;
}

export function benchArgs(shape: Shape): BenchModelArgs {
  return {
    config: { variant: 'stm', layers: shape.layers, baseWidth: shape.width, frames: shape.frames, classes: shape.classes },
    size: shape.size,
  };
}

async function tfjsInference(args: BenchModelArgs, label: string): Promise<{ clipsPerSecond: number; backend: string; batch: number }> {
  const pool = await createWorkerPool<{ clips: number }, { ms: number }>({ moduleUrl: WORKER, exportName: 'createStmInference', args, backend: 'auto' });
  try {
    const batch = GPU_BACKENDS.includes(pool.backend.name) ? GPU_INFER_BATCH : 1;
    const runsPerWorker = 2;
    await Promise.all(Array.from({ length: pool.size }, () => pool.run({ clips: batch }))); // warm-up (and shader compilation)
    const start = performance.now();
    await Promise.all(Array.from({ length: pool.size * runsPerWorker }, () => pool.run({ clips: batch })));
    const clipsPerSecond = (pool.size * runsPerWorker * batch) / ((performance.now() - start) / 1000);
    report({ suite: SUITE, figure: `tfjs inference ${label}`, value: round(clipsPerSecond, 3), unit: 'clips/s', backend: pool.backend.name, reason: pool.backend.reason, batch, workers: pool.size, cores: availableParallelism() });
    return { clipsPerSecond, backend: pool.backend.name, batch };
  } finally {
    await pool.dispose();
  }
}

async function tfjsTrainStep(args: BenchModelArgs, label: string): Promise<number | null> {
  const figure = `tfjs train step ${TRAIN_CLIPS} clips ${label}`;
  try {
    const result = await runInWorker<{ ms: number; backend: string; peakTensorMiB: number; wasmHeapMiB: number | null }>(WORKER, 'measureTrainSteps', { ...args, clips: TRAIN_CLIPS, steps: 1, microBatchClips: TRAIN_CLIPS }, { backend: 'auto' });
    report({ suite: SUITE, figure, value: round(result.ms, 1), unit: 'ms', backend: result.backend });
    report({ suite: SUITE, figure: `tfjs train step ${TRAIN_CLIPS} clips ${label} peak tensor memory`, value: round(result.peakTensorMiB, 0), unit: 'MiB', backend: result.backend });
    if (result.wasmHeapMiB !== null) report({ suite: SUITE, figure: `tfjs train step ${TRAIN_CLIPS} clips ${label} wasm heap`, value: round(result.wasmHeapMiB, 0), unit: 'MiB', limit: 4096 });
    return result.ms;
  } catch (err) {
    report({ suite: SUITE, figure, value: 0, unit: 'failed', reason: err instanceof Error ? err.message : String(err) });
    return null;
  }
}

interface TorchFigure {
  figure: string;
  value: number;
  threads: number;
  torch: string;
}

export async function pytorchReference(shape: Shape, what: 'inference' | 'train', opts: { inferBatch?: number; bf16ChannelsLast?: boolean } = {}): Promise<TorchFigure | null> {
  const label = labelOf(shape);
  const argv = [fileURLToPath(REFERENCE), '--layers', shape.layers.join(','), '--width', String(shape.width), '--frames', String(shape.frames), '--size', String(shape.size), '--classes', String(shape.classes), '--threads', '2', '--train-clips', String(TRAIN_CLIPS), '--device', TORCH_DEVICE];
  const batch = opts.inferBatch ?? 1;
  argv.push(...(what === 'inference' ? ['--train-steps', '0', '--infer-batch', String(batch), '--infer-clips', String(Math.max(4, 4 * batch))] : ['--infer-clips', '0', '--train-steps', TORCH_DEVICE === 'cpu' ? '1' : '5']));
  if (opts.bf16ChannelsLast) argv.push('--precision', 'bf16', '--channels-last');
  const variant = `${TORCH_DEVICE === 'cpu' ? '' : ` on ${TORCH_DEVICE}`}${opts.bf16ChannelsLast ? ' bf16 channels-last' : TORCH_DEVICE === 'cpu' ? '' : ' fp32'}`;
  const figure = what === 'inference' ? `PyTorch inference ${label}${variant}` : `PyTorch train step ${TRAIN_CLIPS} clips ${label}${variant}`;
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(PYTHON, argv, { maxBuffer: 1 << 20 }));
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const reason = text.split('\n').find((l) => /Error/.test(l)) ?? text.split('\n')[0];
    report({ suite: SUITE, figure, value: 0, unit: 'skipped', reason: `${reason} (needs ${PYTHON} with torch, e.g. Debian python3-torch)` });
    return null;
  }
  const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchFigure & { gpu?: string };
  report({ suite: SUITE, figure, value: round(line.value, what === 'inference' ? 3 : 1), unit: what === 'inference' ? 'clips/s' : 'ms', threads: line.threads, torch: line.torch, ...(what === 'inference' ? { batch } : {}), ...(line.gpu ? { gpu: line.gpu } : {}) });
  return line;
}

interface OnnxBench {
  measureOnnx(shape: { layers: number[]; width: number; frames: number; size: number; classes: number }): Promise<{ clipsPerSecond: number }>;
}

async function onnxRuntime(shape: Shape, label: string): Promise<number | null> {
  if (!existsSync(ONNX_BENCH)) return null;
  const { measureOnnx } = (await import(ONNX_BENCH.href)) as OnnxBench;
  if (typeof measureOnnx !== 'function') return null;
  const { clipsPerSecond } = await measureOnnx({ layers: [...shape.layers], width: shape.width, frames: shape.frames, size: shape.size, classes: shape.classes });
  report({ suite: SUITE, figure: `ONNX Runtime inference ${label}`, value: round(clipsPerSecond, 3), unit: 'clips/s' });
  return clipsPerSecond;
}
