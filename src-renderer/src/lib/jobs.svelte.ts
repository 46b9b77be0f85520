import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';
import type { JobView, ModelRecord } from '../../../src-main/api/contract/jobs.ts';

/** Jobs and models of the open project, kept live from `job.progress` / `job.updated` events. */
class JobsState {
  jobs = $state<JobView[]>([]);
  models = $state<ModelRecord[]>([]);
  /** The model whose predictions the timeline, review queue and probe view show. */
  modelId = $state<number | null>(null);
  /** Bumped when a job finishes, so views refetch what it produced. */
  finished = $state(0);
  /** The job whose start the status bar is announcing. */
  private announced: { id: number; text: string } | null = null;

  readonly model = $derived(this.models.find((m) => m.id === this.modelId) ?? null);

  start(): void {
    api.on('job.progress', ({ job }) => this.put(job));
    api.on('job.updated', ({ job }) => {
      this.put(job);
      // "queued" stops being true the moment the job starts or ends.
      if (this.announced?.id === job.id && job.status !== 'queued') {
        wb.clear(this.announced.text);
        this.announced = null;
      }
      if (job.status === 'done') this.finished++;
      // A stopped training keeps the model of its best epoch so far, or drops it before the first one.
      if (job.status !== 'queued' && job.status !== 'running') void this.loadModels();
    });
    api.on('project.changed', (e) => {
      if (e.what === 'models') void this.loadModels();
      if (e.what === 'jobs') void this.loadJobs();
    });
    void this.loadJobs();
    void this.loadModels();
  }

  private put(job: JobView): void {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) this.jobs[i] = job;
    else this.jobs = [job, ...this.jobs];
  }

  async loadJobs(): Promise<void> {
    try {
      this.jobs = (await api.call('jobs.list', {})).sort((a, b) => b.id - a.id);
    } catch (err) {
      wb.fail(err);
    }
  }

  /** The newest model id seen, so a model a run has just made becomes the one the views show. */
  private newestModel = 0;

  async loadModels(): Promise<void> {
    try {
      this.models = (await api.call('models.list', {})).sort((a, b) => b.id - a.id);
      const newest = this.models[0]?.id ?? 0;
      const fresh = this.newestModel > 0 && newest > this.newestModel;
      if (this.newestModel === 0 || newest > this.newestModel) this.newestModel = newest;
      if (fresh || this.modelId === null || !this.models.some((m) => m.id === this.modelId)) this.modelId = this.models[0]?.id ?? null;
    } catch (err) {
      wb.fail(err);
    }
  }

  async cancel(id: number): Promise<void> {
    try {
      this.put(await api.call('jobs.cancel', { id }));
    } catch (err) {
      wb.fail(err);
    }
  }

  async resume(id: number): Promise<void> {
    try {
      this.put(await api.call('jobs.resume', { id }));
    } catch (err) {
      wb.fail(err);
    }
  }

  /** Starts a job through `call` and shows it at once. */
  async launch(call: Promise<JobView>): Promise<JobView | null> {
    try {
      const job = await call;
      this.put(job);
      this.announced = { id: job.id, text: `${job.kind} job ${job.id} ${job.status === 'queued' ? 'queued' : 'started'}.` };
      wb.say(this.announced.text);
      return job;
    } catch (err) {
      wb.fail(err);
      return null;
    }
  }
}

export const jobsState = new JobsState();

/** "3 m 05 s" style durations for ETAs. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}
