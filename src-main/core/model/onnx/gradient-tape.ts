import type { OnnxGraphBuilder } from './graph-builder.ts';

/**
 * Reverse-mode differentiation while an ONNX graph is built: each op that depends on a tracked tensor (a
 * weight being trained) records how to emit its backward nodes, and `backward` emits them in reverse order.
 * A tensor's gradient is complete when its producer's step runs, since every consumer was recorded later.
 */
export class GradientTape {
  private readonly steps: Array<() => void> = [];
  private readonly contributions = new Map<string, string[]>();
  private readonly tracked = new Set<string>();

  constructor(private readonly g: OnnxGraphBuilder) {}

  track(tensor: string): void {
    this.tracked.add(tensor);
  }

  tracks(tensor: string): boolean {
    return this.tracked.has(tensor);
  }

  /**
   * Records an op's backward step: `emit` receives the gradient reaching `output` and hands each tracked
   * input its part through `accumulate`. Ops with no tracked input are constants for the backward pass.
   */
  record(output: string, inputs: readonly string[], emit: (grad: string) => void): void {
    if (!inputs.some((t) => this.tracked.has(t))) return;
    this.tracked.add(output);
    this.steps.push(() => {
      const grad = this.gradientOf(output);
      if (grad) emit(grad);
    });
  }

  /** Adds a part of `tensor`'s gradient (ignored when the tensor is not tracked). */
  accumulate(tensor: string, grad: string): void {
    if (!this.tracked.has(tensor)) return;
    const parts = this.contributions.get(tensor);
    if (parts) parts.push(grad);
    else this.contributions.set(tensor, [grad]);
  }

  /** The gradient of `tensor`: the sum of its parts, or null when nothing reached it. */
  gradientOf(tensor: string): string | null {
    const parts = this.contributions.get(tensor);
    if (!parts?.length) return null;
    if (parts.length === 1) return parts[0];
    const sum = this.g.node('Sum', parts, `${tensor}.grad`);
    this.contributions.set(tensor, [sum]);
    return sum;
  }

  /** Emits every recorded step, last first, after `seeds` gave the gradients of the forward pass's ends. */
  backward(seeds: ReadonlyArray<{ tensor: string; grad: string }>): void {
    for (const { tensor, grad } of seeds) this.accumulate(tensor, grad);
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]();
  }
}
