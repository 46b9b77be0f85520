/**
 * Another process writing to the project for a long time (a CLI import) must not freeze the web host: it
 * keeps answering, and edits made meanwhile in the browser — including those a request makes after an
 * `await`, such as adding a video — are saved once the other process is done, in order, not dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../../../src-main/hosts/web/server.ts';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';
import { removeDir, tempDir } from '../store/fixtures.ts';
import { lockElsewhere } from '../../helpers/lock-elsewhere.ts';
import { makeColourVideo } from '../jobs/project-fixture.ts';

type Reply = { ok: boolean; result?: unknown; error?: { message: string } };

const root = tempDir('stm-busy-');
const projectDir = join(root, 'project');
const projectFile = join(projectDir, PROJECT_FILE);
let host: WebHost;
let ws: WebSocket;
const replies = new Map<number, (msg: Reply) => void>();
let nextId = 1;
const call = (name: string, params: unknown) =>
  new Promise<Reply>((resolve) => {
    const id = nextId++;
    replies.set(id, resolve);
    ws.send(JSON.stringify({ id, name, params }));
  });

beforeAll(async () => {
  openProject(projectDir, { create: true }).close();
  host = await startWebHost({ projectDir, port: 0 });
  ws = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=${host.token}`);
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as Reply & { type: string; id: number };
    if (msg.type === 'response') replies.get(msg.id)?.(msg);
  });
  await new Promise((r) => ws.once('open', r));
});
afterAll(async () => {
  ws.close();
  await host.close();
  removeDir(root);
});

describe('a long write by another process', () => {
  it('leaves the host answering, and saves the edits made meanwhile, in order, once the lock is free', async () => {
    const { released } = await lockElsewhere(projectFile, 4000);
    const add = call('classes.add', { name: 'walk' });
    const addSecond = call('classes.list', {}).then(() => call('classes.add', { name: 'run' }));
    // While the other process still holds the project, the host keeps answering reads.
    const info = await call('app.info', {});
    const answeredAt = Date.now();
    expect(info.ok).toBe(true);
    expect((await call('classes.list', {})).ok).toBe(true);

    const [saved, second] = await Promise.all([add, addSecond]);
    expect(answeredAt).toBeLessThan(await released);
    expect(saved.error?.message).toBeUndefined();
    expect(second.error?.message).toBeUndefined();
    const classes = (await call('classes.list', {})).result as Array<{ id: number; name: string }>;
    expect(classes.map((c) => c.name)).toEqual(['walk', 'run']);
    expect(classes[0]!.id).toBeLessThan(classes[1]!.id);
  }, 60_000);

  it('keeps answering while a video is probed and added, and adds it once the lock is free', async () => {
    const video = await makeColourVideo(join(root, 'walk.mp4'), 'green', 7);
    const { released } = await lockElsewhere(projectFile, 4000);
    const added = call('videos.add', { paths: [video] });
    // The probe runs meanwhile; the video's row waits for the lock without holding up the event loop.
    await new Promise((r) => setTimeout(r, 1500));
    const info = await call('app.info', {});
    const answeredAt = Date.now();
    expect(info.ok).toBe(true);
    const releasedAt = await released;
    expect(answeredAt).toBeLessThan(releasedAt);

    const result = (await added) as Reply & { result: Array<{ ok: boolean; error?: { message: string } }> };
    expect(result.ok).toBe(true);
    expect(result.result[0]!.error?.message).toBeUndefined();
    expect(result.result[0]!.ok).toBe(true);
    const videos = (await call('videos.list', {})).result as Array<{ name: string }>;
    expect(videos.map((v) => v.name)).toEqual(['walk.mp4']);
  }, 60_000);
});
