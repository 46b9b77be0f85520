import { describe, expect, it } from 'vitest';
import { evaluate, jensenShannon, softmax } from '../../../src-main/core/figures/metrics.ts';
import { windowsToSegments } from '../../../src-main/core/jobs/segments.ts';
import { probeOutcome, summarizeProbe, type ProbeClipRecord } from '../../../src-main/core/figures/probe-summary.ts';
import { splitClips } from '../../../src-main/core/jobs/split.ts';
import { flipHorizontal } from '../../../src-main/core/jobs/dataset.ts';

describe('evaluation figures', () => {
  it('gives top-1, per-class precision/recall/F1 and the confusion matrix', () => {
    // truth: a a a b b c ; predicted: a a b b b a
    const e = evaluate([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0], ['a', 'b', 'c']);
    expect(e.top1).toBeCloseTo(4 / 6);
    expect(e.confusion).toEqual([[2, 1, 0], [0, 2, 0], [1, 0, 0]]);
    expect(e.perClass.a.precision).toBeCloseTo(2 / 3);
    expect(e.perClass.a.recall).toBeCloseTo(2 / 3);
    expect(e.perClass.b.precision).toBeCloseTo(2 / 3);
    expect(e.perClass.b.recall).toBe(1);
    expect(e.perClass.b.f1).toBeCloseTo(0.8);
    expect(e.perClass.c).toEqual({ precision: 0, recall: 0, f1: 0, support: 1 });
  });

  it('softmax sums to 1 and Jensen–Shannon is 0 for equal and 1 bit for disjoint distributions', () => {
    const p = softmax([1000, 1001, 999]);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    expect(jensenShannon(p, p)).toBeCloseTo(0, 9);
    expect(jensenShannon([1, 0], [0, 1])).toBeCloseTo(1, 9);
    expect(jensenShannon([0.5, 0.5], [0.9, 0.1])).toBeGreaterThan(0);
  });
});

describe('segments from windows', () => {
  const classes = ['walk', 'run'];
  it('joins consecutive windows of one label and drops short runs', () => {
    const windows = [
      { startFrame: 0, endFrame: 10, probabilities: [0.9, 0.1] },
      { startFrame: 10, endFrame: 20, probabilities: [0.8, 0.2] },
      { startFrame: 20, endFrame: 30, probabilities: [0.1, 0.9] },
      { startFrame: 30, endFrame: 33, probabilities: [0.7, 0.3] }, // 3 frames: too short
    ];
    const segments = windowsToSegments(windows, classes, { minFrames: 5 });
    expect(segments).toEqual([
      { startFrame: 0, endFrame: 20, label: 'walk', meanScore: expect.closeTo(0.85, 6) },
      { startFrame: 20, endFrame: 30, label: 'run', meanScore: expect.closeTo(0.9, 6) },
    ]);
  });

  it('averages overlapping windows per frame and respects per-class thresholds', () => {
    const windows = [
      { startFrame: 0, endFrame: 20, probabilities: [0.6, 0.4] },
      { startFrame: 10, endFrame: 30, probabilities: [0.2, 0.8] },
    ];
    // frames 10..20 average to [0.4, 0.6] → run; run needs 0.7 though, so only frames 20..30 (0.8) carry it.
    const segments = windowsToSegments(windows, classes, { thresholds: { run: 0.7 } });
    expect(segments.map((s) => [s.label, s.startFrame, s.endFrame])).toEqual([
      ['walk', 0, 10],
      ['run', 20, 30],
    ]);
  });
});

