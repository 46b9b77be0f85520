/**
 * The demo's classes. Temporal classes come in reverse pairs: each one is exactly what its partner looks
 * like played backwards, so only the order of frames tells them apart. Scene classes are told apart by what
 * any single frame shows (the kind of object at rest), whatever the order.
 */

export type TemporalAction = 'move' | 'lift' | 'rotate' | 'resize' | 'fade';

export interface TemporalPair {
  action: TemporalAction;
  /** The class whose frames play in the generated order. */
  forward: string;
  /** The class of the same frames played backwards. */
  backward: string;
}

export type StillShape = 'ring' | 'cross' | 'star';
/** Background textures: temporal clips use the first two, each scene class one of the others. */
export type BackgroundFamily = 'blobs' | 'plaid' | 'stripes' | 'checker' | 'dots';
export const TEMPORAL_BACKGROUNDS: readonly BackgroundFamily[] = ['blobs', 'plaid'];

export interface SceneClass {
  name: string;
  shape: StillShape;
  background: BackgroundFamily;
}

export const TEMPORAL_PAIRS: readonly TemporalPair[] = [
  { action: 'move', forward: 'move right', backward: 'move left' },
  { action: 'lift', forward: 'move up', backward: 'move down' },
  { action: 'rotate', forward: 'rotate clockwise', backward: 'rotate anticlockwise' },
  { action: 'resize', forward: 'grow', backward: 'shrink' },
  { action: 'fade', forward: 'appear', backward: 'disappear' },
];

export const SCENE_CLASSES: readonly SceneClass[] = [
  { name: 'ring on dots', shape: 'ring', background: 'dots' },
  { name: 'cross on stripes', shape: 'cross', background: 'stripes' },
  { name: 'star on checks', shape: 'star', background: 'checker' },
];

const MIRROR_SAFE: readonly TemporalAction[] = ['lift', 'resize', 'fade'];

export interface DemoClass {
  name: string;
  kind: 'temporal' | 'scene';
  /** The class the reversed action looks like; null for scene classes. */
  reverseOf: string | null;
  /** A horizontal mirror keeps the class (not so for left/right or the sense of a rotation). */
  flipSafe: boolean;
}

/** Every class in a stable order: the temporal pairs, then the scene classes. */
export function demoClasses(): DemoClass[] {
  const temporal = TEMPORAL_PAIRS.flatMap((p): DemoClass[] => [
    { name: p.forward, kind: 'temporal', reverseOf: p.backward, flipSafe: MIRROR_SAFE.includes(p.action) },
    { name: p.backward, kind: 'temporal', reverseOf: p.forward, flipSafe: MIRROR_SAFE.includes(p.action) },
  ]);
  const scene = SCENE_CLASSES.map((s): DemoClass => ({ name: s.name, kind: 'scene', reverseOf: null, flipSafe: true }));
  return [...temporal, ...scene];
}
