import type { Emit } from './events.ts';
import type { Session } from './session.ts';

export type HostName = 'electron' | 'web' | 'cli';

/** What a host process is for, said once where the host builds its api (see createLocalApi). */
export interface HostTraits {
  host: HostName;
  /** The host lives on after a request, so filmstrips, playable proxies and scrub copies are made in the background. */
  backgroundWork: boolean;
  /** A project opened here becomes the one the app reopens on its next start. */
  remembersProject: boolean;
  /** The host serves clients from its event loop, so a request never waits there on the project lock (core/store/patient-writer.ts). */
  servesClients: boolean;
}

/** What a handler sees: the session (open project, settings), a way to push events to every client, the host. */
export interface ApiContext extends HostTraits {
  session: Session;
  emit: Emit;
}
