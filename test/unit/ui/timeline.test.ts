import { describe, expect, it } from 'vitest';
import { TimelineView, firstVisible, tickStep } from '../../../src-renderer/src/lib/timeline-view.ts';
import { frameAfterSeconds, frameAtTime, formatTime, seekTimeOf, timeOfFrame } from '../../../src-renderer/src/lib/frames.ts';

// A variable-frame-rate clock: 10 frames at 10 fps, then 10 frames at 30 fps.
const vfr = Float64Array.from([...Array.from({ length: 10 }, (_, i) => i * 0.1), ...Array.from({ length: 10 }, (_, i) => 1 + i / 30)]);
const vfrDuration = 1 + 10 / 30;

describe('frame clock on decoded timestamps', () => {
  it('maps every frame time (and the seek target) back to the same frame, VFR included', () => {
    for (let f = 0; f < vfr.length; f++) {
      expect(frameAtTime(vfr, vfr[f])).toBe(f);
      expect(frameAtTime(vfr, seekTimeOf(vfr, f, vfrDuration))).toBe(f);
    }
  });

  it('steps one second by timestamps, not by frame count × fps', () => {
    expect(frameAfterSeconds(vfr, 0, 1)).toBe(10);
    expect(frameAfterSeconds(vfr, 10, -1)).toBe(0);
    expect(frameAfterSeconds(vfr, 15, 5)).toBe(19);
  });

  it('gives the duration for an exclusive end past the last frame and formats times', () => {
    expect(timeOfFrame(vfr, 20, vfrDuration)).toBeCloseTo(vfrDuration);
    expect(formatTime(83.25)).toBe('1:23.250');
    expect(formatTime(3723.5)).toBe('1:02:03.500');
  });
});

describe('timeline view', () => {
  it('zooms around the cursor: the frame under the pointer stays put', () => {
    const view = new TimelineView();
    view.fit(1000, 100_000);
    const x = 730;
    const before = view.frameAt(x);
    view.zoomAround(x, 8);
    expect(view.frameAt(x)).toBeCloseTo(before, 6);
    view.zoomAround(x, 1 / 3);
    expect(view.frameAt(x)).toBeCloseTo(before, 6);
  });

  it('never zooms out past the whole video nor pans outside it', () => {
    const view = new TimelineView();
    view.fit(800, 5000);
    view.zoomAround(400, 0.01);
    expect(view.start).toBe(0);
    expect(view.end).toBeCloseTo(5000);
    view.zoomAround(0, 10);
    view.panBy(-1e6);
    expect(view.start).toBe(0);
    view.panBy(1e9);
    expect(view.end).toBeCloseTo(5000);
  });

  it('reveals the playhead when it leaves the visible range', () => {
    const view = new TimelineView();
    view.fit(500, 10_000);
    view.zoomAround(0, 20);
    view.reveal(4000);
    expect(view.start).toBeLessThanOrEqual(4000);
    expect(view.end).toBeGreaterThan(4001);
  });

  it('picks readable ticks: frames when zoomed in, seconds when zoomed out', () => {
    expect(tickStep(40, 30)).toEqual({ frames: 2, unit: 'frame' });
    expect(tickStep(0.05, 30).unit).toBe('second');
  });

  it('finds where the visible clips start among thousands sorted by start', () => {
    const clips = Array.from({ length: 10_000 }, (_, i) => ({ startFrame: i * 10, endFrame: i * 10 + 5 }));
    const first = firstVisible(clips, 50_000, 5);
    expect(clips[first].endFrame).toBeGreaterThanOrEqual(50_000 - 5);
    expect(first === 0 || clips[first - 1].startFrame < 50_000 - 5).toBe(true);
  });
});
