/**
 * Batch inference through ONNX Runtime (onnxruntime-node, CPU binaries bundled; CUDA opt-in).
 *
 *   const classifier = await createOnnxClassifier({ weights: 'models/3.safetensors', clipsPerRun: 1 }, { threads: 2 });
 *   const { frameLogits, clipLogits } = await classifier.run(frames); // Float32Array [clips·T, 3, S, S], normalised
 *   await classifier.dispose();
 *
 * Works inside worker threads. Frames are sampled and normalised exactly as for the tfjs network
 * (`classifier.model` gives T, S and the normalisation); `uint8-nhwc` models take the raw RGB bytes instead.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { UserError } from '../../errors.ts';
import type { Normalization } from '../checkpoint.ts';
import { ONNX_INPUT_NAME, ONNX_OUTPUTS, type OnnxInputFormat } from './export.ts';
import { onnxFromWeights } from './export-file.ts';
import { cpuSessionOptions, cudaProviderStatus } from './providers.ts';
import { nativeWork } from './native-work.ts';

/**
 * Where the network comes from: an exported `.onnx` file, or a weights/checkpoint file exported in memory
 * with a fixed batch of `clipsPerRun` clips (default 1), which ONNX Runtime optimises better than a dynamic one.
 */
export type OnnxModelSource = { onnxPath: string } | { weights: string; input?: OnnxInputFormat; clipsPerRun?: number };

export type OnnxProvider = 'cpu' | 'cuda';

export interface OnnxRunnerOptions {
  /** Intra-op threads; default: every core. */
  threads?: number;
  /** `cuda` is opt-in; when it cannot load, the classifier runs on CPU and says why in `providerNote`. */
  provider?: OnnxProvider;
}

/** What the exported network expects and produces. */
export interface OnnxModelInfo {
  frames: number;
  size: number;
  classes: number;
  inputFormat: OnnxInputFormat;
  /** Clips per session run when the graph's batch is fixed; null for a dynamic batch. */
  clipsPerRun: number | null;
  classNames: string[] | null;
  normalization: Normalization | null;
}

export interface OnnxLogits {
  clips: number;
  /** [clips·T, classes], row-major. */
  frameLogits: Float32Array;
  /** [clips, classes], the mean of each clip's T frame logits. */
  clipLogits: Float32Array;
}

export interface OnnxClassifier {
  readonly model: OnnxModelInfo;
  /** The provider that runs the network. */
  readonly provider: OnnxProvider;
  /** Why the requested provider is not the one in use (null when it is). */
  readonly providerNote: string | null;
  /**
   * Runs any number of clips. `float-nchw`: Float32Array [clips·T, 3, S, S] normalised;
   * `uint8-nhwc`: Uint8Array [clips·T, S, S, 3] raw RGB. The T frames of each clip are contiguous.
   * A fixed-batch model runs them `clipsPerRun` at a time, the last run padded with blank clips.
   */
  run(input: Float32Array | Uint8Array): Promise<OnnxLogits>;
  dispose(): Promise<void>;
}

/** Opens an STM network in ONNX Runtime (CPU by default) for batch inference. */
export async function createOnnxClassifier(source: OnnxModelSource, options: OnnxRunnerOptions = {}): Promise<OnnxClassifier> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new UserError('invalid_input', `ONNX threads must be a positive integer, got ${threads}`);
  const { bytes, model, label } = loadModel(source);
  const base = cpuSessionOptions(threads);
  let provider: OnnxProvider = 'cpu';
  let providerNote: string | null = null;
  let session: ort.InferenceSession | null = null;
  if (options.provider === 'cuda') {
    const cuda = cudaProviderStatus();
    if (cuda.available) {
      try {
        session = await nativeWork(() => ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda', 'cpu'] }));
        provider = 'cuda';
      } catch (err) {
        providerNote = `CUDA provider failed to start: ${(err as Error).message}`;
      }
    } else {
      providerNote = cuda.reason;
    }
  }
  try {
    session ??= await nativeWork(() => ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] }));
  } catch (err) {
    throw new UserError('invalid_input', `${label}: ONNX Runtime cannot load the model: ${(err as Error).message}`);
  }
  const batch = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape[0] : undefined;
  const clipsPerRun = typeof batch === 'number' ? batch / model.frames : null;
  return new SessionClassifier(session, { ...model, clipsPerRun }, provider, providerNote);
}

