import { untrack } from 'svelte';
import { api } from './api.ts';
import { jobsState } from './jobs.svelte.ts';
import { wb } from './workbench.svelte.ts';
import { mergeSteps, stepX } from './train-curve.ts';
import type { MetricsResult } from '../../../src-main/api/contract/jobs.ts';
import type { TrainStepPoint } from '../../../src-main/api/contract/ui.ts';

/**
 * The Train view's state: which training run is shown (the newest one as soon as it starts), its per-epoch
 * metrics and its in-epoch curve, fetched when the run moves on and extended live by progress events.
 */
export class TrainRunState {
  jobId = $state<number | null>(null);
  metrics = $state<MetricsResult | null>(null);
  /** The in-epoch curve of the shown run: fetched with the epochs, then extended by each progress event. */
  steps = $state<TrainStepPoint[]>([]);
  /** The run `steps` belongs to (plain, so setting it triggers nothing). */
  private stepsJob: number | null = null;
  /** The newest run this view has seen: a newer one (just started, here or elsewhere) is shown at once. */
  private newestSeen = 0;

  readonly trainJobs = $derived(jobsState.jobs.filter((j) => j.kind === 'train'));
  readonly job = $derived(this.trainJobs.find((j) => j.id === this.jobId) ?? null);
  /** Changes when the shown run moves to another epoch or phase, or ends: time to refetch its curves. */
  readonly epochKey = $derived(this.job ? `${this.job.id}:${this.job.status}:${this.job.progress?.epoch ?? 0}:${this.job.progress?.phase ?? ''}` : '');
  readonly latestStep = $derived(this.job?.status === 'running' ? this.steps.at(-1) ?? null : null);
  readonly epochs = $derived(this.metrics?.epochs ?? []);
  /** The newest epoch with validation figures per class. */
  readonly lastVal = $derived([...this.epochs].reverse().find((e) => e.val?.perClass) ?? null);
  /** The axis ends with the epoch under way (or the last one drawn), so an early curve is not squeezed. */
  readonly axisEpochs = $derived(
    Math.max(1, this.job?.status === 'running' ? (this.job.progress?.epoch ?? 1) : 1, Math.ceil(Math.max(0, ...this.steps.map(stepX))), this.metrics?.epochs.at(-1)?.epoch ?? 0),
  );

  /** Shows the newest run when one appears; keeps the chosen run while it exists. */
  followNewest(): void {
    const newest = this.trainJobs[0]?.id ?? null;
    if (newest !== null && newest > this.newestSeen) {
      this.newestSeen = newest;
      this.jobId = newest;
    } else if (this.jobId === null || !this.trainJobs.some((j) => j.id === this.jobId)) this.jobId = newest;
  }

  /** Fetches the shown run's epochs and curve. */
  refresh(): void {
    const id = this.jobId;
    if (id === null) {
      this.metrics = null;
      this.steps = [];
      return;
    }
    if (this.stepsJob !== id) this.steps = [];
    this.stepsJob = id;
    api.call('metrics.get', { jobId: id }).then((m) => {
      if (id === this.jobId) this.metrics = m;
    }, (err) => wb.fail(err));
    api.call('metrics.steps', { jobId: id }).then((fetched) => {
      if (id === this.jobId) this.steps = mergeSteps(untrack(() => this.steps), fetched);
    }, (err) => wb.fail(err));
  }

  /** Adds the curve point a progress event of the shown run carries. */
  addLivePoint(): void {
    const point = this.job?.progress?.trainStep;
    if (!point || this.job?.id !== this.jobId) return;
    untrack(() => {
      this.steps = mergeSteps(this.steps, [point]);
    });
  }
}
