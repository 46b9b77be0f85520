/**
 * Plans the demo's action segments: what object is where in every frame. A temporal pair is planned once
 * as a trajectory; the forward class plays it and the backward class plays the same frames reversed, so the
 * two classes show exactly the same frames and differ only in their order.
 */
import { SCENE_CLASSES, TEMPORAL_BACKGROUNDS, TEMPORAL_PAIRS, type BackgroundFamily, type SceneClass, type StillShape, type TemporalPair } from './catalogue.ts';

export type MovingShape = 'circle' | 'square' | 'triangle';
export type ObjectShape = MovingShape | StillShape;
export type Rgb = readonly [number, number, number];

export const MOVING_SHAPES: readonly MovingShape[] = ['circle', 'square', 'triangle'];

export interface BackgroundSpec {
  family: BackgroundFamily;
  colours: readonly [Rgb, Rgb];
  /** Orientation of stripes/checks/dot grid, radians. */
  angle: number;
  /** Pattern period in pixels. */
  period: number;
  phase: number;
  /** Blob centres and radii in pixels (blobs family). */
  blobs: readonly { x: number; y: number; radius: number }[];
}

/** Where the object is in one frame. Size is the object's radius in pixels; angle grows clockwise on screen. */
export interface ObjectState {
  x: number;
  y: number;
  size: number;
  angle: number;
  alpha: number;
}

export interface SegmentPlan {
  className: string;
  shape: ObjectShape;
  colour: Rgb;
  /** Colour of the off-centre marker that makes rotation visible (moving shapes only). */
  marker: Rgb | null;
  background: BackgroundSpec;
  states: ObjectState[];
}

export interface SegmentLengths {
  minFrames: number;
  maxFrames: number;
}

type Random = () => number;

const uniform = (random: Random, lo: number, hi: number): number => lo + (hi - lo) * random();
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];
/** Symmetric easing: ease(1 − τ) = 1 − ease(τ), so a reversed trajectory is the same kind of trajectory. */
const ease = (tau: number): number => tau * tau * (3 - 2 * tau);

