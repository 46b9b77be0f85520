/** `clips.list` answers in bounded pages, so a huge project never ties the host up with one listing. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { CLIPS_PAGE } from '../../../src-main/api/contract/paging.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { ApiError } from '../../../src-main/api/client.ts';
import { addVideo, removeDir, tempDir } from './fixtures.ts';

const root = tempDir();
afterAll(() => removeDir(root));

describe('clips.list paging', () => {
  it('returns at most one page per call, and pages by offset through every clip once', async () => {
    const dir = join(root, 'p');
    const project = openProject(dir, { create: true });
    const video = addVideo(project, '/videos/a.mp4', 100_000);
    const cls = project.classes.add({ name: 'walk' });
    const total = CLIPS_PAGE * 2 + 1234;
    project.clips.createMany(Array.from({ length: total }, (_, i) => ({ videoId: video.id, classId: cls.id, startFrame: i * 3, endFrame: i * 3 + 2 })));
    project.close();

    const { client, context } = createLocalApi('web');
    context.session.open(dir);
    try {
      const first = await client.call('clips.list', {});
      expect(first).toHaveLength(CLIPS_PAGE);
      const ids: number[] = [];
      for (let offset = 0; ; offset += CLIPS_PAGE) {
        const page = await client.call('clips.list', { videoId: video.id, limit: CLIPS_PAGE, offset });
        ids.push(...page.map((c) => c.id));
        if (page.length < CLIPS_PAGE) break;
      }
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      const tooMany = await client.call('clips.list', { limit: CLIPS_PAGE + 1 }).catch((err: unknown) => err);
      expect(tooMany).toBeInstanceOf(ApiError);
      expect((tooMany as ApiError).code).toBe('bad_request');
    } finally {
      context.session.close();
    }
  }, 60_000);
});
