/**
 * The timeline's painting and pointer logic without a browser: where clips, ticks and the playhead land, what
 * the pointer grabs, and a resize that previews locally without touching the lanes it was given.
 */
import { describe, expect, it } from 'vitest';
import { TimelineView } from '../../../src-renderer/src/lib/timeline-view.ts';
import { LANE, RULER, paintTimeline, tickFrame, timelineLayout, type Paint2D } from '../../../src-renderer/src/lib/timeline-paint.ts';
import { hitTest, resizeChanged, resizeTo, startResize, withPreview } from '../../../src-renderer/src/lib/timeline-pointer.ts';
import type { Lane } from '../../../src-renderer/src/lib/timeline-types.ts';

/** A 2D context that keeps the rectangles filled in each colour (enough to read a picture back). */
function recorder() {
  const rects: Array<{ style: string; x: number; y: number; w: number; h: number }> = [];
  const texts: Array<{ text: string; x: number }> = [];
  const ctx = {
    fillStyle: '', strokeStyle: '', globalAlpha: 1, lineWidth: 1, font: '', textBaseline: 'alphabetic',
    fillRect(x: number, y: number, w: number, h: number) {
      rects.push({ style: String(ctx.fillStyle), x, y, w, h });
    },
    fillText(text: string, x: number) {
      texts.push({ text, x });
    },
    strokeRect() {}, beginPath() {}, moveTo() {}, lineTo() {}, stroke() {}, fill() {}, drawImage() {}, save() {}, restore() {}, setLineDash() {},
  };
  return { ctx: ctx as unknown as Paint2D, rects, texts };
}

const lanes: Lane[] = [
  { key: '1', classId: 1, subject: null, name: 'open lid', color: '#aa0000', hotkey: null, clips: [{ id: 10, startFrame: 0, endFrame: 10 }, { id: 11, startFrame: 50, endFrame: 60 }] },
  { key: '2', classId: 2, subject: null, name: 'close lid', color: '#00aa00', hotkey: null, clips: [{ id: 20, startFrame: 40, endFrame: 80 }] },
];

function fitted(width = 1000, frames = 100): TimelineView {
  const view = new TimelineView();
  view.fit(width, frames);
  return view;
}

describe('timeline painting', () => {
  it('puts each clip on its lane at its frames, and the playhead at its frame', () => {
    const view = fitted();
    const layout = timelineLayout(0, lanes.length, false);
    const { ctx, rects } = recorder();
    paintTimeline(ctx, {
      width: 1000, layout, view, fps: 25, pts: Float64Array.from({ length: 100 }, (_, i) => i / 25), duration: 4, frame: 30,
      lanes, maxClipLength: [10, 40], heat: [], pyramids: [], columns: new Float32Array(1000), filmstrip: null,
      inFrame: null, outFrame: null, selectedClipId: null, activeClassId: null,
    });
    const closeLid = rects.filter((r) => r.style === '#00aa00');
    expect(closeLid).toEqual([{ style: '#00aa00', x: 400, y: layout.lanesTop + LANE + 2, w: 400, h: LANE - 5 }]);
    expect(rects.filter((r) => r.style === '#aa0000').map((r) => [r.x, r.w])).toEqual([[0, 100], [500, 100]]);
    const playhead = rects.find((r) => r.style === '#ffd166')!;
    expect(playhead.x + playhead.w / 2).toBeCloseTo(305, 0);
    expect(layout.lanesTop).toBe(RULER);
  });

  it('places second ticks on the decoded timestamps of variable-frame-rate video', () => {
    // 10 frames at 10 fps, then 10 at 30 fps: 1 s is frame 10, 1.2 s is frame 16.
    const pts = Float64Array.from([...Array.from({ length: 10 }, (_, i) => i * 0.1), ...Array.from({ length: 10 }, (_, i) => 1 + i / 30)]);
    expect(tickFrame(pts, 1, 1 + 10 / 30, 30)).toBeCloseTo(10, 6);
    expect(tickFrame(pts, 1.2, 1 + 10 / 30, 30)).toBeCloseTo(16, 6);
    expect(tickFrame(pts, 0.55, 1 + 10 / 30, 30)).toBeCloseTo(5.5, 6);
  });
});

describe('timeline pointer', () => {
  it('grabs a clip edge within 5 px, the clip inside, and the lane elsewhere', () => {
    const view = fitted();
    const top = timelineLayout(0, 2, false).lanesTop;
    const y = top + LANE + LANE / 2;
    expect(hitTest(view, lanes, [10, 40], top, 403, y)).toMatchObject({ clip: { id: 20 }, edge: 'start' });
    expect(hitTest(view, lanes, [10, 40], top, 600, y)).toMatchObject({ clip: { id: 20 }, edge: null });
    expect(hitTest(view, lanes, [10, 40], top, 900, y)).toMatchObject({ lane: { classId: 2 }, clip: null });
    expect(hitTest(view, lanes, [10, 40], top, 600, top - 1)).toBeNull();
  });

  it('previews a resize over the lanes without changing them, at least one frame long and inside the video', () => {
    const before = JSON.stringify(lanes);
    let drag = startResize(lanes[1].clips[0], 'end');
    drag = { ...drag, preview: resizeTo(drag, 95, 100) };
    expect(drag.preview).toEqual({ clipId: 20, startFrame: 40, endFrame: 95 });
    expect(resizeTo(drag, 120, 100).endFrame).toBe(100);
    expect(resizeTo(drag, 10, 100).endFrame).toBe(41);
    expect(resizeChanged(drag)).toBe(true);
    const shown = withPreview(lanes, drag.preview);
    expect(shown[1].clips[0]).toEqual({ id: 20, startFrame: 40, endFrame: 95 });
    expect(shown[0]).toBe(lanes[0]);
    expect(JSON.stringify(lanes)).toBe(before);
  });
});