function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return Math.round(255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

/** Random hues and a fine texture: the look of the temporal clips, which must not hint at their class. */
function temporalBackground(random: Random, size: number, family: BackgroundFamily): BackgroundSpec {
  const hue = random();
  return {
    family,
    colours: [hsv(hue, uniform(random, 0.2, 0.5), uniform(random, 0.2, 0.4)), hsv((hue + uniform(random, 0.2, 0.8)) % 1, uniform(random, 0.2, 0.5), uniform(random, 0.45, 0.65))],
    angle: uniform(random, 0, Math.PI),
    period: uniform(random, 0.12, 0.3) * size,
    phase: uniform(random, 0, 2 * Math.PI),
    blobs: Array.from({ length: 6 }, () => ({ x: uniform(random, 0, size), y: uniform(random, 0, size), radius: uniform(random, 0.1, 0.3) * size })),
  };
}

/** Each scene family's own hue (jittered per video), so the scene reads at a glance even at the model's small input. */
const SCENE_HUES: Partial<Record<BackgroundFamily, number>> = { dots: 0.02, stripes: 0.33, checker: 0.6 };

/**
 * A scene background: the family's hue and a coarse texture (a third of the frame or more per period),
 * which survives training's corner crops and the downscale to the model's input.
 */
function sceneBackground(random: Random, size: number, family: BackgroundFamily): BackgroundSpec {
  const hue = ((SCENE_HUES[family] ?? random()) + uniform(random, -0.05, 0.05) + 1) % 1;
  return {
    family,
    colours: [hsv(hue, uniform(random, 0.5, 0.8), uniform(random, 0.25, 0.4)), hsv(hue, uniform(random, 0.3, 0.6), uniform(random, 0.6, 0.8))],
    angle: uniform(random, 0, Math.PI),
    period: uniform(random, 0.3, 0.45) * size,
    phase: uniform(random, 0, 2 * Math.PI),
    blobs: [],
  };
}

function objectColour(random: Random): Rgb {
  return hsv(random(), uniform(random, 0.7, 1), uniform(random, 0.85, 1));
}

function frameCount(random: Random, lengths: SegmentLengths): number {
  return lengths.minFrames + Math.floor(random() * (lengths.maxFrames - lengths.minFrames + 1));
}

/** The forward trajectory of one temporal action, frame by frame. */
function trajectory(random: Random, action: TemporalPair['action'], frames: number, size: number): ObjectState[] {
  const angle = uniform(random, 0, 2 * Math.PI);
  const states: ObjectState[] = [];
  const at = (fn: (k: number) => ObjectState) => {
    for (let i = 0; i < frames; i++) states.push(fn(ease(i / (frames - 1))));
    return states;
  };
  switch (action) {
    case 'move':
    case 'lift': {
      const radius = uniform(random, 0.12, 0.17) * size;
      const travel = uniform(random, 0.3, 0.45) * size;
      const margin = radius + 2;
      const from = uniform(random, margin, size - margin - travel);
      const across = uniform(random, margin, size - margin);
      // 'move' goes right (x grows); 'lift' goes up (y shrinks).
      return at((k) =>
        action === 'move'
          ? { x: from + k * travel, y: across, size: radius, angle, alpha: 1 }
          : { x: across, y: from + travel - k * travel, size: radius, angle, alpha: 1 },
      );
    }
    case 'rotate': {
      // Large and near the centre: the sense of a turn shows in how the halves of the frame move against
      // each other, which a small network reads far more easily than a small object's spin.
      const radius = uniform(random, 0.26, 0.32) * size;
      const x = uniform(random, 0.44, 0.56) * size;
      const y = uniform(random, 0.44, 0.56) * size;
      const sweep = uniform(random, 0.9, 1.3) * Math.PI;
      return at((k) => ({ x, y, size: radius, angle: angle + k * sweep, alpha: 1 }));
    }
    case 'resize': {
      const small = uniform(random, 0.06, 0.09) * size;
      const large = uniform(random, 0.2, 0.26) * size;
      const x = uniform(random, large + 1, size - large - 1);
      const y = uniform(random, large + 1, size - large - 1);
      return at((k) => ({ x, y, size: small + k * (large - small), angle, alpha: 1 }));
    }
    case 'fade': {
      const radius = uniform(random, 0.12, 0.18) * size;
      const x = uniform(random, radius + 2, size - radius - 2);
      const y = uniform(random, radius + 2, size - radius - 2);
      return at((k) => ({ x, y, size: radius, angle, alpha: Math.min(1, Math.max(0, (k - 0.1) / 0.8)) }));
    }
  }
}

/**
 * A reverse pair as two consecutive segments of one shot: the forward class and its reverse play the same
 * frames in opposite orders (which comes first is random), as if the object went and came back.
 */
export function planPairEpisode(random: Random, pair: TemporalPair, size: number, lengths: SegmentLengths): SegmentPlan[] {
  const shape = pick(random, MOVING_SHAPES);
  const colour = objectColour(random);
  const look = { shape, colour, marker: [24, 24, 24] as Rgb, background: temporalBackground(random, size, pick(random, TEMPORAL_BACKGROUNDS)) };
  const states = trajectory(random, pair.action, frameCount(random, lengths), size);
  const forward: SegmentPlan = { className: pair.forward, ...look, states };
  const backward: SegmentPlan = { className: pair.backward, ...look, states: [...states].reverse() };
  return random() < 0.5 ? [forward, backward] : [backward, forward];
}

/** An object of the scene class's kind, at rest on a textured background. */
export function planSceneEpisode(random: Random, scene: SceneClass, size: number, lengths: SegmentLengths): SegmentPlan[] {
  // Near the centre, so the object stays in view whichever corner a training crop keeps.
  const radius = uniform(random, 0.17, 0.24) * size;
  const state: ObjectState = {
    x: uniform(random, 0.4, 0.6) * size,
    y: uniform(random, 0.4, 0.6) * size,
    size: radius,
    angle: uniform(random, 0, 2 * Math.PI),
    alpha: 1,
  };
  const frames = frameCount(random, lengths);
  return [
    {
      className: scene.name,
      shape: scene.shape,
      colour: objectColour(random),
      marker: null,
      background: sceneBackground(random, size, scene.background),
      states: Array.from({ length: frames }, () => ({ ...state })),
    },
  ];
}

/** One video's segments: every reverse pair once and every scene class once, in random order. */
export function planVideoSegments(random: Random, size: number, lengths: SegmentLengths): SegmentPlan[] {
  const episodes = [
    ...TEMPORAL_PAIRS.map((pair) => planPairEpisode(random, pair, size, lengths)),
    ...SCENE_CLASSES.map((scene) => planSceneEpisode(random, scene, size, lengths)),
  ];
  for (let i = episodes.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [episodes[i], episodes[j]] = [episodes[j], episodes[i]];
  }
  return episodes.flat();
}
