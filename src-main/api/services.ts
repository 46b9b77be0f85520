import type { SessionService } from './session.ts';
import { watchExternalChanges } from './handlers/project.ts';
import { closeMediaBackground } from './handlers/media.ts';
import { runJobQueue } from './handlers/jobs.ts';

/** The long-lived services every session of the app runs, in the order they hook into a project's opening. */
export const sessionServices: readonly SessionService[] = [runJobQueue, watchExternalChanges, closeMediaBackground];
