/**
 * `npm run bench -- model`: STM-R50 (T=8, 224², 174 classes) inference clips/s over all cores (one wasm
 * worker per core, or one worker on a GPU backend) and one training step of 2 clips on the best local
 * backend, with the tensor bytes alive at its peak and the wasm heap it needed (wasm32 memory is at most
 * 4 GiB; if the step fails at 224² it is retried at smaller sizes and the figure names the size that ran);
 * the same figures from the PyTorch reference (bench/reference/stm.py, 2 threads) and ONNX Runtime
 * (bench/onnx.ts, if present); ratios against PyTorch (targets: train ≤ 3× its time, inference ≥ 0.5× its clips/s).
 * On the CPU backends the training step runs through the training job's own engines instead: ONNX Runtime
 * (the default) for the full network and with stages 1–3 frozen, and tfjs with 1 worker and one per core
 * (data-parallel), each with its CPU time (all threads) and memory, against PyTorch on every core; the first
 * line names the CPU, its cores, SIMD width and load average (targets: full step ≤ 3.5× PyTorch's time,
 * stages 1–3 frozen ≤ 1× PyTorch's full step, tfjs 1 → 2 workers ≥ 1.7×).
 * STM_BENCH_MODEL=tiny runs a tiny configuration (smoke test).
 * On a GPU: STM_BACKEND=webgpu (or tfjs-node-gpu) runs tfjs there, batches of GPU_INFER_BATCH clips;
 * STM_BENCH_TORCH_DEVICE=cuda times PyTorch on the GPU too, in fp32 and in bf16 autocast with channels-last
 * (the ratios are against fp32); STM_BENCH_PYTHON names the python with torch (default /usr/bin/python3).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { createWorkerPool, runInWorker } from '../src-main/core/compute/worker-pool.ts';
import { resolveStmConfig, type StmConfig } from '../src-main/core/model/config.ts';
import { createStmNetwork } from '../src-main/core/model/network.ts';
import { startParallelEngine } from '../src-main/core/jobs/train-parallel.ts';
import { OnnxPrefix } from '../src-main/core/jobs/train-prefix.ts';
import { clipValuesOf, LocalEngine } from '../src-main/core/jobs/train-engine.ts';
import { OnnxTrainingStep } from '../src-main/core/jobs/train-onnx.ts';
import { TrainReplica } from '../src-main/core/jobs/train-replica.ts';
import { selectBackend, type BackendName } from '../src-main/core/compute/backends.ts';
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
/** Frozen stages of the frozen-prefix figure. */
const FROZEN_STAGES = 3;
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
  reportMachine(availableParallelism());

  const inference = await tfjsInference(args, label);
  const torchInference = await pytorchReference(shape, 'inference', { inferBatch: inference.batch });
  if (TORCH_DEVICE !== 'cpu') await pytorchReference(shape, 'inference', { inferBatch: inference.batch, bf16ChannelsLast: true });
  const onnx = await onnxRuntime(shape, label);

  if (!GPU_BACKENDS.includes(inference.backend)) {
    await cpuTraining(shape, inference.backend as BackendName);
    if (torchInference) {
      reportRatio(SUITE, `tfjs inference / PyTorch clips/s (${label})`, inference.clipsPerSecond / torchInference.value, { min: 0.5 });
      if (onnx !== null) reportRatio(SUITE, `ORT inference / PyTorch clips/s (${label})`, onnx / torchInference.value, { min: 1.5 });
    }
    return;
  }

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

/** What every figure of this run was measured on. */
function reportMachine(cores: number): void {
  const flags = existsSync('/proc/cpuinfo') ? (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/) : [];
  const simd = flags.includes('avx512f') ? 'AVX-512 (512-bit)' : flags.includes('avx2') ? 'AVX2 (256-bit)' : flags.includes('sse2') ? 'SSE2 (128-bit)' : process.arch === 'arm64' ? 'NEON (128-bit)' : 'unknown';
  report({ suite: SUITE, figure: 'machine', value: cores, unit: 'cores', cpu: cpus()[0]?.model ?? 'unknown', nativeSimd: simd, wasmSimd: '128-bit', loadAverage1m: round(loadavg()[0], 2) });
}
/**
 * The training step on the CPU through the training job's engines: ONNX Runtime (the default; every core
 * inside each operation) for the full network and with stages 1–3 frozen, and the tfjs engine with 1 worker
 * and one per core (at most one per clip); PyTorch's full step on every core; ratios by wall and CPU time.
 */
