/** Which stages a training step recomputes: within wasm's 4 GiB per worker, as little as fits. */
import { describe, expect, it } from 'vitest';
import { resolveStmConfig } from '../../../src-main/core/model/config.ts';
import { recomputePlan } from '../../../src-main/core/jobs/recompute-plan.ts';

const r50 = resolveStmConfig({ variant: 'stm', layers: [3, 4, 6, 3], baseWidth: 64, frames: 8, classes: 174, inputSize: 224 });

describe('recomputePlan', () => {
  it('keeps the late stages of one 224² clip per wasm worker and recomputes everything for two', () => {
    expect(recomputePlan(r50, 1, 'wasm')).toBe(3);
    expect(recomputePlan(r50, 2, 'wasm')).toBe(true);
    expect(recomputePlan(resolveStmConfig({ ...r50, inputSize: 96 }), 4, 'wasm')).toBe(3);
  });

  it('recomputes everything on other backends, and nothing once stages 1–3 are frozen', () => {
    expect(recomputePlan(r50, 1, 'webgpu')).toBe(true);
    expect(recomputePlan(r50, 8, 'wasm', 3)).toBe(false);
  });
});
