/**
 * A frozen prefix on ONNX Runtime: when fine-tuning keeps the stem and the first N stages fixed, they run as
 * one ONNX graph (BatchNorm folded, inference mode, native SIMD and every core) and only the rest of the
 * network trains on tfjs, from the feature maps this produces. The graph computes what the tfjs network's
 * frozen stages compute in inference mode, within float rounding.
 *
 * Validation clips are sampled the same way every epoch (centre frames, centre crop), so their feature maps
 * are kept between epochs within a memory budget; training clips get fresh random offsets and crops every
 * epoch, so theirs are computed anew.
 */
import { availableParallelism, totalmem } from 'node:os';
import * as ort from 'onnxruntime-node';
import { UserError } from '../errors.ts';
import type { StmConfig } from '../model/config.ts';
import { buildStmPrefixOnnx, ONNX_FEATURES_OUTPUT, ONNX_INPUT_NAME } from '../model/onnx/export.ts';
import type { StoredTensor } from '../model/safetensors.ts';
import { nativeWork } from '../model/onnx/native-work.ts';
import { cpuSessionOptions } from '../model/onnx/providers.ts';

/** Feature maps kept for validation clips: 1 GiB, or a sixteenth of the machine's memory when that is less. */
export function defaultPrefixCacheBudget(): number {
  return Math.min(2 ** 30, Math.floor(totalmem() / 16));
}

export class OnnxPrefix {
  private readonly cache = new Map<number, Float32Array>();
  private cachedBytes = 0;
  /** Clips whose maps did not fit the budget. */
  overflow = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly stages: number,
    private readonly frameValues: number,
    readonly featureValues: number,
    private readonly frames: number,
    private readonly size: number,
    readonly budgetBytes: number,
  ) {}

  /** Builds the prefix graph of `stages` stages from the run's starting weights (PyTorch names and layouts). */
  static async create(weights: ReadonlyMap<string, StoredTensor>, config: StmConfig, stages: number, options: { threads?: number; budgetBytes?: number } = {}): Promise<OnnxPrefix> {
    const { bytes, featureShape } = buildStmPrefixOnnx(weights, config, stages, { clips: 1 });
    let session: ort.InferenceSession;
    try {
      const sessionOptions = { ...cpuSessionOptions(options.threads ?? availableParallelism()), executionProviders: ['cpu'] };
      session = await nativeWork(() => ort.InferenceSession.create(bytes, sessionOptions));
    } catch (err) {
      throw new UserError('unavailable', `ONNX Runtime cannot run the frozen stages: ${(err as Error).message}`);
    }
    const size = config.inputSize;
    return new OnnxPrefix(session, stages, size * size * 3, featureShape.reduce((a, b) => a * b, 1), config.frames, size, options.budgetBytes ?? defaultPrefixCacheBudget());
  }

  /** Bytes of feature maps held for validation clips. */
  get cachedMiB(): number {
    return this.cachedBytes / 2 ** 20;
  }

  get cachedClips(): number {
    return this.cache.size;
  }

  /**
   * Feature maps of the clips in `x` (frames [clips·T, S, S, 3], normalised). With `keys` (one per clip,
   * for clips sampled the same way every time), maps computed before are reused and new ones kept.
   */
  async features(x: Float32Array, clips: number, keys?: readonly number[]): Promise<Float32Array> {
    const clipIn = this.frames * this.frameValues;
    const clipOut = this.frames * this.featureValues;
    const out = new Float32Array(clips * clipOut);
    for (let c = 0; c < clips; c++) {
      const key = keys?.[c];
      const cached = key !== undefined ? this.cache.get(key) : undefined;
      if (cached) {
        out.set(cached, c * clipOut);
        continue;
      }
      const input = new ort.Tensor('float32', x.subarray(c * clipIn, (c + 1) * clipIn), [this.frames, this.size, this.size, 3]);
      const result = await nativeWork(() => this.session.run({ [ONNX_INPUT_NAME]: input }));
      const maps = result[ONNX_FEATURES_OUTPUT].data as Float32Array;
      out.set(maps, c * clipOut);
      if (key !== undefined) this.keep(key, maps);
    }
    return out;
  }

  private keep(key: number, maps: Float32Array): void {
    if (this.cachedBytes + maps.byteLength > this.budgetBytes) {
      this.overflow += 1;
      return;
    }
    this.cache.set(key, Float32Array.from(maps));
    this.cachedBytes += maps.byteLength;
  }

  async dispose(): Promise<void> {
    this.cache.clear();
    await nativeWork(() => this.session.release());
  }
}
