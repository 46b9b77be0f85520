import type { TrainStepPoint } from '../../../src-main/api/contract/ui.ts';

/** Where a point of the in-epoch curve sits on an epoch axis (epoch 2, batch 5 of 10 → 1.5). */
export function stepX(p: TrainStepPoint): number {
  return p.epoch - 1 + p.step / p.steps;
}

/** Points of both lists in training order, one per (epoch, batch); a point of `incoming` replaces a kept one. */
export function mergeSteps(kept: readonly TrainStepPoint[], incoming: readonly TrainStepPoint[]): TrainStepPoint[] {
  const byKey = new Map<string, TrainStepPoint>();
  for (const p of [...kept, ...incoming]) byKey.set(`${p.epoch}:${p.step}`, p);
  return [...byKey.values()].sort((a, b) => a.epoch - b.epoch || a.step - b.step);
}
