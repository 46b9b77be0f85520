/**
 * `npm run bench -- model`: STM-R50 (T=8, 224², 174 classes) inference clips/s over all cores (one wasm
 * worker per core, or one worker on a GPU backend) and one training step of 2 clips on the best local
 * backend; the same two figures from the PyTorch reference (bench/reference/stm.py, 2 threads) and from
 * ONNX Runtime when bench/onnx.ts is present; ratios against PyTorch (targets: train ≤ 3× its time,
 * inference ≥ 0.5× its clips/s). STM_BENCH_MODEL=tiny runs a tiny configuration (smoke test).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { createWorkerPool, runInWorker } from '../src-main/core/compute/worker-pool.ts';
import { report, reportRatio, round } from './lib/report.ts';
import type { BenchModelArgs } from './lib/stm-worker.ts';

const SUITE = 'model';
const WORKER = new URL('./lib/stm-worker.ts', import.meta.url);
const REFERENCE = new URL('./reference/stm.py', import.meta.url);
const ONNX_BENCH = new URL('./onnx.ts', import.meta.url);

const R50 = { layers: [3, 4, 6, 3] as const, width: 64, frames: 8, size: 224, classes: 174 };
const TINY = { layers: [1, 1, 1, 1] as const, width: 16, frames: 4, size: 64, classes: 5 };
const TRAIN_CLIPS = 2;

interface Shape {
  layers: readonly [number, number, number, number];
  width: number;
  frames: number;
  size: number;
  classes: number;
}

export async function run(): Promise<void> {
  const shape: Shape = process.env.STM_BENCH_MODEL === 'tiny' ? TINY : R50;
  const label = `STM ${shape.layers.join(',')} w${shape.width} T=${shape.frames} ${shape.size}²`;
  const args: BenchModelArgs = {
    config: { variant: 'stm', layers: shape.layers, baseWidth: shape.width, frames: shape.frames, classes: shape.classes },
    size: shape.size,
  };

  const inference = await tfjsInference(args, label);
  const train = await tfjsTrainStep(args, label);
  const torch = await pytorchReference(shape, label);
  const onnx = await onnxRuntime(shape, label);

  if (torch) {
    reportRatio(SUITE, `tfjs train step / PyTorch (${label})`, train / torch.trainMs, { max: 3 });
    reportRatio(SUITE, `tfjs inference / PyTorch clips/s (${label})`, inference / torch.clipsPerSecond, { min: 0.5 });
    if (onnx !== null) reportRatio(SUITE, `ORT inference / PyTorch clips/s (${label})`, onnx / torch.clipsPerSecond, { min: 1 });
  }
}

async function tfjsInference(args: BenchModelArgs, label: string): Promise<number> {
  const pool = await createWorkerPool<{ clips: number }, { ms: number }>({ moduleUrl: WORKER, exportName: 'createStmInference', args, backend: 'auto' });
  try {
    const clipsPerWorker = 2;
    await Promise.all(Array.from({ length: pool.size }, () => pool.run({ clips: 1 }))); // warm-up
    const start = performance.now();
    await Promise.all(Array.from({ length: pool.size * clipsPerWorker }, () => pool.run({ clips: 1 })));
    const clipsPerSecond = (pool.size * clipsPerWorker) / ((performance.now() - start) / 1000);
    report({ suite: SUITE, figure: `tfjs inference ${label}`, value: round(clipsPerSecond, 3), unit: 'clips/s', backend: pool.backend.name, workers: pool.size, cores: availableParallelism() });
    return clipsPerSecond;
  } finally {
    await pool.dispose();
  }
}

async function tfjsTrainStep(args: BenchModelArgs, label: string): Promise<number> {
  const result = await runInWorker<{ ms: number; backend: string }>(WORKER, 'measureTrainSteps', { ...args, clips: TRAIN_CLIPS, steps: 1 }, { backend: 'auto' });
  report({ suite: SUITE, figure: `tfjs train step ${TRAIN_CLIPS} clips ${label}`, value: round(result.ms, 1), unit: 'ms', backend: result.backend });
  return result.ms;
}

async function pytorchReference(shape: Shape, label: string): Promise<{ clipsPerSecond: number; trainMs: number } | null> {
  const python = '/usr/bin/python3';
  const argv = [REFERENCE.pathname, '--layers', shape.layers.join(','), '--width', String(shape.width), '--frames', String(shape.frames), '--size', String(shape.size), '--classes', String(shape.classes), '--threads', '2', '--train-clips', String(TRAIN_CLIPS), '--train-steps', '1'];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(python, argv, { maxBuffer: 1 << 20 }));
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n').find((l) => l.includes('Error')) ?? err.message.split('\n')[0] : String(err);
    report({ suite: SUITE, figure: `PyTorch reference ${label}`, value: 0, unit: 'skipped', reason: `${reason} (apt-get install -y python3-torch)` });
    return null;
  }
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { figure: string; value: number; threads: number; torch: string });
  const infer = lines.find((l) => l.figure === 'inference')!;
  const train = lines.find((l) => l.figure === 'train step')!;
  report({ suite: SUITE, figure: `PyTorch inference ${label}`, value: round(infer.value, 3), unit: 'clips/s', threads: infer.threads, torch: infer.torch });
  report({ suite: SUITE, figure: `PyTorch train step ${TRAIN_CLIPS} clips ${label}`, value: round(train.value, 1), unit: 'ms', threads: train.threads });
  return { clipsPerSecond: infer.value, trainMs: train.value };
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
