/**
 * A local download site and a local forward proxy for the weights tests: real HTTP over loopback, with Range
 * requests, connections cut on demand, throttled bodies and 404s.
 */
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';

export interface SeenRequest {
  path: string;
  range: string | null;
}

export interface WeightsServer {
  url: string;
  requests: SeenRequest[];
  /** Cut the connection of the next `times` requests for `path` after this many bytes of the body. */
  cutNext(path: string, afterBytes: number, times?: number): void;
  /** Send bodies in 64 KiB pieces, waiting this long between them (0: all at once). */
  throttleMs: number;
  close(): Promise<void>;
}

/** Serves `files` (URL path → local file) over HTTP, or HTTPS when given a key and certificate. */
export async function startWeightsServer(files: Record<string, string>, tls?: { key: string; cert: string }): Promise<WeightsServer> {
  const requests: SeenRequest[] = [];
  const cuts = new Map<string, { afterBytes: number; times: number }>();
  const state = { throttleMs: 0 };
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ path, range: req.headers.range ?? null });
    const local = files[path];
    if (!local) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const bytes = readFileSync(local);
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': bytes.length - start, 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}`, 'accept-ranges': 'bytes' });
    } else {
      res.writeHead(200, { 'content-length': bytes.length, 'accept-ranges': 'bytes' });
    }
    const body = bytes.subarray(start);
    const cut = cuts.get(path);
    if (cut !== undefined) {
      if (--cut.times <= 0) cuts.delete(path);
      res.write(body.subarray(0, cut.afterBytes), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (!state.throttleMs) {
      res.end(body);
      return;
    }
    let at = 0;
    const next = () => {
      if (res.destroyed) return;
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + 65536));
      at += 65536;
      setTimeout(next, state.throttleMs);
    };
    next();
  };
  const server: Server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    cutNext: (path, afterBytes, times = 1) => void cuts.set(path, { afterBytes, times }),
    get throttleMs() {
      return state.throttleMs;
    },
    set throttleMs(ms: number) {
      state.throttleMs = ms;
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

export interface ForwardProxy {
  url: string;
  /** `CONNECT host:port` tunnels and absolute-URL requests it carried. */
  seen: string[];
  close(): Promise<void>;
}

/** A forward proxy as labs run them: CONNECT tunnels (what clients use for HTTPS) and plain absolute-URL requests. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    seen.push(`GET ${req.url}`);
    const upstream = httpRequest(req.url!, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, port] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  server.on('connection', (s: Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