async function cpuTraining(shape: Shape, backend: BackendName): Promise<void> {
  const label = labelOf(shape);
  const cores = availableParallelism();
  const workers = Math.min(cores, TRAIN_CLIPS);
  const onnx = await onnxEngineStep(shape, backend, 0);
  const onnxFrozen = await onnxEngineStep(shape, backend, FROZEN_STAGES);
  const oneWorker = await trainStep(shape, backend, 1);
  const allWorkers = cores > 1 ? await trainStep(shape, backend, workers) : oneWorker;
  const torchTrain = await pytorchReference(shape, 'train', { threads: cores });
  if (oneWorker !== null && allWorkers !== null && cores > 1) {
    reportRatio(SUITE, `tfjs engine train step speed-up, 1 → ${workers} workers (${label})`, oneWorker.ms / allWorkers.ms, { min: 1.7 });
    // What the speed-up would be with a core per worker: the workers' CPU time, the parallel overhead included.
    reportRatio(SUITE, `tfjs engine train step speed-up, 1 → ${workers} workers, from CPU time (${label})`, (workers * oneWorker.cpuMs) / allWorkers.cpuMs, { min: 1.7 });
  }
  if (!torchTrain) return;
  if (onnx !== null) reportRatio(SUITE, `train step, ONNX Runtime engine / PyTorch (${label})`, onnx.ms / torchTrain.value, { max: 3.5 });
  if (onnxFrozen !== null) reportRatio(SUITE, `train step, stages 1–${FROZEN_STAGES} frozen, ONNX Runtime engine / PyTorch full step (${label})`, onnxFrozen.ms / torchTrain.value, { max: 1 });
  if (allWorkers !== null) report({ suite: SUITE, figure: `train step, tfjs engine with ${workers} workers / PyTorch (${label})`, value: round(allWorkers.ms / torchTrain.value, 3), unit: 'ratio' });
  if (torchTrain.cpu_ms !== undefined) {
    if (onnx !== null) reportRatio(SUITE, `train step, ONNX Runtime engine / PyTorch, CPU time (${label})`, onnx.cpuMs / torchTrain.cpu_ms, { max: 3.5 });
    if (onnxFrozen !== null) reportRatio(SUITE, `train step, stages 1–${FROZEN_STAGES} frozen, ONNX Runtime engine / PyTorch full step, CPU time (${label})`, onnxFrozen.cpuMs / torchTrain.cpu_ms, { max: 1 });
  }
}

/**
 * The best of three training steps on a global batch of 2 random clips after two warm-up steps (ONNX Runtime
 * sizes its memory arena over the first ones), through the ONNX Runtime engine the training job uses: the
 * gradients on ONNX Runtime with every core, the SGD update in tfjs on `backend`; with `frozen` > 0 the
 * frozen prefix runs on ONNX Runtime in front of it. Reports the step and the process's resident memory.
 */
async function onnxEngineStep(shape: Shape, backend: BackendName, frozen: number): Promise<{ ms: number; cpuMs: number } | null> {
  const label = labelOf(shape);
  const figure = `train step ${TRAIN_CLIPS} clips ${label}, ONNX Runtime engine${frozen ? `, stages 1–${frozen} frozen` : ''}`;
  await selectBackend(backend);
  const config = resolveStmConfig({ variant: 'stm', layers: shape.layers, baseWidth: shape.width, frames: shape.frames, classes: shape.classes, inputSize: shape.size, dropout: 0.5 });
  const network = createStmNetwork(config, { seed: 1 });
  const settings = { optimizer: 'sgd' as const, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, freeze: frozen };
  let prefix: OnnxPrefix | null = null;
  let engine: LocalEngine | null = null;
  try {
    prefix = frozen ? await OnnxPrefix.create(await network.stateDict(), config, frozen) : null;
    const step = new OnnxTrainingStep(config, frozen, true);
    engine = new LocalEngine(new TrainReplica(network, settings, new Array<number>(shape.classes).fill(1), frozen, step));
    const { x, labels } = randomBatch(config);
    const run = async () => {
      const input = prefix ? await prefix.features(x, TRAIN_CLIPS) : x;
      await engine!.step({ x: input, labels }, 0.01);
    };
    const timing = await bestOf(3, run, 2);
    reportStep(figure, timing, { backend, threads: step.threads });
    return timing;
  } catch (err) {
    report({ suite: SUITE, figure, value: 0, unit: 'failed', reason: err instanceof Error ? err.message : String(err) });
    return null;
  } finally {
    if (engine) await engine.dispose();
    else network.dispose();
    await prefix?.dispose();
  }
}

/** A global batch of TRAIN_CLIPS random clips. */
function randomBatch(config: StmConfig): { x: Float32Array; labels: number[] } {
  const x = Float32Array.from({ length: TRAIN_CLIPS * clipValuesOf(config) }, () => Math.random() * 2 - 1);
  return { x, labels: Array.from({ length: TRAIN_CLIPS }, (_, i) => i % config.classes) };
}

/**
 * A training step's time and the process's peak resident memory. cpuMs is the CPU time of every thread of
 * this process (workers and ONNX Runtime's pool too), which a loaded machine disturbs less.
 */
function reportStep(figure: string, timing: { ms: number; cpuMs: number }, extra: Record<string, unknown>): void {
  report({ suite: SUITE, figure, value: round(timing.ms, 1), unit: 'ms', cpuMs: round(timing.cpuMs, 1), ...extra });
  report({ suite: SUITE, figure: `${figure}: peak resident memory, whole process`, value: round(process.resourceUsage().maxRSS / 1024, 0), unit: 'MiB' });
}

