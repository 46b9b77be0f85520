/** `stm-studio serve` in its own process, as a user starts it: a crash shows as a dead process, not a test error. */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';

export const BIN = join(import.meta.dirname, '../../../bin/stm-studio.mjs');

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  token: string;
  url: string;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

export async function startServe(projectDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', projectDir, '--port', '0', ...extraArgs], {
    env: { ...process.env, STM_STUDIO_NO_BROWSER: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  const parsed = new URL(url);
  return {
    child,
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    stderr: () => err,
    alive: () => child.exitCode === null && child.signalCode === null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Writes raw bytes to the port and returns what came back before the server closed (or `waitMs` passed). */
export function rawExchange(port: number, chunks: (string | Buffer)[], waitMs = 1500): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
    });
  });
}

/** A handshake that the host accepts, then `frame` bytes; resolves with what came back. */
export function afterHandshake(port: number, token: string, frame: Buffer, waitMs = 1500): Promise<{ upgraded: boolean; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let upgraded = false;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ upgraded, closed });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!upgraded && text.startsWith('HTTP/1.1 101')) {
        upgraded = true;
        socket.write(frame);
      }
    });
    socket.on('connect', () => socket.write(upgradeRequest(port, `/api?token=${token}`)));
  });
}

export function upgradeRequest(port: number, path: string, extra: string[] = []): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A masked client frame with the given first byte and payload (length encoded as the payload's size). */
export function clientFrame(first: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([first, 0x80 | len]) : len < 65536 ? Buffer.from([first, 0x80 | 126, len >> 8, len & 255]) : null;
  if (!head) throw new Error('payload too long for this helper');
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  return Buffer.concat([head, mask, body]);
}

/** A good client's round trip: `app.info` over a fresh WebSocket. */
export async function goodClientAnswers(port: number, token: string): Promise<boolean> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`);
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = await new Promise<{ id: number; ok: boolean }>((resolve) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { type: string; id: number; ok: boolean };
        if (msg.type === 'response' && msg.id === 1) resolve(msg);
      });
      ws.send(JSON.stringify({ id: 1, name: 'app.info', params: {} }));
    });
    return reply.ok;
  } catch {
    return false;
  } finally {
    ws.close();
  }
}
