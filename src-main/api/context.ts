import type { EventName, EventPayload } from './contract.ts';
import type { Session } from './session.ts';

export type Emit = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

/** What a handler sees: the session (open project, settings) and a way to push events to every client. */
export interface ApiContext {
  session: Session;
  emit: Emit;
  host: 'electron' | 'web' | 'cli';
}
