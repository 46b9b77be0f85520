/**
 * `npm run bench -- onnx`: STM-R50 (T=8, 224², 174 classes, random weights) inference through the ONNX
 * export and ONNX Runtime (CPU): clips/s for float NCHW and uint8 NHWC input, one and two clips per run,
 * against the PyTorch reference (bench/reference/stm.py, 2 threads) measured in the same run.
 * Target: ORT ≥ 1.0× PyTorch clips/s. STM_BENCH_MODEL=tiny runs a tiny configuration (smoke test).
 * `measureOnnx` is also called by bench/model.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { checkpointMetadata, IMAGENET_NORMALIZATION } from '../src-main/core/model/checkpoint.ts';
import { resolveStmConfig, type StmConfig, type StmVariant } from '../src-main/core/model/config.ts';
import { networkSpec } from '../src-main/core/model/parameters.ts';
import { writeSafetensors, type StoredTensor } from '../src-main/core/model/safetensors.ts';
import type { OnnxInputFormat } from '../src-main/core/model/onnx/export.ts';
import { createOnnxClassifier } from '../src-main/core/model/onnx/runner.ts';
import { report, reportRatio, round } from './lib/report.ts';

const SUITE = 'onnx';
const REFERENCE = new URL('./reference/stm.py', import.meta.url);

export interface OnnxBenchShape {
  layers: number[];
  width: number;
  frames: number;
  size: number;
  classes: number;
  variant?: StmVariant;
}

export interface OnnxBenchOptions {
  /** Default: every core. */
  threads?: number;
  /** Clips per session run (the graph's fixed batch). Default 1. */
  clipsPerRun?: number;
  input?: OnnxInputFormat;
  /** Clips timed after one warm-up run. Default 4. */
  clips?: number;
}

export interface OnnxMeasurement {
  clipsPerSecond: number;
  msPerClip: number;
  /** Export to ONNX plus session creation (graph optimisation, weight prepacking). */
  loadMs: number;
  threads: number;
  clipsPerRun: number;
  input: OnnxInputFormat;
}

