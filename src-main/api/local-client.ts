import { dispatch } from './router.ts';
import { ApiError, type ApiClient } from './client.ts';
import type { ApiContext, HostName, HostTraits } from './context.ts';
import { EventHub } from './events.ts';
import { Session, type SessionService } from './session.ts';
import { sessionServices } from './services.ts';

export { EventHub } from './events.ts';

export interface LocalApi {
  client: ApiClient;
  context: ApiContext;
  hub: EventHub;
}

export interface LocalApiOptions extends Partial<Omit<HostTraits, 'host'>> {
  /** The long-lived services each session runs; the app's own list by default. */
  services?: readonly SessionService[];
}

/** The contract's calls in this process: dispatch, with a failed envelope thrown as an ApiError. */
export function callerOf(context: ApiContext): Pick<ApiClient, 'call'> {
  return {
    async call(name, params) {
      const envelope = await dispatch(context, name, params);
      if (!envelope.ok) throw new ApiError(envelope.error);
      return envelope.result as never;
    },
  };
}

/**
 * The contract in-process (CLI, tests, and the core of the web and Electron hosts). The app's hosts (Electron,
 * web) live on and are the app: they work in the background and remember their project. A CLI run is one
 * command and neither, unless told otherwise.
 */
export function createLocalApi(host: HostName, options: LocalApiOptions = {}): LocalApi {
  const hub = new EventHub();
  const session = new Session(options.services ?? sessionServices);
  session.emit = hub.emit;
  session.host = host;
  const isApp = host !== 'cli';
  session.editOrigin = isApp ? 'app' : 'cli';
  const servesClients = options.servesClients ?? isApp;
  session.shortLockWait = servesClients;
  const context: ApiContext = {
    host,
    backgroundWork: options.backgroundWork ?? isApp,
    remembersProject: options.remembersProject ?? isApp,
    servesClients,
    session,
    emit: hub.emit,
  };
  const client: ApiClient = {
    ...callerOf(context),
    on(name, listener) {
      return hub.on(name, listener as (payload: unknown) => void);
    },
    mediaUrl(kind, id) {
      return `/media/${kind}/${id}`;
    },
  };
  return { client, context, hub };
}
