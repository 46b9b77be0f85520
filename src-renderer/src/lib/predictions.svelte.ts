import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';
import type { HeatTrack } from './timeline-types.ts';
import type { Segment, WindowsResult } from '../../../src-main/api/contract/jobs.ts';

/**
 * The current video's predictions by one model as heat tracks: per class, forward above reversed. A
 * comparison instance skips segments, which the timeline draws only for the primary model.
 */
export class PredictionTracks {
  shown = $state(true);
  threshold = $state(0.5);
  forward = $state.raw<WindowsResult | null>(null);
  reversed = $state.raw<WindowsResult | null>(null);
  segments = $state.raw<Segment[]>([]);
  private key = '';

  constructor(private readonly withSegments: boolean) {}

  async load(videoId: number | null, modelId: number | null, force = false): Promise<void> {
    const key = `${videoId}:${modelId}:${this.withSegments ? this.threshold : ''}`;
    if (!force && key === this.key) return;
    this.key = key;
    if (videoId === null || modelId === null) {
      this.forward = this.reversed = null;
      this.segments = [];
      return;
    }
    try {
      const [forward, reversed, segments] = await Promise.all([
        api.call('predictions.windows', { videoId, modelId, direction: 'forward' }),
        api.call('predictions.windows', { videoId, modelId, direction: 'reversed' }),
        this.withSegments ? api.call('predictions.segments', { videoId, modelId, defaultThreshold: this.threshold }) : [],
      ]);
      if (key !== this.key) return;
      this.forward = forward;
      this.reversed = reversed;
      this.segments = segments;
    } catch (err) {
      wb.fail(err);
    }
  }

  /**
   * Colours by class name from the project's classes (the model may know classes the project lost).
   * `comparedModel` names the model when these rows are the comparison's.
   */
  tracks(colorOf: (name: string) => string, comparedModel: string | null = null): HeatTrack[] {
    if (!this.shown) return [];
    const out: HeatTrack[] = [];
    const classes = this.forward?.classes ?? this.reversed?.classes ?? [];
    classes.forEach((name, c) => {
      for (const [direction, result] of [['forward', this.forward], ['reversed', this.reversed]] as const) {
        if (!result || result.windows.length === 0) continue;
        const n = result.windows.length;
        const starts = new Int32Array(n);
        const ends = new Int32Array(n);
        const probs = new Float32Array(n);
        const sorted = [...result.windows].sort((a, b) => a.startFrame - b.startFrame);
        sorted.forEach((w, i) => {
          starts[i] = w.startFrame;
          ends[i] = w.endFrame;
          probs[i] = w.probabilities[c] ?? 0;
        });
        out.push({
          key: `${comparedModel === null ? 'primary' : 'compared'}:${name}:${direction}`,
          label: name,
          color: colorOf(name),
          direction,
          comparedModel,
          starts,
          ends,
          probs,
          segments: direction === 'forward' ? this.segments.filter((s) => s.label === name) : [],
        });
      }
    });
    return out;
  }

  get hasAny(): boolean {
    return Boolean(this.forward?.windows.length || this.reversed?.windows.length);
  }
}

/** Each class's comparison rows right below the primary rows of the same class, in the primary's class order. */
export function withComparison(primary: HeatTrack[], compared: HeatTrack[]): HeatTrack[] {
  if (compared.length === 0) return primary;
  const out: HeatTrack[] = [];
  const placed = new Set<string>();
  for (const [i, track] of primary.entries()) {
    out.push(track);
    if (primary[i + 1]?.label === track.label) continue;
    out.push(...compared.filter((t) => t.label === track.label));
    placed.add(track.label);
  }
  out.push(...compared.filter((t) => !placed.has(t.label)));
  return out;
}

export const predictions = new PredictionTracks(true);
/** A second model's tracks shown under the primary one's, "old vs new classifier". */
export const comparison = new PredictionTracks(false);
/** The model chosen to compare with (kept across views); null shows no comparison. */
export const compareWith = $state<{ modelId: number | null }>({ modelId: null });
