import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../src-main/hosts/web/server.ts';

let host: WebHost;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-web-'));
  host = await startWebHost({ projectDir: join(dir, 'project'), port: 0 });
});
afterAll(async () => {
  await host.close();
  rmSync(dir, { recursive: true, force: true });
});

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<number | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => {});
  });
}

describe('web host', () => {
  it('binds 127.0.0.1 and prints a URL carrying the token', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=`));
    expect(host.token.length).toBeGreaterThanOrEqual(24);
  });

  it('refuses media requests without the token (the app shell is public: it holds no user data)', async () => {
    const shell = await fetch(`http://127.0.0.1:${host.port}/`);
    expect(shell.status).not.toBe(401);
    const media = await fetch(`http://127.0.0.1:${host.port}/media/video/1`);
    expect(media.status).toBe(401);
    const wrong = await fetch(`http://127.0.0.1:${host.port}/media/video/1?token=wrong`);
    expect(wrong.status).toBe(401);
  });

  it('refuses WebSocket upgrades without the token or from a foreign origin', async () => {
    const base = `ws://127.0.0.1:${host.port}/api`;
    expect(await wsStatus(base)).toBe(401);
    expect(await wsStatus(`${base}?token=${host.token}`, { Origin: 'http://evil.example' })).toBe(403);
    expect(await wsStatus(`${base}?token=${host.token}`, { Origin: `http://127.0.0.1:${host.port}` })).toBe('open');
  });

  it('answers contract requests over the WebSocket', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`);
    await new Promise((r) => ws.on('open', r));
    const reply = await new Promise<{ id: number; ok: boolean; result?: { projectDir: string } }>((resolve) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type: string; id: number; ok: boolean };
        if (msg.type === 'response') resolve(msg);
      });
      ws.send(JSON.stringify({ id: 7, name: 'app.info', params: {} }));
    });
    expect(reply.id).toBe(7);
    expect(reply.ok).toBe(true);
    expect(reply.result?.projectDir).toBe(join(dir, 'project'));
    const bad = await new Promise<{ ok: boolean; error?: { code: string } }>((resolve) => {
      ws.removeAllListeners('message');
      ws.on('message', (data) => resolve(JSON.parse(String(data)) as { ok: boolean }));
      ws.send('not json');
    });
    expect(bad.ok).toBe(false);
    expect(bad.error?.code).toBe('bad_request');
    ws.close();
  });
});
