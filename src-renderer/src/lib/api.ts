import { ApiError, type ApiClient, type Envelope, type MediaKind } from '../../../src-main/api/client.ts';
import type { EventName, EventPayload, Params, RequestName, Result } from '../../../src-main/api/contract.ts';

/** What the Electron preload exposes as window.api. */
interface PreloadApi {
  call(name: string, params: unknown): Promise<Envelope>;
  on(name: string, listener: (payload: unknown) => void): () => void;
  mediaBase: string;
  /** Electron only: the real paths of dropped files (browsers keep them private). */
  pathsForFiles?(files: File[]): string[] | Promise<string[]>;
}

declare global {
  interface Window {
    api?: PreloadApi;
  }
}

function fromPreload(pre: PreloadApi): ApiClient {
  return {
    async call<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
      const env = await pre.call(name, params);
      if (!env.ok) throw new ApiError(env.error);
      return env.result as Result<K>;
    },
    on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) {
      return pre.on(name, listener as (payload: unknown) => void);
    },
    mediaUrl(kind: MediaKind, id: number | string) {
      return `${pre.mediaBase}/${kind}/${encodeURIComponent(String(id))}`;
    },
  };
}

/**
 * The page's access token: from the URL `serve` printed (`?token=`), from a one-time `?code=` that
 * `serve --open` gave the browser (exchanged once, then dropped from the address bar), or from this tab's
 * storage on reload. Never a cookie: cookies reach every server on the machine.
 */
async function pageToken(): Promise<string> {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  let token = url.searchParams.get('token') ?? sessionStorage.getItem('stm-token') ?? '';
  if (code) {
    url.searchParams.delete('code');
    history.replaceState(history.state, '', url);
    const res = await fetch(`/session?code=${encodeURIComponent(code)}`, { method: 'POST' });
    if (res.ok) token = ((await res.json()) as { token: string }).token;
  }
  if (token) sessionStorage.setItem('stm-token', token);
  return token;
}

/** The contract over the web host's WebSocket. */
function fromWebSocket(): ApiClient {
  let token = '';
  const tokenReady = pageToken().then(
    (t) => (token = t),
    () => token,
  );
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: WebSocket;
  let ready: Promise<void>;

  const connect = () => {
    ready = tokenReady.then(
      () =>
        new Promise<void>((resolve, reject) => {
          socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`);
          socket.addEventListener('open', () => resolve(), { once: true });
          const message = token
            ? 'Cannot reach the STM Studio server'
            : 'No access token: open the URL that `stm-studio serve` printed (it carries the token)';
          socket.addEventListener('error', () => reject(new ApiError({ code: 'unavailable', message })), { once: true });
          listen(socket);
        }),
    );
  };
  const listen = (socket: WebSocket) => {
    socket.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { type: string; id?: number; name?: string; payload?: unknown } & Envelope;
      if (msg.type === 'event' && msg.name) {
        for (const l of listeners.get(msg.name) ?? []) l(msg.payload);
      } else if (msg.type === 'response' && typeof msg.id === 'number') {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (!p) return;
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new ApiError(msg.error));
      }
    });
    socket.addEventListener('close', () => {
      for (const p of pending.values()) p.reject(new ApiError({ code: 'unavailable', message: 'Connection to the STM Studio server closed' }));
      pending.clear();
      setTimeout(connect, 1000);
    });
  };
  connect();

  return {
    async call<K extends RequestName>(name: K, params: Params<K>): Promise<Result<K>> {
      await ready;
      const id = nextId++;
      return new Promise<Result<K>>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        socket.send(JSON.stringify({ id, name, params }));
      });
    },
    on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void) {
      const set = listeners.get(name) ?? new Set();
      set.add(listener as (payload: unknown) => void);
      listeners.set(name, set);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    mediaUrl(kind: MediaKind, id: number | string) {
      return `/media/${kind}/${encodeURIComponent(String(id))}?token=${encodeURIComponent(token)}`;
    },
  };
}

export const api: ApiClient = window.api ? fromPreload(window.api) : fromWebSocket();

/** Real paths of dropped files where the host can tell them (Electron), otherwise null. */
export async function droppedPaths(files: File[]): Promise<string[] | null> {
  if (!window.api?.pathsForFiles) return null;
  const paths = (await window.api.pathsForFiles(files)).filter((p) => p.length > 0);
  return paths.length ? paths : null;
}
