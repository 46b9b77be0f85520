import { api } from './api.ts';
import { jobsState } from './jobs.svelte.ts';
import { project } from './project.svelte.ts';
import { wb } from './workbench.svelte.ts';
import type { ReviewItem } from '../../../src-main/api/contract/jobs.ts';

export const reviewKeyOf = (i: ReviewItem): string => `${i.videoId}:${i.windowIndex}`;

/**
 * The Review view's state: the model's least certain windows, the one under review, and what was done here
 * (accepted or rejected, with the last rejection undoable). Rejections and labels live in the project, so any
 * change reloads the queue (see ReviewView's subscriptions).
 */
export class ReviewState {
  queue = $state<ReviewItem[]>([]);
  index = $state(0);
  loading = $state(false);
  done = $state(0);
  /** The last window rejected here, for U (undo). */
  lastRejected = $state<{ modelId: number; item: ReviewItem } | null>(null);

  readonly item = $derived(this.queue[this.index] ?? null);

  /** `fresh`: another model or new predictions, so start at the top; otherwise stay where the reviewer is. */
  async load(modelId: number | null, fresh: boolean): Promise<void> {
    if (modelId === null) {
      this.queue = [];
      return;
    }
    if (fresh) this.loading = true;
    const currentKey = !fresh && this.queue[this.index] ? reviewKeyOf(this.queue[this.index]) : null;
    try {
      const next = await api.call('predictions.reviewQueue', { modelId, limit: 500 });
      if (modelId !== jobsState.modelId) return;
      this.queue = next;
      const kept = currentKey === null ? -1 : next.findIndex((q) => reviewKeyOf(q) === currentKey);
      this.index = kept >= 0 ? kept : fresh ? 0 : Math.max(0, Math.min(this.index, next.length - 1));
    } catch (err) {
      wb.fail(err);
    } finally {
      this.loading = false;
    }
  }

  async accept(classId?: number): Promise<void> {
    const current = this.item;
    if (!current || jobsState.modelId === null) return;
    const clip = await project.edit(api.call('predictions.accept', { modelId: jobsState.modelId, videoId: current.videoId, windowIndex: current.windowIndex, ...(classId ? { classId } : {}) }));
    if (!clip) return;
    const name = project.classes.find((c) => c.id === clip.classId)?.name ?? current.top1;
    wb.say(`Labelled ${current.video} ${current.startFrame}–${current.endFrame - 1} as ${name}.`);
    this.next(current);
  }

  async reject(): Promise<void> {
    const modelId = jobsState.modelId;
    const current = this.item;
    if (!current || modelId === null) return;
    this.next(current);
    try {
      await api.call('review.reject', { modelId, videoId: current.videoId, windowIndex: current.windowIndex });
      this.lastRejected = { modelId, item: current };
      wb.say(`Rejected ${current.video} ${current.startFrame}–${current.endFrame - 1}; U brings it back.`);
    } catch (err) {
      wb.fail(err);
      void this.load(modelId, false);
    }
  }

  async undoReject(): Promise<void> {
    if (!this.lastRejected) return;
    const { modelId, item: restored } = this.lastRejected;
    this.lastRejected = null;
    try {
      await api.call('review.restore', { modelId, videoId: restored.videoId, windowIndex: restored.windowIndex });
      this.done = Math.max(0, this.done - 1);
      if (modelId === jobsState.modelId && !this.queue.some((q) => reviewKeyOf(q) === reviewKeyOf(restored))) {
        this.queue = [...this.queue, restored].sort((a, b) => b.uncertainty - a.uncertainty);
      }
      this.index = Math.max(0, this.queue.findIndex((q) => reviewKeyOf(q) === reviewKeyOf(restored)));
      wb.say(`${restored.video} ${restored.startFrame}–${restored.endFrame - 1} is back in the queue.`);
    } catch (err) {
      wb.fail(err);
    }
  }

  /** Moves the selection by `step` rows, staying inside the queue. */
  move(step: number): void {
    this.index = Math.max(0, Math.min(this.queue.length - 1, this.index + step));
  }

  private next(handled: ReviewItem): void {
    this.queue = this.queue.filter((q) => q !== handled);
    this.done++;
    if (this.index >= this.queue.length) this.index = Math.max(0, this.queue.length - 1);
  }
}
