/**
 * Training's clip frame cache. Training samples every labelled span again each epoch (and for validation and
 * BatchNorm statistics); starting ffmpeg per clip and per epoch costs more than the small models' steps. So
 * each span is decoded once, whole, at up to twice the size crops are planned on (short side S·256/224),
 * kept in memory, and every later sample is cropped and resized in JS. Spans beyond the memory budget are
 * sampled with ffmpeg as before. Random draws happen in the same order either way, so runs stay
 * reproducible.
 */
import { totalmem } from 'node:os';
import { assembleClip, decodeSpan, planSample, sampleFrames, type DecodableVideo, type DecodedSpan, type SampleOptions, type SampledClip } from '../media/decode.ts';
import type { FfmpegTools } from '../media/locate.ts';
import { cropResize } from '../media/sampling.ts';

/** The default budget: 1 GiB, or an eighth of the machine's memory when that is less. */
export function defaultFrameCacheBudget(): number {
  return Math.min(2 ** 30, Math.floor(totalmem() / 8));
}

/**
 * The size spans are held at: the source size, at most twice the planned scale. Training's smallest crops
 * (0.66 of the short side) then still resample from at least as many pixels as ffmpeg reads for them, so
 * cached and directly decoded samples look alike.
 */
function heldSize(displayWidth: number, displayHeight: number, scaledWidth: number, scaledHeight: number): { width: number; height: number } {
  const factor = Math.min(2, displayWidth / scaledWidth);
  if (factor <= 1) return { width: scaledWidth, height: scaledHeight };
  // Even sides, as the scaler's 4:2:0 input prefers; the crops are planned in relative terms anyway.
  const even = (n: number) => Math.max(2, 2 * Math.round(n / 2));
  return { width: even(scaledWidth * factor), height: even(scaledHeight * factor) };
}

export interface FrameCacheUse {
  /** Spans held in memory. */
  spans: number;
  bytes: number;
  /** Spans that did not fit the budget and are decoded per sample. */
  overflow: number;
}

export class ClipFrameCache {
  private readonly spans = new Map<string, Promise<DecodedSpan>>();
  private readonly overflow = new Set<string>();
  private reserved = 0;

  constructor(
    private readonly tools: FfmpegTools,
    readonly budgetBytes: number = defaultFrameCacheBudget(),
  ) {}

  /** `sampleClip`'s result for a clip of `video`, served from memory once the span has been decoded. */
  async sample(video: DecodableVideo, opts: SampleOptions): Promise<SampledClip> {
    // The random draws happen here, exactly as sampleClip makes them, whichever path serves the clip.
    const { indices, geometry } = planSample(video, opts);
    const held = heldSize(video.displayWidth!, video.displayHeight!, geometry.scaledWidth, geometry.scaledHeight);
    const key = `${video.path}\n${opts.start}:${opts.end}@${held.width}x${held.height}`;
    let span = this.spans.get(key);
    if (!span) {
      const bytes = (opts.end - opts.start) * held.width * held.height * 3;
      if (this.overflow.has(key) || this.reserved + bytes > this.budgetBytes) {
        this.overflow.add(key);
        return sampleFrames(this.tools, video, { indices, geometry, reversed: opts.reversed, signal: opts.signal });
      }
      this.reserved += bytes;
      span = decodeSpan(this.tools, video, { start: opts.start, end: opts.end, ...held, signal: opts.signal });
      // A failed decode is not kept: the error reaches this caller, and a later sample tries again.
      span.catch(() => {
        this.spans.delete(key);
        this.reserved -= bytes;
      });
      this.spans.set(key, span);
    }
    const decoded = await span;
    const frameBytes = decoded.width * decoded.height * 3;
    return assembleClip(indices, opts.size * opts.size * 3, opts.reversed, (frame) => {
      const offset = (frame - decoded.start) * frameBytes;
      return cropResize(decoded.data.subarray(offset, offset + frameBytes), decoded.width, decoded.height, geometry);
    });
  }

  get use(): FrameCacheUse {
    return { spans: this.spans.size, bytes: this.reserved, overflow: this.overflow.size };
  }
}