class SessionClassifier implements OnnxClassifier {
  private readonly frameValues: number;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly model: OnnxModelInfo,
    readonly provider: OnnxProvider,
    readonly providerNote: string | null,
  ) {
    this.frameValues = 3 * model.size * model.size;
  }

  async run(input: Float32Array | Uint8Array): Promise<OnnxLogits> {
    const { frames, size, inputFormat } = this.model;
    const float = inputFormat === 'float-nchw';
    if (float !== input instanceof Float32Array) {
      throw new UserError('invalid_input', `the ONNX model takes ${float ? 'Float32Array' : 'Uint8Array'} frames (${inputFormat}), got ${input.constructor.name}`);
    }
    const count = input.length / this.frameValues;
    if (!Number.isInteger(count) || count === 0 || count % frames !== 0) {
      const shape = float ? `[clips·${frames}, 3, ${size}, ${size}]` : `[clips·${frames}, ${size}, ${size}, 3]`;
      throw new UserError('invalid_input', `ONNX input must be ${shape}; ${input.length} values are not a whole number of ${frames}-frame clips`);
    }
    const clips = count / frames;
    const perRun = this.model.clipsPerRun ?? clips;
    if (perRun === clips) return { clips, ...(await this.runBatch(input, clips)) };
    const clipValues = frames * this.frameValues;
    const frameLogits = new Float32Array(clips * frames * this.model.classes);
    const clipLogits = new Float32Array(clips * this.model.classes);
    for (let first = 0; first < clips; first += perRun) {
      const taken = Math.min(perRun, clips - first);
      let chunk = input.subarray(first * clipValues, (first + taken) * clipValues);
      if (taken < perRun) {
        const padded = float ? new Float32Array(perRun * clipValues) : new Uint8Array(perRun * clipValues);
        padded.set(chunk);
        chunk = padded;
      }
      const out = await this.runBatch(chunk, perRun);
      frameLogits.set(out.frameLogits.subarray(0, taken * frames * this.model.classes), first * frames * this.model.classes);
      clipLogits.set(out.clipLogits.subarray(0, taken * this.model.classes), first * this.model.classes);
    }
    return { clips, frameLogits, clipLogits };
  }

  private async runBatch(input: Float32Array | Uint8Array, clips: number): Promise<Omit<OnnxLogits, 'clips'>> {
    const { frames, size } = this.model;
    const count = clips * frames;
    const float = input instanceof Float32Array;
    const tensor = float ? new ort.Tensor('float32', input, [count, 3, size, size]) : new ort.Tensor('uint8', input, [count, size, size, 3]);
    const out = await nativeWork(() => this.session.run({ [ONNX_INPUT_NAME]: tensor }));
    return {
      frameLogits: out[ONNX_OUTPUTS.frameLogits].data as Float32Array,
      clipLogits: out[ONNX_OUTPUTS.clipLogits].data as Float32Array,
    };
  }

  async dispose(): Promise<void> {
    await nativeWork(() => this.session.release());
  }
}

function loadModel(source: OnnxModelSource): { bytes: Uint8Array; model: Omit<OnnxModelInfo, 'clipsPerRun'>; label: string } {
  if ('weights' in source) {
    const { bytes } = onnxFromWeights(source.weights, { input: source.input, clips: source.clipsPerRun ?? 1 });
    return { bytes, model: modelInfoFromMetadata(readOnnxMetadata(bytes, source.weights), source.weights), label: source.weights };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(source.onnxPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${source.onnxPath}: ${(err as Error).message}`);
  }
  return { bytes, model: modelInfoFromMetadata(readOnnxMetadata(bytes, source.onnxPath), source.onnxPath), label: source.onnxPath };
}

/** The `metadata_props` of an ONNX model (the weights stay where they are: bytes fields decode as views). */
export function readOnnxMetadata(bytes: Uint8Array, label: string): Record<string, string> {
  let decoded: { metadataProps: { key?: string | null; value?: string | null }[] };
  try {
    decoded = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new UserError('invalid_input', `${label}: not an ONNX model (${(err as Error).message})`);
  }
  return Object.fromEntries(decoded.metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
}

function modelInfoFromMetadata(metadata: Record<string, string>, label: string): Omit<OnnxModelInfo, 'clipsPerRun'> {
  const integer = (key: string): number => {
    const n = Number(metadata[key]);
    if (!Number.isInteger(n) || n < 1) throw new UserError('invalid_input', `${label}: not an STM Studio ONNX export (metadata "${key}" is missing or not a positive integer)`);
    return n;
  };
  const format = metadata.input_format;
  if (format !== 'float-nchw' && format !== 'uint8-nhwc') {
    throw new UserError('invalid_input', `${label}: not an STM Studio ONNX export (unknown input_format "${format ?? ''}")`);
  }
  return {
    frames: integer('frames'),
    size: integer('size'),
    classes: integer('classes'),
    inputFormat: format,
    classNames: metadata.class_names ? (JSON.parse(metadata.class_names) as string[]) : null,
    normalization: metadata.normalization ? (JSON.parse(metadata.normalization) as Normalization) : null,
  };
}
