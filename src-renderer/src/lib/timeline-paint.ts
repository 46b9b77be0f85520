/**
 * Painting the timeline: ruler, filmstrip, prediction heat rows, class lanes, in/out range and playhead, from
 * a plain description of the picture onto any 2D context. Pure (no DOM, no component state), so a test can
 * paint onto a recording context.
 */
import { firstVisible, tickStep, type TimelineView } from './timeline-view.ts';
import type { Filmstrip, HeatTrack, Lane, LaneClip } from './timeline-types.ts';
import { formatTime, frameAtTime, timeOfFrame, type FrameTimes } from './frames.ts';
import type { HeatPyramid } from './heat-pyramid.ts';

/** Row heights in CSS pixels. */
export const RULER = 22;
export const STRIP = 40;
export const LANE = 24;
export const HEAT = 14;

/** Where each band of the timeline starts, top to bottom. */
export interface TimelineLayout {
  stripHeight: number;
  heatTop: number;
  lanesTop: number;
  height: number;
}

export function timelineLayout(heatRows: number, laneRows: number, hasFilmstrip: boolean): TimelineLayout {
  const stripHeight = hasFilmstrip ? STRIP : 0;
  const heatTop = RULER + stripHeight;
  const lanesTop = heatTop + heatRows * HEAT + (heatRows ? 4 : 0);
  return { stripHeight, heatTop, lanesTop, height: lanesTop + Math.max(1, laneRows) * LANE + 6 };
}

/** The part of CanvasRenderingContext2D the timeline paints with. */
export type Paint2D = Pick<
  CanvasRenderingContext2D,
  | 'fillStyle' | 'strokeStyle' | 'globalAlpha' | 'lineWidth' | 'font' | 'textBaseline' | 'fillRect' | 'strokeRect'
  | 'beginPath' | 'moveTo' | 'lineTo' | 'stroke' | 'fill' | 'fillText' | 'drawImage' | 'save' | 'restore' | 'setLineDash'
>;

/** Everything one picture of the timeline depends on. */
export interface TimelinePicture {
  width: number;
  layout: TimelineLayout;
  view: TimelineView;
  fps: number;
  pts: FrameTimes;
  duration: number;
  frame: number;
  lanes: readonly Lane[];
  /** Longest clip per lane, for finding the first visible clip. */
  maxClipLength: readonly number[];
  heat: readonly HeatTrack[];
  pyramids: readonly (HeatPyramid | undefined)[];
  /** Scratch buffer, one entry per pixel column. */
  columns: Float32Array;
  /** The filmstrip with its sprite scaled to the strip's height, once loaded. */
  filmstrip: { strip: Filmstrip; sprite: HTMLCanvasElement } | null;
  inFrame: number | null;
  outFrame: number | null;
  selectedClipId: number | null;
  activeClassId: number | null;
}

export function paintTimeline(ctx: Paint2D, p: TimelinePicture): void {
  ctx.fillStyle = '#181b21';
  ctx.fillRect(0, 0, p.width, p.layout.height);
  paintRuler(ctx, p);
  if (p.filmstrip) paintFilmstrip(ctx, p, p.filmstrip.strip, p.filmstrip.sprite);
  p.heat.forEach((track, i) => paintHeat(ctx, p, track, p.layout.heatTop + i * HEAT, p.pyramids[i]));
  p.lanes.forEach((lane, i) => paintLane(ctx, p, lane, p.layout.lanesTop + i * LANE, p.maxClipLength[i] ?? 0));
  paintInOut(ctx, p);
  paintPlayhead(ctx, p);
}

/** Where a ruler tick for media time `t` goes: the frame shown at `t`, plus the fraction of its interval. */
export function tickFrame(pts: FrameTimes, t: number, duration: number, fps: number): number {
  if (pts.length === 0) return t * (fps || 30);
  const frame = frameAtTime(pts, t);
  const next = frame + 1 < pts.length ? pts[frame + 1] : duration;
  return frame + (next > pts[frame] ? Math.max(0, t - pts[frame]) / (next - pts[frame]) : 0);
}

function paintRuler(ctx: Paint2D, p: TimelinePicture): void {
  const { view, width } = p;
  ctx.fillStyle = '#1f232b';
  ctx.fillRect(0, 0, width, RULER);
  const step = tickStep(view.scale, p.fps || 30);
  ctx.font = '10px ui-monospace, Menlo, monospace';
  ctx.textBaseline = 'middle';
  ctx.strokeStyle = '#3a4150';
  ctx.fillStyle = '#9099ab';
  ctx.beginPath();
  if (step.unit === 'frame') {
    const first = Math.floor(view.start / step.frames) * step.frames;
    for (let f = first; f <= view.end; f += step.frames) {
      const x = Math.round(view.x(f)) + 0.5;
      ctx.moveTo(x, RULER - 7);
      ctx.lineTo(x, RULER);
      ctx.fillText(String(f), x + 3, 8);
    }
  } else {
    const t0 = timeOfFrame(p.pts, Math.floor(view.start), p.duration);
    const t1 = timeOfFrame(p.pts, Math.ceil(view.end), p.duration);
    const firstS = Math.ceil(t0 / step.frames) * step.frames;
    for (let t = firstS; t <= t1; t += step.frames) {
      const x = Math.round(view.x(tickFrame(p.pts, t, p.duration, p.fps))) + 0.5;
      ctx.moveTo(x, RULER - 7);
      ctx.lineTo(x, RULER);
      ctx.fillText(formatTime(t, 0).replace(/\.$/, ''), x + 3, 8);
    }
  }
  ctx.stroke();
  ctx.fillStyle = '#2a2f3a';
  ctx.fillRect(0, RULER - 1, width, 1);
}

