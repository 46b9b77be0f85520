import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../../src-main/core/jobs/train.ts';
import { DEFAULT_TRAIN_PARAMS, type TrainParams } from '../../../src-main/core/jobs/params.ts';

const steps = 100;
const paramsWith = (lrSchedule: TrainParams['lrSchedule']): TrainParams => ({ ...DEFAULT_TRAIN_PARAMS, from: { kind: 'scratch' }, lr: 0.02, lrSchedule });
const schedule = (params: TrainParams) => Array.from({ length: steps }, (_, step) => learningRateAt(params, step, steps));

describe('learning-rate schedule', () => {
  it('constant keeps the set learning rate at every step', () => {
    expect(schedule(paramsWith('constant'))).toEqual(Array(steps).fill(0.02));
  });

  it('cosine starts at the set rate, is half of it midway and nearly zero at the last step', () => {
    const lrs = schedule(paramsWith('cosine'));
    expect(lrs[0]).toBe(0.02);
    expect(lrs[steps / 2]).toBeCloseTo(0.01, 12);
    expect(lrs[steps - 1]).toBeGreaterThan(0);
    expect(lrs[steps - 1]).toBeLessThan(0.02 * 1e-3);
  });

  it('cosine never rises from one step to the next', () => {
    const lrs = schedule(paramsWith('cosine'));
    for (let step = 1; step < steps; step++) expect(lrs[step], `step ${step}`).toBeLessThanOrEqual(lrs[step - 1]);
  });
});
