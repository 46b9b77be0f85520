import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { checkpointInfoFromMetadata } from './checkpoint.ts';
import { transposeArray } from './layout.ts';
import { createStmNetwork } from './network.ts';
import { readSafetensors, writeSafetensors, type SafetensorsFile, type StoredTensor } from './safetensors.ts';

export interface ForwardFileRequest {
  /** Weights with PyTorch names; `__metadata__` gives layers, base_width, frames, classes, variant. */
  weights: string;
  /** Clips in PyTorch layout [clips·T, 3, S, S], frames of a clip contiguous, already normalised. */
  input: string;
  /** Tensor to read from the input file; default: its only tensor, else `input`, else `golden.input`. */
  inputKey?: string;
  out: string;
  /** Also write the feature maps `stem`, `layer1` … `layer4` (NCHW, as PyTorch has them) to compare runs stage by stage. */
  features?: boolean;
}

export interface ForwardFileResult {
  out: string;
  clips: number;
  frames: number;
  classes: number;
  size: number;
  inputKey: string;
}

/** Runs the network a weights file describes over the clips of an input file and writes both logits. */
export async function forwardFile(request: ForwardFileRequest): Promise<ForwardFileResult> {
  const weights = readSafetensors(request.weights);
  const info = checkpointInfoFromMetadata(weights.metadata, request.weights);
  const inputFile = request.input === request.weights ? weights : readSafetensors(request.input);
  const inputKey = request.inputKey ?? defaultInputKey(inputFile, request.input);
  const input = inputFile.tensors.get(inputKey);
  if (!input) {
    throw new UserError('invalid_input', `${request.input} has no tensor "${inputKey}" (it has: ${[...inputFile.tensors.keys()].slice(0, 8).join(', ')})`);
  }
  const { frames } = info.config;
  const [count, channels, height, width] = input.shape;
  if (input.dtype !== 'F32' || input.shape.length !== 4 || channels !== 3 || height !== width || count % frames !== 0) {
    throw new UserError(
      'invalid_input',
      `${request.input}: tensor "${inputKey}" must be float [clips·${frames}, 3, S, S], got ${input.dtype} [${input.shape.join(', ')}]`,
    );
  }
  const network = createStmNetwork({ ...info.config, inputSize: height }, { weights: weights.tensors, source: request.weights });
  try {
    const nhwc = transposeArray(input.data as Float32Array, input.shape, [0, 2, 3, 1]);
    const x = tf.tensor4d(nhwc, [count, height, width, 3]);
    const { frameLogits, clipLogits } = network.forward(x);
    const outputs = new Map<string, StoredTensor>([
      ['frame_logits', { dtype: 'F32', shape: [...frameLogits.shape], data: (await frameLogits.data()) as Float32Array }],
      ['clip_logits', { dtype: 'F32', shape: [...clipLogits.shape], data: (await clipLogits.data()) as Float32Array }],
    ]);
    tf.dispose([frameLogits, clipLogits]);
    if (request.features) {
      const taps = network.features(x);
      for (const [name, map] of Object.entries(taps)) {
        const [n, h, w, c] = map.shape;
        outputs.set(name, { dtype: 'F32', shape: [n, c, h, w], data: transposeArray((await map.data()) as Float32Array, map.shape, [0, 3, 1, 2]) });
      }
      tf.dispose(Object.values(taps));
    }
    x.dispose();
    writeSafetensors(request.out, outputs, { weights: request.weights, input: `${request.input}:${inputKey}`, backend: tf.getBackend() });
    return { out: request.out, clips: count / frames, frames, classes: info.config.classes, size: height, inputKey };
  } finally {
    network.dispose();
  }
}

function defaultInputKey(file: SafetensorsFile, label: string): string {
  if (file.tensors.size === 1) return [...file.tensors.keys()][0];
  for (const key of ['input', 'golden.input']) if (file.tensors.has(key)) return key;
  throw new UserError('invalid_input', `${label} holds several tensors; name the input with --input-key`);
}
