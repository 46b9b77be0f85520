/** Undo in the app reverts the app's own edits, never a command run in a terminal, and never loses one. */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { ApiError } from '../../../src-main/api/client.ts';
import { addVideo, removeDir, tempDir } from './fixtures.ts';

const root = tempDir();
afterAll(() => removeDir(root));

describe('undo by origin', () => {
  it('acts on the edits of the app, leaving the terminal’s alone', async () => {
    const dir = join(root, 'p');
    openProject(dir, { create: true }).close();
    const app = createLocalApi('web');
    app.context.session.open(dir);
    const terminal = openProject(dir, { origin: 'cli' });
    try {
      const video = addVideo(terminal, '/videos/a.mp4', 100);
      await app.client.call('classes.add', { name: 'from app' });
      terminal.classes.add({ name: 'from terminal' });

      expect((await app.client.call('history.undo', {})).label).toBe('Add class "from app"');
      expect((await app.client.call('history.undo', {})).label).toBeNull();
      expect(terminal.classes.list().map((c) => c.name)).toEqual(['from terminal']);
      expect((await app.client.call('history.state', {})).canRedo).toBe(true);
      expect(terminal.history.state()).toMatchObject({ undoLabel: 'Add class "from terminal"', canRedo: false });

      // An app edit that the terminal changed since is not undone: that would lose the terminal's edit.
      const walk = terminal.classes.findByName('from terminal')!;
      const clip = await app.client.call('clips.create', { videoId: video.id, classId: walk.id, startFrame: 0, endFrame: 10 });
      terminal.clips.update(clip.id, { endFrame: 20 });
      const refused = await app.client.call('history.undo', {}).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(ApiError);
      expect((refused as ApiError).message).toMatch(/edited since from elsewhere/);
      expect(terminal.clips.require(clip.id).endFrame).toBe(20);

      // The terminal undoes its own resize; then the app can undo its clip.
      expect(terminal.history.undo()).toBe('Resize clip');
      expect((await app.client.call('history.undo', {})).label).toBe('Add clip');
      expect(terminal.clips.list()).toEqual([]);
    } finally {
      terminal.close();
      app.context.session.close();
    }
  });
});
