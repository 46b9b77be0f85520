import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { openProject } from '../../../src-main/core/store/project.ts';
import { addVideo, tempDirsRemovedAfterEach } from './fixtures.ts';

const fresh = tempDirsRemovedAfterEach();

describe('project contract', () => {
  it('opens a project, edits through requests, pushes project.changed and undoes', async () => {
    const home = fresh();
    process.env.STM_STUDIO_HOME = home;
    const dir = join(fresh(), 'proj');
    const { client, hub } = createLocalApi('web');
    const events: Array<{ name: string; payload: unknown }> = [];
    hub.onAny((name, payload) => events.push({ name, payload }));

    const summary = await client.call('project.open', { dir, create: true });
    expect(summary).toMatchObject({ dir, classes: 0, clips: 0 });
    expect(JSON.parse(readFileSync(join(home, 'state.json'), 'utf8'))).toMatchObject({ lastProject: dir });
    const other = openProject(dir); // another connection, as the media import or a CLI run would be
    const video = addVideo(other, '/videos/a.mp4', 100);
    other.close();

    const open_ = await client.call('classes.add', { name: 'open lid', hotkey: 'o' });
    const close = await client.call('classes.add', { name: 'close lid', reverseOf: open_.id });
    expect((await client.call('classes.list', {})).map((c) => [c.name, c.reverseOf])).toEqual([
      ['open lid', close.id],
      ['close lid', open_.id],
    ]);
    const clip = await client.call('clips.create', { videoId: video.id, classId: open_.id, startFrame: 10, endFrame: 40 });
    const { first, second } = await client.call('clips.split', { id: clip.id, atFrame: 25 });
    expect([first.endFrame, second.startFrame]).toEqual([25, 25]);
    await client.call('clips.update', { id: second.id, classId: close.id });
    expect(await client.call('clips.list', { videoId: video.id, classId: close.id })).toHaveLength(1);
    expect(events.filter((e) => e.name === 'project.changed').map((e) => (e.payload as { what: string }).what)).toEqual([
      'classes',
      'classes',
      'clips',
      'clips',
      'clips',
    ]);

    await expect(client.call('clips.create', { videoId: video.id, classId: open_.id, startFrame: 50, endFrame: 50 })).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'Clip end frame 50 must be after its start frame 50.',
    });
    await expect(client.call('classes.add', { name: 'x', color: 'blue' })).rejects.toMatchObject({ code: 'bad_request' });

    const step = await client.call('history.undo', {});
    expect(step).toMatchObject({ label: 'Relabel clip', state: { canRedo: true, redoLabel: 'Relabel clip' } });
    expect(events.at(-1)).toEqual({ name: 'project.changed', payload: { what: 'history' } });
    expect(await client.call('clips.list', { classId: close.id })).toHaveLength(0);
    expect((await client.call('history.redo', {})).label).toBe('Relabel clip');

    const csv = join(dir, 'labels.csv');
    expect(await client.call('labels.export', { file: csv })).toMatchObject({ rows: 2 });
    await client.call('clips.delete', { ids: [first.id, second.id] });
    expect(await client.call('labels.import', { file: csv, format: 'auto', createClasses: false })).toMatchObject({ imported: 2 });
    expect(await client.call('project.close', {})).toEqual({ closed: true });
    await expect(client.call('project.summary', {})).rejects.toMatchObject({ code: 'not_found' });
    delete process.env.STM_STUDIO_HOME;
  });

  it('tells clients when another process edits the open project', async () => {
    const dir = join(fresh(), 'shared');
    const { client, hub } = createLocalApi('cli');
    await client.call('project.open', { dir, create: true });
    const seen = new Promise<unknown>((resolve) => hub.on('project.changed', resolve));
    const cli = openProject(dir);
    cli.classes.add({ name: 'added elsewhere' });
    cli.close();
    expect(await seen).toEqual({ what: 'all' });
    expect((await client.call('classes.list', {})).map((c) => c.name)).toEqual(['added elsewhere']);
    await client.call('project.close', {});
  });
});
