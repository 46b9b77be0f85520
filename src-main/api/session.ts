import { openProject, type Project } from '../core/store/project.ts';
import type { EditOrigin } from '../core/store/history.ts';
import { UserError } from '../core/errors.ts';
import type { Emit } from './events.ts';

/** A long-lived service (the job queue, ...) that hooks itself into a Session with onProjectOpened/Closing. */
export type SessionService = (session: Session) => void;

/**
 * One per host process: the project that is open and whatever outlives a single request (jobs, caches).
 * Domains hang their long-lived services here through `onProjectOpened` / `onProjectClosing`.
 */
export class Session {
  private current: Project | null = null;
  private readonly openedHooks: Array<(p: Project) => void> = [];
  private readonly closingHooks: Array<(p: Project) => void> = [];
  emit: Emit = () => {};
  /** Which host runs this session (set by createLocalApi); services behave as that host needs. */
  host: 'electron' | 'web' | 'cli' | null = null;
  /** Whose edits this session records and undoes: the app's windows or the command line (see History). */
  editOrigin: EditOrigin = 'app';
  /** The host serves clients from its event loop, so its project never waits there for the lock (Project.useShortLockWait). */
  shortLockWait = false;

  constructor(services: readonly SessionService[] = []) {
    for (const install of services) install(this);
  }

  get projectDir(): string | null {
    return this.current?.dir ?? null;
  }

  /** The open project, or a not_found error the UI can show. */
  get project(): Project {
    if (!this.current) throw new UserError('not_found', 'No project is open. Open or create a project first.');
    return this.current;
  }

  get hasProject(): boolean {
    return this.current !== null;
  }

  open(dir: string, opts: { create?: boolean } = {}): Project {
    const next = openProject(dir, { ...opts, origin: this.editOrigin });
    if (this.shortLockWait) next.useShortLockWait();
    this.close();
    this.current = next;
    for (const hook of this.openedHooks) hook(next);
    this.emit('session.changed', { projectDir: next.dir });
    return next;
  }

  close(): void {
    if (!this.current) return;
    const closing = this.current;
    for (const hook of this.closingHooks) hook(closing);
    this.current = null;
    closing.close();
    this.emit('session.changed', { projectDir: null });
  }

  onProjectOpened(hook: (p: Project) => void): void {
    this.openedHooks.push(hook);
  }

  onProjectClosing(hook: (p: Project) => void): void {
    this.closingHooks.push(hook);
  }
}