/** The fastest of `count` runs after `warmup` runs, by wall time, and the fastest by this process's CPU time (every thread). */
async function bestOf(count: number, run: () => Promise<void>, warmup: number): Promise<{ ms: number; cpuMs: number }> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await run();
    times.push(performance.now() - t0);
    const used = process.cpuUsage(c0);
    cpu.push((used.user + used.system) / 1000);
  }
  return { ms: Math.min(...times), cpuMs: Math.min(...cpu) };
}

/**
 * The best of two training steps on a global batch of 2 random clips after a warm-up step, through the tfjs
 * engine with `workers` replicas (data-parallel worker threads). Reports the step, each worker's memory and
 * the process's peak resident memory.
 */
async function trainStep(shape: Shape, backend: BackendName, workers: number): Promise<{ ms: number; cpuMs: number } | null> {
  const label = labelOf(shape);
  const figure = `train step ${TRAIN_CLIPS} clips ${label}, tfjs engine, ${workers} worker${workers > 1 ? 's' : ''}`;
  await selectBackend('cpu'); // only draws the starting weights here; the replicas run on `backend`
  const config = resolveStmConfig({ variant: 'stm', layers: shape.layers, baseWidth: shape.width, frames: shape.frames, classes: shape.classes, inputSize: shape.size, dropout: 0 });
  const start = createStmNetwork(config, { seed: 1 });
  const weights = await start.stateDict();
  start.dispose();
  const settings = { optimizer: 'sgd' as const, lr: 0.01, momentum: 0.9, weightDecay: 5e-4, freeze: 0 };
  let engine: Awaited<ReturnType<typeof startParallelEngine>> | null = null;
  try {
    engine = await startParallelEngine({
      config, weights, optimizer: [], settings, classWeights: new Array<number>(shape.classes).fill(1), workers, shards: workers, backend, fromStage: 0,
    });
    const { x, labels } = randomBatch(config);
    const timing = await bestOf(2, () => engine!.step({ x, labels }, 0.01).then(() => undefined), 1);
    reportStep(figure, timing, { backend, workers });
    const memory = await engine.memoryPerWorker();
    report({ suite: SUITE, figure: `${figure}: memory per worker`, value: round(Math.max(...memory), 0), unit: 'MiB', limit: backend === 'wasm' ? 4096 : null });
    return timing;
  } catch (err) {
    report({ suite: SUITE, figure, value: 0, unit: 'failed', reason: err instanceof Error ? err.message : String(err) });
    return null;
  } finally {
    await engine?.dispose();
  }
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
  /** Train step: CPU time of all its threads, ms. */
  cpu_ms?: number;
  threads: number;
  torch: string;
}

export async function pytorchReference(shape: Shape, what: 'inference' | 'train', opts: { inferBatch?: number; bf16ChannelsLast?: boolean; threads?: number } = {}): Promise<TorchFigure | null> {
  const label = labelOf(shape);
  const argv = [fileURLToPath(REFERENCE), '--layers', shape.layers.join(','), '--width', String(shape.width), '--frames', String(shape.frames), '--size', String(shape.size), '--classes', String(shape.classes), '--threads', String(opts.threads ?? 2), '--train-clips', String(TRAIN_CLIPS), '--device', TORCH_DEVICE];
  const batch = opts.inferBatch ?? 1;
  argv.push(...(what === 'inference' ? ['--train-steps', '0', '--infer-batch', String(batch), '--infer-clips', String(Math.max(4, 4 * batch))] : ['--infer-clips', '0', '--train-steps', TORCH_DEVICE === 'cpu' ? '3' : '5']));
  if (opts.bf16ChannelsLast) argv.push('--precision', 'bf16', '--channels-last');
  const variant = `${TORCH_DEVICE === 'cpu' ? '' : ` on ${TORCH_DEVICE}`}${opts.bf16ChannelsLast ? ' bf16 channels-last' : TORCH_DEVICE === 'cpu' ? '' : ' fp32'}`;
  const figure = what === 'inference' ? `PyTorch inference ${label}${variant}` : `PyTorch train step ${TRAIN_CLIPS} clips ${label}${variant}`;
  let stdout: string;
  try {
    // Idle OpenMP threads sleep instead of spinning, so PyTorch's CPU time counts work only.
    ({ stdout } = await promisify(execFile)(PYTHON, argv, { maxBuffer: 1 << 20, env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' } }));
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const reason = text.split('\n').find((l) => /Error/.test(l)) ?? text.split('\n')[0];
    report({ suite: SUITE, figure, value: 0, unit: 'skipped', reason: `${reason} (needs ${PYTHON} with torch, e.g. Debian python3-torch)` });
    return null;
  }
  const line = JSON.parse(stdout.trim().split('\n').at(-1)!) as TorchFigure & { gpu?: string };
  report({ suite: SUITE, figure, value: round(line.value, what === 'inference' ? 3 : 1), unit: what === 'inference' ? 'clips/s' : 'ms', ...(line.cpu_ms !== undefined ? { cpuMs: round(line.cpu_ms, 1) } : {}), threads: line.threads, torch: line.torch, ...(what === 'inference' ? { batch } : {}), ...(line.gpu ? { gpu: line.gpu } : {}) });
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
