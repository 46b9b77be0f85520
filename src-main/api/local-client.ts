import { EventEmitter } from 'node:events';
import { dispatch } from './router.ts';
import { ApiError, type ApiClient } from './client.ts';
import type { ApiContext, Emit } from './context.ts';
import { Session } from './session.ts';

/** Fan-out of contract events to every listener of one host process. */
export class EventHub {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }
  readonly emit: Emit = (name, payload) => {
    this.emitter.emit(name, payload);
    this.emitter.emit('*', name, payload);
  };
  on(name: string, listener: (payload: unknown) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
  onAny(listener: (name: string, payload: unknown) => void): () => void {
    this.emitter.on('*', listener);
    return () => this.emitter.off('*', listener);
  }
}

export interface LocalApi {
  client: ApiClient;
  context: ApiContext;
  hub: EventHub;
}

/** The contract in-process (CLI, tests, and the core of the web and Electron hosts). */
export function createLocalApi(host: ApiContext['host'], session = new Session()): LocalApi {
  const hub = new EventHub();
  session.emit = hub.emit;
  session.editOrigin = host === 'cli' ? 'cli' : 'app';
  const context: ApiContext = { session, emit: hub.emit, host };
  const client: ApiClient = {
    async call(name, params) {
      const env = await dispatch(context, name, params);
      if (!env.ok) throw new ApiError(env.error);
      return env.result as never;
    },
    on(name, listener) {
      return hub.on(name, listener as (payload: unknown) => void);
    },
    mediaUrl(kind, id) {
      return `/media/${kind}/${id}`;
    },
  };
  return { client, context, hub };
}
