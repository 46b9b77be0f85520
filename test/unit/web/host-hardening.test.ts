/**
 * The web host as an attacker on this machine meets it: malformed upgrades, frames and messages must end
 * in an error reply or a closed socket, never in a dead process (which would take every running job with it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterHandshake, clientFrame, goodClientAnswers, rawExchange, startServe, upgradeRequest, type ServeProcess } from './host-process.ts';
import { seededRng } from '../../../src-main/core/media/sampling.ts';

let dir: string;
let serve: ServeProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-harden-'));
  serve = await startServe(join(dir, 'project'));
}, 90_000);
afterAll(async () => {
  await serve?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function stillServes(): Promise<void> {
  expect(serve.alive(), serve.stderr()).toBe(true);
  expect(await goodClientAnswers(serve.port, serve.token)).toBe(true);
}

/** One message over an authenticated socket; the first reply (or 'closed'). */
function sendMessage(data: string | Buffer): Promise<{ ok: boolean; id: unknown; error?: { code: string; message: string } } | 'closed'> {
  const ws = new WebSocket(`ws://127.0.0.1:${serve.port}/api?token=${serve.token}`);
  return new Promise((resolve) => {
    ws.on('error', () => resolve('closed'));
    ws.on('close', () => resolve('closed'));
    ws.on('open', () => ws.send(data));
    ws.on('message', (m) => {
      const msg = JSON.parse(String(m)) as { type: string; ok: boolean; id: unknown };
      if (msg.type !== 'response') return;
      resolve(msg);
      ws.close();
    });
  });
}


describe('web host survives hostile input', () => {
  it('refuses an upgrade whose token cookie holds a malformed percent-escape', async () => {
    const r = await rawExchange(serve.port, [upgradeRequest(serve.port, '/api', ['Cookie: stm_token=%E0'])]);
    expect(r.text).toMatch(/^HTTP\/1\.1 401/);
    await stillServes();
  });

  it('refuses an upgrade to a path that is not a URL path (//a:b/api)', async () => {
    const r = await rawExchange(serve.port, [upgradeRequest(serve.port, `//a:b/api?token=${serve.token}`)]);
    expect(r.text).toMatch(/^HTTP\/1\.1 4\d\d/);
    const http = await rawExchange(serve.port, [`GET //a:b/%E0 HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\nConnection: close\r\n\r\n`]);
    expect(http.text).toMatch(/^HTTP\/1\.1 4\d\d/);
    await stillServes();
  });

  it('answers the message `null` (and other non-objects) with an error', async () => {
    for (const text of ['null', '7', '"x"', '[]', 'true', '{"id":{"a":1},"name":null}']) {
      const reply = await sendMessage(text);
      expect(reply, text).not.toBe('closed');
      if (reply !== 'closed') expect([reply.ok, reply.error?.code], text).toEqual([false, 'bad_request']);
    }
    await stillServes();
  });

  it('closes the socket on a frame with an invalid opcode or a length over the limit', async () => {
    const badOpcode = await afterHandshake(serve.port, serve.token, clientFrame(0x83, Buffer.from('hi')));
    expect(badOpcode).toEqual({ upgraded: true, closed: true });
    const huge = Buffer.from([0x82, 0x80 | 127, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]); // announces 1 TiB
    expect(await afterHandshake(serve.port, serve.token, huge)).toEqual({ upgraded: true, closed: true });
    await stillServes();
  });

  it('trims what it echoes: a huge id is not sent back', async () => {
    const reply = await sendMessage(JSON.stringify({ id: 'x'.repeat(100_000), name: 'no.such', params: {} }));
    expect(reply).not.toBe('closed');
    if (reply !== 'closed') expect(reply.id).toBeNull();
  });

  it('still answers a good client after a few hundred seeded random upgrades, frames and messages', async () => {
    const random = seededRng(21);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
    const paths = ['/api', '//a:b/api', '/api/../api', '/%E0', '/api?token=%', '/api?token=' + serve.token, '*', 'api', '/\u00ff', '/api#x', '//'];
    const headers = [
      'Cookie: stm_token=%E0',
      'Cookie: =;;;=%%',
      `Authorization: Bearer ${serve.token}`,
      'Authorization: Bearer',
      'Origin: null',
      'Origin: http://evil.example',
      'Host: evil.example',
      'Host: [::1',
      'Sec-WebSocket-Version: 99',
      'Sec-WebSocket-Key: short',
      'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99',
      'Content-Length: -1',
      'Transfer-Encoding: chunked',
    ];
    const names = ['app.info', 'classes.list', 'clips.list', 'videos.list', 'no.such', '__proto__', 'constructor', 'toString', ''];
    const jsonValue = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 5 : 7));
      if (kind === 0) return null;
      if (kind === 1) return random() < 0.5;
      if (kind === 2) return pick([0, -1, 1e308, -0.5, 2 ** 53 + 1]);
      if (kind === 3) return bytes(Math.floor(random() * 20)).toString('latin1');
      if (kind === 4) return 'x'.repeat(Math.floor(random() * 5000));
      if (kind === 5) return Array.from({ length: Math.floor(random() * 4) }, () => jsonValue(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [pick(['id', 'name', 'params', '__proto__', `k${i}`]), jsonValue(depth + 1)]));
    };

    const cases: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < 300; i += 1) {
      const kind = i % 3;
      if (kind === 0) {
        // A random upgrade request: a mix of odd paths, headers and raw garbage.
        const extra = Array.from({ length: Math.floor(random() * 4) }, () => pick(headers));
        const request = random() < 0.15 ? bytes(1 + Math.floor(random() * 300)) : upgradeRequest(serve.port, pick(paths), extra);
        cases.push(() => rawExchange(serve.port, [request], 700));
      } else if (kind === 1) {
        // After a good handshake: a random frame (any first byte, masked or not, any announced length).
        const first = Math.floor(random() * 256);
        const frame =
          random() < 0.5
            ? clientFrame(first, bytes(Math.floor(random() * 200)))
            : Buffer.concat([Buffer.from([first, Math.floor(random() * 256)]), bytes(Math.floor(random() * 16))]);
        cases.push(() => afterHandshake(serve.port, serve.token, frame, 700));
      } else {
        // A random message: JSON of any shape, a contract name with junk params, or raw binary.
        const r = random();
        const message =
          r < 0.3
            ? JSON.stringify(jsonValue(0))
            : r < 0.8
              ? JSON.stringify({ id: jsonValue(2), name: pick(names), params: jsonValue(1) })
              : bytes(1 + Math.floor(random() * 100));
        cases.push(() => Promise.race([sendMessage(message), new Promise((r2) => setTimeout(r2, 700))]));
      }
    }
    for (let i = 0; i < cases.length; i += 30) await Promise.all(cases.slice(i, i + 30).map((run) => run()));
    await stillServes();
  }, 120_000);
});

