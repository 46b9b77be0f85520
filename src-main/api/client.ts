import type { RequestName, Params, Result, EventName, EventPayload } from './contract.ts';

/**
 * What every host hands the UI and the CLI: the contract as calls and event subscriptions.
 * `call` rejects with an ApiError carrying the typed error payload.
 */
export interface ApiClient {
  call<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>>;
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** URL the renderer can put in <video src> / <img src> for project media (see hosts). */
  mediaUrl(kind: MediaKind, id: number | string): string;
}

export type MediaKind = 'video' | 'filmstrip' | 'thumbnail' | 'proxy' | 'scrub';

export interface ApiErrorShape {
  code: string;
  message: string;
  details?: unknown;
}

export class ApiError extends Error {
  readonly code: string;
  readonly details?: unknown;
  constructor(payload: ApiErrorShape) {
    super(payload.message);
    this.name = 'ApiError';
    this.code = payload.code;
    this.details = payload.details;
  }
}

export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: ApiErrorShape };

/** The web host's WebSocket protocol, typed once for the server and the browser client. A call: */
export interface WsCall {
  /** Chosen by the client; its response carries it back (null when the message could not be read). */
  id: number | string;
  name: string;
  params: unknown;
}

/** What the server sends: the response to a call, or an event for every client. */
export type WsServerMessage = ({ type: 'response'; id: number | string | null } & Envelope) | { type: 'event'; name: string; payload: unknown };
