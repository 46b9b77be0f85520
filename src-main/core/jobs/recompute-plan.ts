/**
 * How much of the network a training step recomputes in its backward pass (gradient checkpointing). On
 * wasm a worker has at most 4 GiB: recomputing every stage is what lets STM-R50 train at 224², at the price
 * of running the forward pass twice. Stages 3 and 4 hold little of the activations but about half of the
 * arithmetic, so when a shard is small enough their activations are kept and only the stem and stages 1–2
 * are recomputed (about a tenth off the step). Other backends keep recomputing everything: a GPU's memory
 * is what limits its batch.
 */
import type { StmConfig } from '../model/config.ts';

/**
 * Wasm heap a shard needs, in GiB per "reference clip" (8 frames of 224² at base width 64), measured on
 * STM-R50 with `npm run bench -- model`: with everything recomputed, and what keeping stages 3–4 adds.
 */
const GIB_PER_CLIP_RECOMPUTED = 1.0;
const GIB_PER_CLIP_LATE_STAGES_KEPT = 0.9;
/** The weights, their gradients and the optimizer's state (4 bytes each) and the heap's own slack. */
const FIXED_GIB = 0.9;
/** What a step may plan to use of wasm32's 4 GiB, leaving room for fragmentation. */
const WASM_BUDGET_GIB = 3.25;
const REFERENCE_CLIP = 8 * 224 * 224 * 64;

/** The stem and stages 1–2: recomputed when stages 3–4 keep their activations. */
const EARLY_STAGES = 3;

/**
 * `recompute` for StmNetwork.forward on a shard of `clips` clips: true (every stage), the number of leading
 * stages recomputed, or false when stages 1–3 are frozen (only the small last stage learns; it fits).
 */
export function recomputePlan(config: StmConfig, clips: number, backend: string, frozenStages = 0): boolean | number {
  if (frozenStages >= EARLY_STAGES) return false;
  if (backend !== 'wasm') return true;
  const clipsOfReference = (clips * config.frames * config.inputSize * config.inputSize * config.baseWidth) / REFERENCE_CLIP;
  const keepingLateStages = FIXED_GIB + clipsOfReference * (GIB_PER_CLIP_RECOMPUTED + GIB_PER_CLIP_LATE_STAGES_KEPT);
  return keepingLateStages <= WASM_BUDGET_GIB ? EARLY_STAGES : true;
}
