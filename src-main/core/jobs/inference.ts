/**
 * Batched inference shared by predict and probe: uint8 clips in, class probabilities out. Runs the tfjs
 * network, or the same network exported to ONNX Runtime (faster on CPU), with identical sampling.
 */
import * as tf from '@tensorflow/tfjs';
import type { Project } from '../store/project.ts';
import type { ModelRecord } from '../store/models.ts';
import type { StmNetwork } from '../model/network.ts';
import type { CheckpointInfo, Normalization } from '../model/checkpoint.ts';
import { loadCheckpoint, readCheckpointInfo } from '../model/checkpoint.ts';
import { createOnnxClassifier } from '../model/onnx/runner.ts';
import { planBackend, selectBackend, type BackendName, type PreferenceOrigin } from '../compute/backends.ts';
import { clipsPerRun, watchGpuDevice, whileDeviceAlive } from '../compute/webgpu-device.ts';
import { normalizeInto } from './dataset.ts';
import { softmax } from '../figures/metrics.ts';
import { weightsFileOf } from './model-files.ts';
import type { JobHooks } from './types.ts';
import type { InferenceEngine } from './params.ts';

export interface Classifier {
  readonly model: ModelRecord;
  readonly info: CheckpointInfo;
  readonly frames: number;
  readonly size: number;
  /** Probabilities (softmax of the clip consensus) for clips given as uint8 [T,S,S,3] each. */
  classify(clips: readonly Uint8Array[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** Runs the tfjs network on normalised clips, as many per pass as the GPU's buffers allow (all of them off the GPU). */
export async function classifyWithTfjs(network: StmNetwork, clips: readonly Uint8Array[], normalization: Normalization): Promise<Float32Array[]> {
  const { frames, inputSize: size } = network.config;
  const clipValues = frames * size * size * 3;
  const perRun = clipsPerRun(network.config, clips.length).clips;
  const probabilities: Float32Array[] = [];
  for (let start = 0; start < clips.length; start += perRun) {
    const part = clips.slice(start, start + perRun);
    const x = new Float32Array(part.length * clipValues);
    part.forEach((clip, i) => normalizeInto(clip, x, i * clipValues, normalization));
    const clipLogits = tf.tidy(() => network.forward(tf.tensor4d(x, [part.length * frames, size, size, 3]), { training: false }).clipLogits);
    try {
      for (const row of await whileDeviceAlive(clipLogits.array())) probabilities.push(softmax(row));
    } finally {
      clipLogits.dispose();
    }
  }
  return probabilities;
}

const GPU_BACKENDS: readonly BackendName[] = ['tfjs-node-gpu', 'webgpu'];

/** A classifier over a weights file alone (a queue worker has no project): the same engines and sampling. */
export type FileClassifier = Omit<Classifier, 'model'> & {
  /** What runs the network, for logs: "ONNX Runtime (cpu)" or "TensorFlow.js on wasm". */
  readonly engine: string;
};

export interface ClassifierOptions {
  engine?: InferenceEngine;
  backend?: BackendName | 'auto';
  backendSource?: PreferenceOrigin;
  batch: number;
  /** ONNX Runtime intra-op threads (default: every core). */
  threads?: number;
}

export async function openClassifier(
  project: Project,
  modelId: number,
  options: ClassifierOptions,
  hooks: Pick<JobHooks, 'log'>,
): Promise<Classifier> {
  const model = project.models.require(modelId);
  const classifier = await openWeightsClassifier(weightsFileOf(project, model), options, hooks);
  return { ...classifier, model };
}

export async function openWeightsClassifier(path: string, options: ClassifierOptions, hooks: Pick<JobHooks, 'log'>): Promise<FileClassifier> {
  const engine = options.engine ?? 'auto';
  if (engine !== 'tfjs') {
    const planned = engine === 'auto' ? await planBackend(options.backend ?? 'auto', options.backendSource) : null;
    if (!planned || !GPU_BACKENDS.includes(planned.name)) {
      try {
        const info = readCheckpointInfo(path);
        const onnx = await createOnnxClassifier({ weights: path, input: 'uint8-nhwc', clipsPerRun: options.batch }, options.threads ? { threads: options.threads } : {});
        const why = planned ? `, faster than TensorFlow.js on ${planned.name} (${planned.reason})` : '';
        hooks.log(`inference: ONNX Runtime (${onnx.provider}) on the exported model${why}`);
        const clipValues = info.config.frames * info.config.inputSize * info.config.inputSize * 3;
        return {
          info, frames: info.config.frames, size: info.config.inputSize, engine: `ONNX Runtime (${onnx.provider})`,
          async classify(clips) {
            const input = new Uint8Array(clips.length * clipValues);
            clips.forEach((clip, i) => input.set(clip, i * clipValues));
            const { clipLogits } = await onnx.run(input);
            const k = info.classNames.length;
            return clips.map((_, i) => softmax(clipLogits.subarray(i * k, (i + 1) * k)));
          },
          dispose: () => onnx.dispose(),
        };
      } catch (err) {
        if (engine === 'onnx') throw err;
        hooks.log(`ONNX Runtime unavailable (${(err as Error).message}); using TensorFlow.js`);
      }
    }
  }
  const backend = await selectBackend(options.backend ?? 'auto', options.backendSource);
  hooks.log(`inference: TensorFlow.js on ${backend.name} (${backend.reason})`);
  watchGpuDevice();
  const { network, info } = loadCheckpoint(path);
  const run = clipsPerRun(network.config, options.batch);
  if (run.note) hooks.log(run.note);
  return {
    info, frames: network.config.frames, size: network.config.inputSize, engine: `TensorFlow.js on ${backend.name}`,
    classify: (clips) => classifyWithTfjs(network, clips, info.normalization),
    dispose: async () => network.dispose(),
  };
}
