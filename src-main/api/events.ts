import { EventEmitter } from 'node:events';
import type { EventName, EventPayload } from './contract.ts';

/** Pushes one contract event to every client of this host process. */
export type Emit = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

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
