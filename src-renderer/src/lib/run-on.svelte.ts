import { api } from './api.ts';
import { wb } from './workbench.svelte.ts';

/**
 * Where the Predict and Probe buttons run their job: on this machine, or on the workers of a Redis queue
 * (`stm-studio worker`). The queue URL is an app setting (queue.json in the user's data folder).
 */
class RunOnState {
  where = $state<'here' | 'queue'>('here');
  url = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      this.url = (await api.call('queue.settings', {})).url;
    } catch (err) {
      wb.fail(err);
    }
  }

  /** Stores the queue URL; false (with the reason shown) when it is not one. */
  async setUrl(url: string): Promise<boolean> {
    try {
      this.url = (await api.call('queue.setUrl', { url: url.trim() || null })).url;
      return true;
    } catch (err) {
      wb.fail(err);
      return false;
    }
  }

  /** What predict.start / probe.start add to run where chosen. */
  get params(): { queue?: string } {
    return this.where === 'queue' && this.url ? { queue: this.url } : {};
  }

  /** The choice cannot run yet: the worker queue is chosen but no URL is set. */
  get incomplete(): boolean {
    return this.where === 'queue' && !this.url;
  }
}

export const runOn = new RunOnState();
