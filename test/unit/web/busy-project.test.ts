/**
 * Another process writing to the project for a long time (a CLI import) must not freeze the web host,
 * and an edit made meanwhile in the browser is saved once the other process is done, not dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../src-main/hosts/web/server.ts';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';
import { removeDir, tempDir } from '../store/fixtures.ts';

const root = tempDir('stm-busy-');
const projectDir = join(root, 'project');
let host: WebHost;

beforeAll(async () => {
  openProject(projectDir, { create: true }).close();
  host = await startWebHost({ projectDir, port: 0 });
});
afterAll(async () => {
  await host.close();
  removeDir(root);
});

/** Another process holding the project's write lock for `ms`; resolves once it holds it. */
async function lockElsewhere(ms: number): Promise<{ released: Promise<void> }> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `
    const Database = require(${JSON.stringify(sqlite)});
    const db = new Database(${JSON.stringify(join(projectDir, PROJECT_FILE))});
    db.prepare('BEGIN IMMEDIATE').run();
    db.prepare("INSERT INTO meta (key, value) VALUES ('held-by-another-process', '1')").run();
    process.stdout.write('locked\\n');
    setTimeout(() => { db.prepare('COMMIT').run(); db.close(); process.stdout.write('released\\n'); }, ${ms});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const released = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => ((out += String(d)), out.includes('released') && resolve())));
  await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('locked') && resolve()));
  return { released };
}

describe('a long write by another process', () => {
  it('leaves the host answering, and saves the edit made meanwhile once the lock is free', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`);
    await new Promise((r) => ws.once('open', r));
    const replies = new Map<number, (msg: { ok: boolean; result?: unknown; error?: { message: string } }) => void>();
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { type: string; id: number; ok: boolean };
      if (msg.type === 'response') replies.get(msg.id)?.(msg);
    });
    let nextId = 1;
    const call = (name: string, params: unknown) =>
      new Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>((resolve) => {
        const id = nextId++;
        replies.set(id, resolve);
        ws.send(JSON.stringify({ id, name, params }));
      });

    const { released } = await lockElsewhere(4000);
    let isReleased = false;
    void released.then(() => (isReleased = true));
    const edit = call('classes.add', { name: 'walk' });
    // While the other process still holds the project, the host keeps answering.
    const info = await call('app.info', {});
    expect(info.ok).toBe(true);
    const list = await call('classes.list', {});
    expect(list.ok).toBe(true);
    expect(isReleased).toBe(false);

    const saved = await edit;
    expect(saved.error?.message).toBeUndefined();
    expect(saved.ok).toBe(true);
    expect(isReleased).toBe(true);
    const classes = (await call('classes.list', {})).result as Array<{ name: string }>;
    expect(classes.map((c) => c.name)).toEqual(['walk']);
    ws.close();
  }, 60_000);
});
