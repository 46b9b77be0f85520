/**
 * The demo's data and training budget: a small STM (one block per stage, base width 16, T = 4, 32² input)
 * trained from scratch on CPU in minutes. The aim is STM ≥ 0.90 on the temporal pairs, the scene classes
 * and the flip rate, and TSN ≤ 0.65 on the pairs; STM and TSN train with exactly the same settings, only
 * the variant differs.
 */
import { DEFAULT_DATA_OPTIONS, type DemoDataOptions } from './generate.ts';

export interface DemoTrainSettings {
  layers: [number, number, number, number];
  width: number;
  frames: number;
  size: number;
  epochs: number;
  batch: number;
  lr: number;
  optimizer: 'sgd' | 'adam';
  /** Reverse-pair augmentation: a reversed clip of a pair's class teaches its partner. */
  reverseAugment: boolean;
  dropout: number;
  weightDecay: number;
  seed: number;
}

export interface DemoSettings {
  data: DemoDataOptions;
  train: DemoTrainSettings;
  /** Sliding windows of the demo's prediction runs, in frames (an action spans 16–24 frames). */
  window: { frames: number; stride: number };
}

const TRAIN: DemoTrainSettings = {
  layers: [1, 1, 1, 1],
  width: 16,
  frames: 4,
  size: 32,
  epochs: 14,
  batch: 8,
  lr: 0.003,
  optimizer: 'adam',
  reverseAugment: true,
  dropout: 0,
  weightDecay: 0,
  seed: 1,
};

export const DEMO_SETTINGS: DemoSettings = {
  data: { ...DEFAULT_DATA_OPTIONS, trainVideos: 48, valVideos: 12 },
  train: TRAIN,
  window: { frames: 20, stride: 10 },
};

/** `--quick`: fewer videos and epochs, same model and direction of results. */
export const QUICK_DEMO_SETTINGS: DemoSettings = {
  data: { ...DEFAULT_DATA_OPTIONS, trainVideos: 24, valVideos: 8 },
  train: { ...TRAIN, epochs: 9 },
  window: { frames: 20, stride: 10 },
};
