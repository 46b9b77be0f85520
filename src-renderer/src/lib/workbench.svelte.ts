import { api } from './api.ts';
import type { AppInfo } from '../../../src-main/api/contract/system.ts';
import type { DoctorReport } from '../../../src-main/api/contract/system.ts';
import type { ComputeBackends } from '../../../src-main/api/contract/compute.ts';

export type ViewName = 'label' | 'train' | 'review' | 'probe';

/** What the whole window shares: the app, the open project and the environment report. */
export class Workbench {
  info = $state<AppInfo | null>(null);
  doctor = $state<DoctorReport | null>(null);
  doctorError = $state<string | null>(null);
  connected = $state(false);
  view = $state<ViewName>('label');
  exportOpen = $state(false);
  /** The last error a user action produced, shown in the status bar until the next action. */
  notice = $state<{ kind: 'error' | 'info'; text: string; action?: { label: string; run: () => void } } | null>(null);

  compute = $state<ComputeBackends | null>(null);

  /** The backend jobs run on, 'no backend' when none can, null while checking. */
  readonly backend = $derived(this.compute ? (this.compute.selection?.name ?? 'no backend') : null);
  readonly backendReason = $derived(this.compute ? (this.compute.selection?.reason ?? this.compute.problem ?? '') : '');

  async start(): Promise<void> {
    try {
      this.info = await api.call('app.info', {});
      this.connected = true;
    } catch (err) {
      this.connected = false;
      this.fail(err);
    }
    void this.refreshCompute();
  }

  async refreshCompute(): Promise<void> {
    try {
      this.compute = await api.call('compute.backends', {});
    } catch (err) {
      this.fail(err);
    }
  }

  async refreshDoctor(): Promise<void> {
    try {
      this.doctor = await api.call('app.doctor', {});
      this.doctorError = null;
    } catch (err) {
      this.doctorError = (err as Error).message;
    }
  }

  fail(err: unknown): void {
    this.notice = { kind: 'error', text: err instanceof Error ? err.message : String(err) };
  }

  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  /** An info line with one action (Undo) for `ms` milliseconds. */
  offer(text: string, label: string, run: () => void, ms: number): void {
    const notice = { kind: 'info' as const, text, action: { label, run } };
    this.notice = notice;
    setTimeout(() => {
      if (this.notice?.text === notice.text && this.notice.action?.label === label) this.notice = null;
    }, ms);
  }

  /** Takes an info line off the status bar once it is no longer true. */
  clear(text: string): void {
    if (this.notice?.kind === 'info' && this.notice.text === text) this.notice = null;
  }

  /** An info line that gives the status bar back to the shortcut hints after a few seconds. */
  say(text: string): void {
    const notice = { kind: 'info' as const, text };
    this.notice = notice;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      if (this.notice?.text === notice.text && this.notice.kind === 'info') this.notice = null;
    }, 6000);
  }
}

export const wb = new Workbench();
