/**
 * What the pointer does on the timeline: which clip (or clip edge) is under it, and the drag it starts —
 * scrubbing the playhead, panning, or resizing a clip. A resize is a local preview over the lanes until it
 * is committed; the lanes themselves are never changed here.
 */
import { firstVisible, type TimelineView } from './timeline-view.ts';
import type { Lane, LaneClip } from './timeline-types.ts';
import { LANE } from './timeline-paint.ts';

/** How close (px) to a clip's edge the pointer grabs the edge instead of the clip. */
export const EDGE_PX = 5;

export type Hit = { lane: Lane; clip: LaneClip | null; edge: 'start' | 'end' | null };

export interface ClipSpan {
  clipId: number;
  startFrame: number;
  endFrame: number;
}

export type Drag =
  | { kind: 'scrub' }
  | { kind: 'pan'; lastX: number }
  /** `original` is the clip as stored; `preview` where the pointer has taken it so far. */
  | { kind: 'resize'; edge: 'start' | 'end'; original: ClipSpan; preview: ClipSpan };

export type ResizeDrag = Extract<Drag, { kind: 'resize' }>;

/** The lane (and clip, and edge) at (x, y) of the canvas; null above the lanes or below the last one. */
export function hitTest(view: TimelineView, lanes: readonly Lane[], maxClipLength: readonly number[], lanesTop: number, x: number, y: number): Hit | null {
  if (y < lanesTop) return null;
  const index = Math.floor((y - lanesTop) / LANE);
  const lane = lanes[index];
  if (!lane) return null;
  const f = view.frameAt(x);
  const slack = EDGE_PX / view.scale;
  let best: Hit = { lane, clip: null, edge: null };
  for (let i = firstVisible(lane.clips, f - slack, maxClipLength[index] ?? 0); i < lane.clips.length; i++) {
    const c = lane.clips[i];
    if (c.startFrame > f + slack) break;
    if (Math.abs(view.x(c.startFrame) - x) <= EDGE_PX) return { lane, clip: c, edge: 'start' };
    if (Math.abs(view.x(c.endFrame) - x) <= EDGE_PX) return { lane, clip: c, edge: 'end' };
    if (f >= c.startFrame && f < c.endFrame) best = { lane, clip: c, edge: null };
  }
  return best;
}

export function cursorFor(hit: Hit | null): string {
  return hit?.edge ? 'ew-resize' : hit?.clip ? 'pointer' : 'text';
}

export function startResize(clip: LaneClip, edge: 'start' | 'end'): ResizeDrag {
  const span = { clipId: clip.id, startFrame: clip.startFrame, endFrame: clip.endFrame };
  return { kind: 'resize', edge, original: span, preview: span };
}

/** The clip's span with the dragged edge at `frame`, kept at least one frame long and inside the video. */
export function resizeTo(drag: ResizeDrag, frame: number, frameCount: number): ClipSpan {
  const { preview } = drag;
  return drag.edge === 'start'
    ? { ...preview, startFrame: Math.max(0, Math.min(frame, preview.endFrame - 1)) }
    : { ...preview, endFrame: Math.min(frameCount, Math.max(frame, preview.startFrame + 1)) };
}

export function resizeChanged(drag: ResizeDrag): boolean {
  return drag.preview.startFrame !== drag.original.startFrame || drag.preview.endFrame !== drag.original.endFrame;
}

/** The lanes as drawn during a resize: the previewed clip in its new place, everything else as given. */
export function withPreview(lanes: readonly Lane[], preview: ClipSpan | null): readonly Lane[] {
  if (!preview) return lanes;
  return lanes.map((lane) =>
    lane.clips.some((c) => c.id === preview.clipId)
      ? { ...lane, clips: lane.clips.map((c) => (c.id === preview.clipId ? { ...c, startFrame: preview.startFrame, endFrame: preview.endFrame } : c)) }
      : lane,
  );
}
