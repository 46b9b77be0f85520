import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { createLocalApi } from '../../api/local-client.ts';
import { dispatch } from '../../api/router.ts';
import { packageRoot } from '../../core/app-info.ts';
import { serveFile } from './serve-file.ts';
import { resolveMediaFile } from './media-routes.ts';
import { offeredDownload } from '../../api/downloads.ts';
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
  projectDir: string | null;
  session: Session;
  close(): Promise<void>;
}

const COOKIE = 'stm_token';
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

function sameToken(a: string | null | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const fromQuery = url.searchParams.get('token');
  if (fromQuery) return fromQuery;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  const cookie = req.headers.cookie ?? '';
  const m = new RegExp(`(?:^|;\\s*)${COOKIE}=([^;]+)`).exec(cookie);
  return m ? decodeURIComponent(m[1]) : null;
}

/**
 * The browser host: the built renderer over HTTP and the contract over a WebSocket at /api, both behind a
 * random token. Binds 127.0.0.1 unless told otherwise; refuses WebSocket upgrades from foreign origins.
 */
export async function startWebHost(opts: WebHostOptions = {}): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const bindHost = opts.host ?? '127.0.0.1';
  const rendererDir = resolve(opts.rendererDir ?? join(packageRoot(), 'out', 'renderer'));
  const local = createLocalApi('web');
  const { context, hub } = local;
  if (opts.projectDir) context.session.open(resolve(opts.projectDir), { create: true });

  const server = createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
  let origin = '';

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const given = tokenOf(req, url);
    if (!sameToken(given, token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('401 Unauthorized: open the URL that `stm-studio serve` printed (it carries the access token).\n');
      return;
    }
    const setCookie = `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed');
      return;
    }
    const download = /^\/download\/([0-9a-f-]{36})$/.exec(url.pathname);
    if (download) {
      const file = offeredDownload(context.session, download[1]!);
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('no such download (exports are offered until the server stops)');
        return;
      }
      res.setHeader('content-disposition', `attachment; filename="${basename(file).replace(/["\\\r\n]/g, '_')}"`);
      serveFile(req, res, file, file.endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream');
      return;
    }
    const media = /^\/media\/([a-z]+)\/([^/]+)$/.exec(url.pathname);
    if (media) {
      const file = await resolveMediaFile(context.session, media[1], decodeURIComponent(media[2]));
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not a media file of the open project');
        return;
      }
      serveFile(req, res, file.path, file.contentType);
      return;
    }
    let rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    if (rel === '' || rel === '.') rel = 'index.html';
    const path = resolve(rendererDir, rel);
    if (!path.startsWith(rendererDir + sep)) {
      res.writeHead(404).end();
      return;
    }
    const target = existsSync(path) && statSync(path).isFile() ? path : join(rendererDir, 'index.html');
    if (!existsSync(target)) {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('The UI is not built yet: run `npm run build`.\n');
      return;
    }
    res.setHeader('set-cookie', setCookie);
    serveFile(req, res, target, TYPES[extname(target)] ?? 'application/octet-stream');
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const reject = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/api') return reject(404, 'Not Found');
    if (!sameToken(tokenOf(req, url), token)) return reject(401, 'Unauthorized');
    const reqOrigin = req.headers.origin;
    if (reqOrigin && reqOrigin !== origin && reqOrigin !== origin.replace('127.0.0.1', 'localhost')) {
      return reject(403, 'Forbidden');
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const sockets = new Set<WebSocket>();
  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    ws.on('message', (data) => {
      let msg: { id?: unknown; name?: unknown; params?: unknown };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        ws.send(JSON.stringify({ type: 'response', id: null, ok: false, error: { code: 'bad_request', message: 'message is not JSON' } }));
        return;
      }
      const id = msg.id ?? null;
      void dispatch(context, typeof msg.name === 'string' ? msg.name : '', msg.params).then((env) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'response', id, ...env }));
      });
    });
  });
  const unsubscribe = hub.onAny((name, payload) => {
    const text = JSON.stringify({ type: 'event', name, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, bindHost, () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = bindHost === '0.0.0.0' || bindHost === '::' ? '127.0.0.1' : bindHost;
  origin = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;

  return {
    url: `${origin}/?token=${token}`,
    port,
    token,
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
