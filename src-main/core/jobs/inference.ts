/**
 * Batched inference shared by predict and probe: uint8 clips in, class probabilities out. Runs the tfjs
 * network, or the same network exported to ONNX Runtime (faster on CPU), with identical sampling.
 */
import * as tf from '@tensorflow/tfjs';
import type { Project } from '../store/project.ts';
import type { ModelRecord } from '../store/models.ts';
import type { StmNetwork } from '../model/network.ts';
import type { CheckpointInfo, Normalization } from '../model/checkpoint.ts';
import { readCheckpointInfo } from '../model/checkpoint.ts';
import { createOnnxClassifier } from '../model/onnx/runner.ts';
import { planBackend, selectBackend, type BackendName, type PreferenceOrigin } from '../compute/backends.ts';
import { clipsPerRun, watchGpuDevice, whileDeviceAlive } from '../compute/webgpu-device.ts';
import { normalizeInto } from './dataset.ts';
import { softmax } from './metrics.ts';
import { loadProjectModel, weightsFileOf } from './model-files.ts';
import type { JobHooks } from './types.ts';

/** `auto`: ONNX Runtime unless tfjs has a GPU backend; `tfjs` / `onnx` force one. */
export type InferenceEngine = 'auto' | 'tfjs' | 'onnx';

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

export async function openClassifier(
  project: Project,
  modelId: number,
  options: { engine?: InferenceEngine; backend?: BackendName | 'auto'; backendSource?: PreferenceOrigin; batch: number },
  hooks: Pick<JobHooks, 'log'>,
): Promise<Classifier> {
  const engine = options.engine ?? 'auto';
  const model = project.models.require(modelId);
  if (engine !== 'tfjs') {
    const planned = engine === 'auto' ? await planBackend(options.backend ?? 'auto', options.backendSource) : null;
    if (!planned || !GPU_BACKENDS.includes(planned.name)) {
      try {
        const path = weightsFileOf(project, model);
        const info = readCheckpointInfo(path);
        const onnx = await createOnnxClassifier({ weights: path, input: 'uint8-nhwc', clipsPerRun: options.batch });
        const why = planned ? `, faster than TensorFlow.js on ${planned.name} (${planned.reason})` : '';
        hooks.log(`inference: ONNX Runtime (${onnx.provider}) on the exported model${why}`);
        const clipValues = info.config.frames * info.config.inputSize * info.config.inputSize * 3;
        return {
          model, info, frames: info.config.frames, size: info.config.inputSize,
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
  const { network, info } = loadProjectModel(project, modelId);
  const run = clipsPerRun(network.config, options.batch);
  if (run.note) hooks.log(run.note);
  return {
    model, info, frames: network.config.frames, size: network.config.inputSize,
    classify: (clips) => classifyWithTfjs(network, clips, info.normalization),
    dispose: async () => network.dispose(),
  };
}
