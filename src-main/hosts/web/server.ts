import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createLocalApi } from '../../api/local-client.ts';
import { dispatch } from '../../api/router.ts';
import { packageRoot } from '../../core/app-info.ts';
import { serveFile } from './serve-file.ts';
import { resolveMediaFile } from './media-routes.ts';
import { hostAllowed, OneTimeCodes, requestUrl, sameSecret, tokenOf } from './access.ts';
import type { Session } from '../../api/session.ts';

export interface WebHostOptions {
  projectDir?: string;
  port?: number;
  host?: string;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
  /** Folder with the built renderer (default out/renderer). */
  rendererDir?: string;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  /** A URL for a browser's command line: carries a one-time code instead of the token (`serve --open`). */
  openUrl(): string;
  projectDir: string | null;
  session: Session;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};
/** Longest request id echoed back; a client's ids are small numbers. */
const MAX_ID_LENGTH = 64;

type Reply = { status: number; text: string };
const reply = (status: number, text: string): Reply => ({ status, text });

/** The id of a request message, or null when it is missing or not a short number/string. */
function requestId(value: unknown): number | string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.length <= MAX_ID_LENGTH) return value;
  return null;
}

function errorResponse(id: number | string | null, code: string, message: string): string {
  return JSON.stringify({ type: 'response', id, ok: false, error: { code, message } });
}

/**
 * The browser host: the built renderer over HTTP and the contract over a WebSocket at /api. The renderer's
 * files are public (they are the package's own files); the contract and media need the token. Binds
 * 127.0.0.1 unless told otherwise; refuses requests addressed to another host name and WebSocket upgrades
 * from foreign origins. No request, frame or message can stop the process: each ends in an error reply or a
 * closed socket.
 */
export async function startWebHost(opts: WebHostOptions = {}): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const bindHost = opts.host ?? '127.0.0.1';
  const rendererDir = resolve(opts.rendererDir ?? join(packageRoot(), 'out', 'renderer'));
  const local = createLocalApi('web');
  const { context, hub } = local;
  if (opts.projectDir) context.session.open(resolve(opts.projectDir), { create: true });
  const codes = new OneTimeCodes();
  let port = 0;
  let origin = '';

  const server = createServer((req, res) => {
    res.on('error', () => res.destroy());
    handleHttp(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${String((err as Error)?.message ?? err).slice(0, 500)}\n`);
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });

  /** Why a request may not proceed (before any routing), or null. */
  function refusal(req: IncomingMessage, url: URL | null): Reply | null {
    if (!hostAllowed(req.headers.host, port)) return reply(421, 'Misdirected Request: address this server as 127.0.0.1 or localhost');
    if (!url) return reply(400, 'Bad Request');
    return null;
  }

  function send(res: ServerResponse, { status, text }: Reply, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req);
    const refused = refusal(req, url);
    if (refused || !url) return send(res, refused ?? reply(400, 'Bad Request'));
    if (url.pathname === '/session') return exchangeCode(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, reply(405, 'method not allowed'));
    const media = /^\/media\/([a-z]+)\/([^/]+)$/.exec(url.pathname);
    if (media) {
      if (!sameSecret(tokenOf(req, url), token)) {
        return send(res, reply(401, '401 Unauthorized: open the URL that `stm-studio serve` printed (it carries the access token).'));
      }
      const file = await resolveMediaFile(context.session, media[1], media[2]);
      if (!file) return send(res, reply(404, 'not a media file of the open project'));
      serveFile(req, res, file.path, file.contentType);
      return;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(url.pathname);
    } catch {
      return send(res, reply(400, 'Bad Request: malformed path'));
    }
    let rel = normalize(decoded).replace(/^([/\\])+/, '');
    if (rel === '' || rel === '.') rel = 'index.html';
    const path = resolve(rendererDir, rel);
    if (!path.startsWith(rendererDir + sep) || decoded.includes('\0')) return send(res, reply(404, 'Not Found'));
    const target = existsSync(path) && statSync(path).isFile() ? path : join(rendererDir, 'index.html');
    if (!existsSync(target)) return send(res, reply(503, 'The UI is not built yet: run `npm run build`.'));
    serveFile(req, res, target, TYPES[extname(target)] ?? 'application/octet-stream');
  }

  /** POST /session?code=…: a one-time code from `serve --open` buys the page the token, once. */
  function exchangeCode(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'POST') return send(res, reply(405, 'method not allowed'));
    if (req.headers.origin && req.headers.origin !== origin && req.headers.origin !== origin.replace('127.0.0.1', 'localhost')) {
      return send(res, reply(403, 'Forbidden'));
    }
    if (!codes.redeem(url.searchParams.get('code'))) {
      return send(res, reply(401, '401 Unauthorized: this link was already used or has expired; run `stm-studio serve` again.'));
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ token }));
  }

  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const reject = ({ status, text }: Reply) => {
      if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    try {
      const url = requestUrl(req);
      const refused = refusal(req, url);
      if (refused || !url) return reject(refused ?? reply(400, 'Bad Request'));
      if (url.pathname !== '/api') return reject(reply(404, 'Not Found'));
      if (!sameSecret(tokenOf(req, url), token)) return reject(reply(401, 'Unauthorized'));
      const reqOrigin = req.headers.origin;
      if (reqOrigin && reqOrigin !== origin && reqOrigin !== origin.replace('127.0.0.1', 'localhost')) {
        return reject(reply(403, 'Forbidden'));
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch {
      reject(reply(400, 'Bad Request'));
    }
  });

  const sockets = new Set<WebSocket>();
  const sendTo = (ws: WebSocket, text: string) => {
    if (ws.readyState !== ws.OPEN) return;
    try {
      ws.send(text);
    } catch {
      ws.terminate();
    }
  };

  async function answer(ws: WebSocket, data: RawData): Promise<void> {
    let msg: unknown;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return sendTo(ws, errorResponse(null, 'bad_request', 'message is not JSON'));
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      return sendTo(ws, errorResponse(null, 'bad_request', 'message must be an object {id, name, params}'));
    }
    const { id: rawId, name, params } = msg as { id?: unknown; name?: unknown; params?: unknown };
    const id = requestId(rawId);
    const env = await dispatch(context, typeof name === 'string' ? name.slice(0, 200) : '', params);
    let text: string;
    try {
      text = JSON.stringify({ type: 'response', id, ...env });
    } catch (err) {
      text = errorResponse(id, 'internal', `the result could not be sent: ${(err as Error).message}`);
    }
    sendTo(ws, text);
  }

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    // A bad frame (invalid opcode, oversized payload) or a reset connection: ws closes the socket itself.
    ws.on('error', () => ws.terminate());
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      answer(ws, data).catch((err: unknown) => sendTo(ws, errorResponse(null, 'internal', String((err as Error)?.message ?? err).slice(0, 500))));
    });
  });
  wss.on('error', () => {});
  const unsubscribe = hub.onAny((name, payload) => {
    let text: string;
    try {
      text = JSON.stringify({ type: 'event', name, payload });
    } catch {
      return;
    }
    for (const ws of sockets) sendTo(ws, text);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, bindHost, () => ok());
  });
  // After listening, a server error (EMFILE on accept) must not end the process.
  server.on('error', () => {});
  port = (server.address() as AddressInfo).port;
  const shownHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  origin = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
    openUrl: () => `${origin}/?code=${codes.issue()}`,
    projectDir: context.session.projectDir,
    session: context.session,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      context.session.close();
      // Drop open connections (a <video> still streaming) first, or close() waits for them.
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
    },
  };
}
