/** Small things a new user notices in the project's data: flip-safe defaults and the order of the video list. */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { makeTestVideo } from '../../helpers/videos.ts';
import { tempDirsRemovedAfterEach } from './fixtures.ts';

const fresh = tempDirsRemovedAfterEach();

describe('horizontal flip by default', () => {
  it('is off for a class that names a direction or gets a reverse partner, and kept where the user says', () => {
    const project = openProject(fresh(), { create: true });
    try {
      const flipSafe = (name: string) => project.classes.list().find((c) => c.name === name)?.flipSafe;
      project.classes.add({ name: 'wave' });
      project.classes.add({ name: 'walk left' });
      project.classes.add({ name: 'Turn Clockwise' });
      const open = project.classes.add({ name: 'open lid' });
      const close = project.classes.add({ name: 'close lid' });
      expect([flipSafe('wave'), flipSafe('walk left'), flipSafe('Turn Clockwise'), flipSafe('open lid')]).toEqual([true, false, false, true]);
      // Pairing makes a direction of both; the user can turn flip back on (or pair with it on).
      project.classes.update(open.id, { reverseOf: close.id });
      expect([flipSafe('open lid'), flipSafe('close lid')]).toEqual([false, false]);
      project.classes.update(open.id, { flipSafe: true });
      expect(flipSafe('open lid')).toBe(true);
      project.classes.add({ name: 'lift', flipSafe: true });
      project.classes.add({ name: 'lower', reverseOf: project.classes.findByName('lift')!.id });
      expect(flipSafe('lower')).toBe(false);
      expect(project.classes.add({ name: 'look right', flipSafe: true }).flipSafe).toBe(true);
    } finally {
      project.close();
    }
  });
});

describe('the video list', () => {
  it('sorts by name as a file manager does: case aside, numbers by value', async () => {
    const media = fresh();
    const names = ['cam10.mp4', 'b.mp4', 'Cam2.mp4', 'A.mp4'];
    const paths = await Promise.all(names.map((n, i) => makeTestVideo(join(media, n), { frames: 4 + i })));
    const { client, context } = createLocalApi('cli');
    try {
      await client.call('project.open', { dir: join(media, 'p'), create: true });
      await client.call('videos.add', { paths });
      expect((await client.call('videos.list', {})).map((v) => v.name)).toEqual(['A.mp4', 'b.mp4', 'Cam2.mp4', 'cam10.mp4']);
    } finally {
      context.session.close();
    }
  });
});