describe('web host access', () => {
  function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown> }> {
    return rawExchange(serve.port, [
      [`GET ${path} HTTP/1.1`, `Host: ${headers.Host ?? `127.0.0.1:${serve.port}`}`, 'Connection: close', '', ''].join('\r\n'),
    ]).then(({ text }) => {
      const [status, ...lines] = text.split('\r\n\r\n')[0].split('\r\n');
      return {
        status: Number(status.split(' ')[1]),
        headers: Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()])),
      };
    });
  }

  it('never sets a cookie (cookies reach every port of this machine)', async () => {
    for (const path of ['/', `/?token=${serve.token}`, '/index.html', `/media/video/1?token=${serve.token}`]) {
      const res = await get(path);
      expect(res.headers['set-cookie'], path).toBeUndefined();
    }
  });

  it('refuses requests addressed to a host name other than this machine (DNS rebinding)', async () => {
    expect((await get(`/?token=${serve.token}`, { Host: `evil.example:${serve.port}` })).status).toBe(421);
    expect((await get(`/media/video/1?token=${serve.token}`, { Host: `rebind.example:${serve.port}` })).status).toBe(421);
    const upgrade = await rawExchange(serve.port, [
      upgradeRequest(serve.port, `/api?token=${serve.token}`).replace(`Host: 127.0.0.1:${serve.port}`, `Host: evil.example:${serve.port}`),
    ]);
    expect(upgrade.text).toMatch(/^HTTP\/1\.1 421/);
    expect((await get(`/?token=${serve.token}`, { Host: `localhost:${serve.port}` })).status).not.toBe(421);
    expect((await get('/media/video/1')).status).toBe(401);
  });
});

describe('serve --open', () => {
  it('hands the browser a one-time code, never the token, and the code buys the session once', async () => {
    const { writeFileSync, readFileSync, chmodSync, existsSync } = await import('node:fs');
    const argvFile = join(dir, 'browser-argv.txt');
    const browser = join(dir, 'fake-browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$*" > '${argvFile}'\n`);
    chmodSync(browser, 0o755);
    const opened = await startServe(join(dir, 'project-open'), ['--open'], { STM_STUDIO_NO_BROWSER: '', BROWSER: browser });
    try {
      for (let i = 0; i < 100 && !existsSync(argvFile); i += 1) await new Promise((r) => setTimeout(r, 100));
      const argv = readFileSync(argvFile, 'utf8');
      expect(argv).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${opened.port}/\\?code=[\\w-]+$`));
      expect(argv).not.toContain(opened.token);
      const code = new URL(argv).searchParams.get('code')!;
      const base = `http://127.0.0.1:${opened.port}`;
      const first = await fetch(`${base}/session?code=${code}`, { method: 'POST' });
      expect(first.status).toBe(200);
      expect(((await first.json()) as { token: string }).token).toBe(opened.token);
      expect((await fetch(`${base}/session?code=${code}`, { method: 'POST' })).status).toBe(401);
      expect((await fetch(`${base}/session?code=guess`, { method: 'POST' })).status).toBe(401);
    } finally {
      await opened.stop();
    }
  }, 90_000);
});