/** Inference clips/s of an STM network with random weights, through the same runner the jobs use. */
export async function measureOnnx(shape: OnnxBenchShape, options: OnnxBenchOptions = {}): Promise<OnnxMeasurement> {
  const threads = options.threads ?? availableParallelism();
  const clipsPerRun = options.clipsPerRun ?? 1;
  const input = options.input ?? 'float-nchw';
  const timedClips = Math.max(options.clips ?? 4, clipsPerRun);
  const config = resolveStmConfig({
    variant: shape.variant ?? 'stm',
    layers: [shape.layers[0], shape.layers[1], shape.layers[2], shape.layers[3]],
    baseWidth: shape.width,
    frames: shape.frames,
    classes: shape.classes,
    inputSize: shape.size,
  });
  const dir = mkdtempSync(join(tmpdir(), 'stm-bench-onnx-'));
  try {
    const weights = join(dir, 'random.safetensors');
    writeSafetensors(weights, randomState(config), checkpointMetadata({
      config,
      classNames: Array.from({ length: config.classes }, (_, i) => `class ${i + 1}`),
      normalization: IMAGENET_NORMALIZATION,
      sampling: { strategy: 'tsn-segments', frames: config.frames, size: config.inputSize },
    }));
    const loadStart = performance.now();
    const classifier = await createOnnxClassifier({ weights, input, clipsPerRun }, { threads });
    const loadMs = performance.now() - loadStart;
    try {
      const frameValues = clipsPerRun * config.frames * 3 * shape.size * shape.size;
      const batch = input === 'float-nchw'
        ? Float32Array.from({ length: frameValues }, (_, i) => Math.sin(i) * 2)
        : Uint8Array.from({ length: frameValues }, (_, i) => (i * 2654435761) >>> 24);
      await classifier.run(batch);
      const runs = Math.ceil(timedClips / clipsPerRun);
      const start = performance.now();
      for (let r = 0; r < runs; r++) await classifier.run(batch);
      const seconds = (performance.now() - start) / 1000;
      const clipsPerSecond = (runs * clipsPerRun) / seconds;
      return { clipsPerSecond, msPerClip: 1000 / clipsPerSecond, loadMs, threads, clipsPerRun, input };
    } finally {
      await classifier.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** He-scaled random convolutions (activations stay O(1), no denormals), BatchNorm at identity. */
function randomState(config: StmConfig): Map<string, StoredTensor> {
  let seed = 12345;
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  const state = new Map<string, StoredTensor>();
  for (const p of networkSpec(config).params) {
    const count = p.torchShape.reduce((a, b) => a * b, 1);
    const fanIn = p.torchShape.slice(1).reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    if (p.kind === 'vector') data.fill(p.name.endsWith('.weight') || p.name.endsWith('running_var') ? 1 : 0);
    else for (let i = 0; i < count; i++) data[i] = next() * Math.sqrt(24 / fanIn);
    state.set(p.name, { dtype: 'F32', shape: [...p.torchShape], data });
  }
  return state;
}

const R50: OnnxBenchShape = { layers: [3, 4, 6, 3], width: 64, frames: 8, size: 224, classes: 174 };
const TINY: OnnxBenchShape = { layers: [1, 1, 1, 1], width: 16, frames: 4, size: 64, classes: 5 };

export async function run(): Promise<void> {
  const shape = process.env.STM_BENCH_MODEL === 'tiny' ? TINY : R50;
  const label = `STM ${shape.layers.join(',')} w${shape.width} T=${shape.frames} ${shape.size}²`;
  const settings: OnnxBenchOptions[] = [
    { input: 'float-nchw', clipsPerRun: 1 },
    { input: 'uint8-nhwc', clipsPerRun: 1 },
    { input: 'float-nchw', clipsPerRun: 2 },
  ];
  let best = 0;
  for (const setting of settings) {
    const m = await measureOnnx(shape, setting);
    best = Math.max(best, m.clipsPerSecond);
    report({
      suite: SUITE,
      figure: `ORT inference ${label} ${m.input} ${m.clipsPerRun} clip/run`,
      value: round(m.clipsPerSecond, 3),
      unit: 'clips/s',
      msPerClip: round(m.msPerClip, 1),
      loadMs: round(m.loadMs, 0),
      threads: m.threads,
      // Other processes share these cores: a wall-clock figure means little without the load it ran under.
      loadAverage: round(loadavg()[0], 2),
    });
  }
  const torch = await pytorchInference(shape, label);
  if (torch !== null) reportRatio(SUITE, `ORT / PyTorch inference clips/s (${label})`, best / torch, { min: 1 });
}

async function pytorchInference(shape: OnnxBenchShape, label: string): Promise<number | null> {
  const argv = [REFERENCE.pathname, '--layers', shape.layers.join(','), '--width', String(shape.width), '--frames', String(shape.frames),
    '--size', String(shape.size), '--classes', String(shape.classes), '--threads', '2', '--train-clips', '1', '--train-steps', '1'];
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)('/usr/bin/python3', argv, { maxBuffer: 1 << 20 }));
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n').find((l) => l.includes('Error')) ?? err.message.split('\n')[0] : String(err);
    report({ suite: SUITE, figure: `PyTorch reference ${label}`, value: 0, unit: 'skipped', reason: `${reason} (apt-get install -y python3-torch)` });
    return null;
  }
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { figure: string; value: number; threads: number; torch: string });
  const inference = lines.find((l) => l.figure === 'inference');
  if (!inference) return null;
  report({ suite: SUITE, figure: `PyTorch inference ${label}`, value: round(inference.value, 3), unit: 'clips/s', threads: inference.threads, torch: inference.torch, loadAverage: round(loadavg()[0], 2) });
  return inference.value;
}