describe('reversal probe summary', () => {
  const classes = ['open', 'close', 'wave'];
  const partners: Record<string, string> = { open: 'close', close: 'open' };
  const record = (label: string, expected: string, fwd: number[], rev: number[]): ProbeClipRecord => ({
    label,
    paired: expected !== label,
    ...probeOutcome(classes, fwd, rev, expected, (name) => partners[name] ?? null),
  });
  it('counts a flip only where the prediction itself flipped, and invariance where its class has no partner', () => {
    const records = [
      record('open', 'close', [0.8, 0.1, 0.1], [0.1, 0.8, 0.1]), // open → close: flipped, as expected
      record('open', 'close', [0.8, 0.1, 0.1], [0.7, 0.2, 0.1]), // open both ways: did not flip
      record('close', 'open', [0.1, 0.8, 0.1], [0.9, 0.05, 0.05]), // close → open: flipped
      record('wave', 'wave', [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]), // invariant
      record('open', 'close', [0.1, 0.8, 0.1], [0.1, 0.8, 0.1]), // misread as close both ways: reversed "as expected", not a flip
    ];
    expect(records.map((r) => r.flipped)).toEqual([true, false, true, false, false]);
    expect(records.map((r) => r.invariant)).toEqual([false, false, false, true, false]);
    expect(records.map((r) => r.reversedAsExpected)).toEqual([true, false, true, true, true]);
    expect(records[4].forwardPartner).toBe('open');
    const summary = summarizeProbe(records);
    expect(summary.clips).toBe(5);
    expect(summary.flipRate).toBeCloseTo(2 / 4);
    expect(summary.invarianceRate).toBe(1);
    expect(summary.reversedAsExpectedRate).toBeCloseTo(4 / 5);
    expect(summary.forwardAccuracy).toBeCloseTo(4 / 5);
    expect(records[3].jsDivergence).toBeCloseTo(0, 9);
    expect(summary.meanDivergence).toBeGreaterThan(0);
    const open = summary.perClass.find((c) => c.label === 'open');
    expect(open).toMatchObject({ clips: 3, paired: true, expectedReversed: 'close' });
    expect(open!.matchRate).toBeCloseTo(2 / 3);
  });
});

describe('train/validation split', () => {
  const clips = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5].map((videoId, i) => ({
    id: i + 1,
    videoId,
    classId: i % 2,
    split: null as 'train' | 'val' | null,
  }));
  it('never puts clips of one video on both sides and keeps every class in training', () => {
    const { train, val } = splitClips(clips, 'video', { valFraction: 0.4, seed: 7 });
    expect(train.length + val.length).toBe(clips.length);
    expect(val.length).toBeGreaterThan(0);
    const trainVideos = new Set(train.map((c) => c.videoId));
    expect(val.every((c) => !trainVideos.has(c.videoId))).toBe(true);
    expect(new Set(train.map((c) => c.classId)).size).toBe(2);
  });
  it('uses the split stored on the clips when fixed', () => {
    const fixed = clips.map((c) => ({ ...c, split: c.videoId === 3 ? ('val' as const) : ('train' as const) }));
    const { val } = splitClips(fixed, 'fixed');
    expect(val.map((c) => c.id)).toEqual([5, 6]);
  });
  it('says why there is no validation with one video', () => {
    const one = clips.map((c) => ({ ...c, videoId: 1 }));
    const s = splitClips(one, 'video');
    expect(s.val).toEqual([]);
    expect(s.note).toMatch(/one video/);
  });
});

describe('horizontal flip (training augmentation for flip-safe classes)', () => {
  it('mirrors every row of every frame and leaves the colours alone', () => {
    // 2 frames of 2×2 RGB pixels: pixel value = frame·100 + row·10 + column.
    const clip = new Uint8Array(2 * 2 * 2 * 3);
    for (let t = 0; t < 2; t++) for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) clip.fill(t * 100 + y * 10 + x, ((t * 2 + y) * 2 + x) * 3, ((t * 2 + y) * 2 + x + 1) * 3);
    const flipped = flipHorizontal(clip, 2);
    const pixel = (data: Uint8Array, t: number, y: number, x: number) => data[((t * 2 + y) * 2 + x) * 3];
    expect(pixel(flipped, 1, 1, 0)).toBe(111);
    expect(pixel(flipped, 1, 1, 1)).toBe(110);
    expect(pixel(flipped, 0, 0, 0)).toBe(1);
    expect(flipHorizontal(flipped, 2)).toEqual(clip);
  });
});
