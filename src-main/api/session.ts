import { openProject, type Project } from '../core/store/project.ts';
import type { EditOrigin } from '../core/store/history.ts';
import { UserError } from '../core/errors.ts';
import type { Emit } from './context.ts';

/** Where STM Studio keeps per-user state (recent projects, the default project); see core/user-data.ts. */
export { userDataDir as appDataDir } from '../core/user-data.ts';

/** Long-lived services (the job queue, ...) that every Session installs when it is created. */
const sessionServices: Array<(session: Session) => void> = [];

/** Registers a service for every Session created from now on; it hooks itself in with onProjectOpened/Closing. */
export function registerSessionService(install: (session: Session) => void): void {
  sessionServices.push(install);
}

/**
 * One per host process: the project that is open and whatever outlives a single request (jobs, caches).
 * Domains hang their long-lived services here through `onProjectOpened` / `onProjectClosing`.
 */
export class Session {
  private current: Project | null = null;
  private readonly openedHooks: Array<(p: Project) => void> = [];
  private readonly closingHooks: Array<(p: Project) => void> = [];
  emit: Emit = () => {};
  /** Whose edits this session records and undoes: the app's windows or the command line (see History). */
  editOrigin: EditOrigin = 'app';

  constructor() {
    for (const install of sessionServices) install(this);
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
