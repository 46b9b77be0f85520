/**
 * Another file put at a video's path (same name, same size) is noticed: the video shows as changed since
 * it was added, jobs refuse it instead of reading the wrong frames, and the web host does not serve it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openProject } from '../../../src-main/core/store/project.ts';
import { fingerprintFileSync } from '../../../src-main/core/media/probe.ts';
import { listVideosWithStatus } from '../../../src-main/core/media/library.ts';
import { presentVideos } from '../../../src-main/core/jobs/dataset.ts';
import { startWebHost } from '../../../src-main/hosts/web/server.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { removeDir, tempDir } from '../store/fixtures.ts';

const root = tempDir('stm-changed-');
afterAll(() => removeDir(root));

describe('a video file replaced by another one', () => {
  it('is shown as changed, refused by jobs and not served', async () => {
    const path = join(root, 'arena.mp4');
    const original = randomBytes(3 * 1024 * 1024);
    writeFileSync(path, original);
    copyFileSync(path, join(root, 'arena-original.mp4'));
    const projectDir = join(root, 'project');
    const project = openProject(projectDir, { create: true });
    const video = project.videos.insert({
      path, codec: 'h264', sizeBytes: original.length, fingerprint: fingerprintFileSync(path), frameCount: 100, fps: 25,
    });
    const log: string[] = [];
    expect(listVideosWithStatus(project)[0]!.status).toBe('ok');
    expect([...presentVideos(project, [video.id], { log: (l) => log.push(l) }).keys()]).toEqual([video.id]);

    const host = await startWebHost({ projectDir, port: 0 });
    const media = () => fetch(`http://127.0.0.1:${host.port}/media/video/${video.id}?token=${host.token}`, { method: 'HEAD' }).then((r) => r.status);
    try {
      expect(await media()).toBe(200);

      // Same name, same size, other content: what an overwritten export or a renamed camera file looks like.
      const other = Buffer.from(original);
      other.fill(7, 0, 4096);
      writeFileSync(path, other);
      const listed = listVideosWithStatus(project)[0]!;
      expect(listed.status).toBe('changed');
      expect(project.videos.require(video.id).status).toBe('ok'); // shown, not stored
      let error: unknown;
      try {
        presentVideos(project, [video.id], { log: (l) => log.push(l) });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toContain(path);
      expect((error as UserError).message).toMatch(/changed since it was added.*Relink/);
      expect(await media()).toBe(404);

      // The original file back in place: everything works again.
      copyFileSync(join(root, 'arena-original.mp4'), path);
      expect(listVideosWithStatus(project)[0]!.status).toBe('ok');
      expect(await media()).toBe(200);
    } finally {
      await host.close();
      project.close();
    }
  });
});