function paintFilmstrip(ctx: Paint2D, p: TimelinePicture, strip: Filmstrip, scaled: HTMLCanvasElement): void {
  const h = scaled.height;
  const tileW = scaled.width / strip.frames.length;
  const count = Math.max(1, Math.ceil(p.width / tileW));
  let best = 0;
  for (let i = 0; i < count; i++) {
    const x = i * tileW;
    // Tiles are in frame order: walk forward to the one nearest the frame under this slot.
    const target = p.view.frameAt(x + tileW / 2);
    while (best + 1 < strip.frames.length && Math.abs(strip.frames[best + 1] - target) <= Math.abs(strip.frames[best] - target)) best++;
    ctx.drawImage(scaled, best * tileW, 0, tileW, h, x, RULER + 2, tileW - 1, h);
  }
}

function paintHeat(ctx: Paint2D, p: TimelinePicture, track: HeatTrack, y: number, pyramid: HeatPyramid | undefined): void {
  const { view, width, columns } = p;
  const compared = track.comparedModel !== null;
  ctx.fillStyle = compared ? '#121419' : track.direction === 'reversed' ? '#15181e' : '#1b1f26';
  ctx.fillRect(0, y, width, HEAT - 1);
  if (compared) paintComparedBaseline(ctx, width, track.color, y + HEAT - 2.5);
  if (!pyramid) return;
  pyramid.sample(view.start, view.scale, columns);
  ctx.fillStyle = track.color;
  let x = 0;
  // Opacity in steps of 1/20: neighbouring columns merge into one rectangle.
  const level = (v: number) => Math.round(v * 20);
  while (x < columns.length) {
    const q = level(columns[x]);
    let run = x + 1;
    while (run < columns.length && level(columns[run]) === q) run++;
    if (q > 0) {
      ctx.globalAlpha = q / 20;
      ctx.fillRect(x, y, run - x, HEAT - 4);
    }
    x = run;
  }
  ctx.globalAlpha = 1;
  for (const s of track.segments) {
    if (s.endFrame < view.start || s.startFrame > view.end) continue;
    const x0 = view.x(s.startFrame);
    ctx.fillRect(x0, y + HEAT - 3, Math.max(1, view.x(s.endFrame) - x0), 2);
  }
}

/** A comparison model's row carries a dashed line where the primary's segments would be. */
function paintComparedBaseline(ctx: Paint2D, width: number, color: string, y: number): void {
  ctx.save();
  ctx.strokeStyle = color;
  ctx.globalAlpha = 0.7;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(0, y);
  ctx.lineTo(width, y);
  ctx.stroke();
  ctx.restore();
}

function paintLane(ctx: Paint2D, p: TimelinePicture, lane: Lane, y: number, maxLen: number): void {
  const { view, width } = p;
  ctx.fillStyle = lane.classId === p.activeClassId ? '#20252f' : '#1a1d23';
  ctx.fillRect(0, y, width, LANE - 1);
  const clips = lane.clips;
  const first = firstVisible(clips, view.start, maxLen);
  ctx.fillStyle = lane.color;
  let lastX = -1;
  let selected: LaneClip | null = null;
  for (let i = first; i < clips.length; i++) {
    const c = clips[i];
    if (c.startFrame > view.end) break;
    if (c.endFrame < view.start) continue;
    if (c.id === p.selectedClipId) selected = c;
    const x0 = view.x(c.startFrame);
    const x1 = view.x(c.endFrame);
    // Many clips inside one pixel column: draw that column once.
    if (x1 < lastX + 1 && x1 - x0 < 1) continue;
    ctx.globalAlpha = 0.85;
    ctx.fillRect(x0, y + 2, Math.max(1, x1 - x0), LANE - 5);
    lastX = x1;
  }
  ctx.globalAlpha = 1;
  if (selected) {
    const x0 = view.x(selected.startFrame);
    const x1 = view.x(selected.endFrame);
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.strokeRect(x0 + 1, y + 2, Math.max(2, x1 - x0 - 2), LANE - 5);
    ctx.lineWidth = 1;
  }
}

function paintInOut(ctx: Paint2D, p: TimelinePicture): void {
  const { inFrame, outFrame, view } = p;
  const height = p.layout.height;
  if (inFrame === null && outFrame === null) return;
  const a = inFrame ?? outFrame!;
  const b = (outFrame ?? inFrame!) + 1;
  const x0 = view.x(Math.min(a, b - 1));
  const x1 = view.x(Math.max(a + 1, b));
  ctx.fillStyle = 'rgba(91, 156, 255, 0.14)';
  ctx.fillRect(x0, RULER, x1 - x0, height - RULER);
  ctx.fillStyle = '#5b9cff';
  if (inFrame !== null) ctx.fillRect(view.x(inFrame), 0, 2, height);
  if (outFrame !== null) ctx.fillRect(view.x(outFrame + 1) - 2, 0, 2, height);
}

function paintPlayhead(ctx: Paint2D, p: TimelinePicture): void {
  const { view } = p;
  const height = p.layout.height;
  const x0 = view.x(p.frame);
  const w = Math.max(1, view.scale);
  if (w > 2) {
    ctx.fillStyle = 'rgba(255, 209, 102, 0.18)';
    ctx.fillRect(x0, 0, w, height);
  }
  const x = Math.round(x0 + w / 2) - 0.5;
  ctx.fillStyle = '#ffd166';
  ctx.fillRect(x - 0.5, 0, 1.5, height);
  ctx.beginPath();
  ctx.moveTo(x - 5, 0);
  ctx.lineTo(x + 5, 0);
  ctx.lineTo(x, 7);
  ctx.fill();
}
