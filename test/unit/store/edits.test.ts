import { afterEach, describe, expect, it } from 'vitest';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import { addVideo, newProject, removeDir } from './fixtures.ts';

const open: Array<{ dir: string; project: Project }> = [];
function setup() {
  const p = newProject();
  open.push(p);
  const video = addVideo(p.project, '/videos/kitchen.mp4', 300);
  return { ...p, video };
}
afterEach(() =>
  open.splice(0).forEach(({ dir, project }) => {
    project.close();
    removeDir(dir);
  }),
);

describe('classes', () => {
  it('keeps reverse_of symmetric and re-pairs cleanly', () => {
    const { project } = setup();
    const open_ = project.classes.add({ name: 'open lid' });
    const close = project.classes.add({ name: 'close lid', reverseOf: open_.id });
    expect(project.classes.require(open_.id).reverseOf).toBe(close.id);
    expect(project.classes.require(close.id).reverseOf).toBe(open_.id);

    const shut = project.classes.add({ name: 'shut lid' });
    project.classes.update(open_.id, { reverseOf: shut.id });
    expect(project.classes.require(shut.id).reverseOf).toBe(open_.id);
    expect(project.classes.require(close.id).reverseOf).toBeNull();

    project.classes.update(shut.id, { reverseOf: null });
    expect(project.classes.require(open_.id).reverseOf).toBeNull();
  });

  it('renames, recolours and sets hotkeys with clear refusals on clashes', () => {
    const { project } = setup();
    const walk = project.classes.add({ name: 'walk', hotkey: 'w' });
    const run = project.classes.add({ name: 'run' });
    expect(() => project.classes.add({ name: ' Walk ' })).toThrow('A class named "walk" already exists.');
    expect(() => project.classes.update(run.id, { hotkey: 'w' })).toThrow('Hotkey "w" is already used by class "walk".');
    expect(() => project.classes.update(run.id, { color: 'red' })).toThrow('Colour "red" is not of the form #RRGGBB.');
    const renamed = project.classes.update(walk.id, { name: 'stroll', color: '#00ff00', hotkey: 's' });
    expect(renamed).toMatchObject({ name: 'stroll', color: '#00ff00', hotkey: 's' });
  });

  it('merging relabels every clip and archives the source; undo brings both back', () => {
    const { project, video } = setup();
    const walk = project.classes.add({ name: 'walk' });
    const stroll = project.classes.add({ name: 'stroll' });
    project.clips.create({ videoId: video.id, classId: walk.id, startFrame: 0, endFrame: 10 });
    project.clips.create({ videoId: video.id, classId: stroll.id, startFrame: 20, endFrame: 30 });
    project.clips.create({ videoId: video.id, classId: stroll.id, startFrame: 40, endFrame: 50 });

    project.classes.merge(stroll.id, walk.id);
    expect(project.clips.list().map((c) => c.classId)).toEqual([walk.id, walk.id, walk.id]);
    expect(project.classes.require(stroll.id)).toMatchObject({ archived: true, mergedInto: walk.id });
    expect(project.classes.list().map((c) => c.name)).toEqual(['walk']);

    expect(project.history.undo()).toBe('Merge class "stroll" into "walk"');
    expect(project.clips.list().map((c) => c.classId)).toEqual([walk.id, stroll.id, stroll.id]);
    expect(project.classes.require(stroll.id).archived).toBe(false);
  });

  it('archiving hides a class but keeps its labels; a new class may reuse the name', () => {
    const { project, video } = setup();
    const jump = project.classes.add({ name: 'jump', hotkey: 'j' });
    const clip = project.clips.create({ videoId: video.id, classId: jump.id, startFrame: 5, endFrame: 9 });
    project.classes.archive(jump.id);
    expect(project.classes.list()).toHaveLength(0);
    expect(project.clips.require(clip.id).classId).toBe(jump.id);
    expect(() => project.clips.create({ videoId: video.id, classId: jump.id, startFrame: 0, endFrame: 3 })).toThrow(/archived/);
    const again = project.classes.add({ name: 'jump', hotkey: 'j' });
    expect(again.id).not.toBe(jump.id);
    // Restoring the old one now clashes with the new one's name.
    expect(() => project.classes.update(jump.id, { archived: false })).toThrow('A class named "jump" already exists.');
  });
});

describe('clips', () => {
  it('creates, resizes, moves, relabels, splits and deletes frame-exactly; overlaps allowed', () => {
    const { project, video } = setup();
    const a = project.classes.add({ name: 'a' });
    const b = project.classes.add({ name: 'b' });
    const clip = project.clips.create({ videoId: video.id, classId: a.id, startFrame: 10, endFrame: 20 });
    const overlapping = project.clips.create({ videoId: video.id, classId: b.id, startFrame: 15, endFrame: 25, split: 'val' });
    expect(project.clips.list({ videoId: video.id, fromFrame: 19, toFrame: 21 }).map((c) => c.id)).toEqual([clip.id, overlapping.id]);

    expect(project.clips.update(clip.id, { endFrame: 30 })).toMatchObject({ startFrame: 10, endFrame: 30 });
    expect(project.clips.update(clip.id, { startFrame: 100, endFrame: 120 })).toMatchObject({ startFrame: 100, endFrame: 120 });
    expect(project.clips.update(clip.id, { classId: b.id }).classId).toBe(b.id);
    const [left, right] = project.clips.split(clip.id, 110);
    expect([left.startFrame, left.endFrame, right.startFrame, right.endFrame, right.classId]).toEqual([100, 110, 110, 120, b.id]);
    project.clips.delete(left.id);
    expect(project.clips.list().map((c) => [c.startFrame, c.endFrame])).toEqual([[15, 25], [110, 120]]);
  });

  it('refuses zero-length, negative, past-the-end and outside-split edits with the reason', () => {
    const { project, video } = setup();
    const a = project.classes.add({ name: 'a' });
    const base = { videoId: video.id, classId: a.id };
    expect(() => project.clips.create({ ...base, startFrame: 5, endFrame: 5 })).toThrow('Clip end frame 5 must be after its start frame 5.');
    expect(() => project.clips.create({ ...base, startFrame: -1, endFrame: 5 })).toThrow('Clip start frame -1 is negative.');
    expect(() => project.clips.create({ ...base, startFrame: 290, endFrame: 301 })).toThrow(
      'Clip end frame 301 is past the end of kitchen.mp4 (300 frames).',
    );
    const clip = project.clips.create({ ...base, startFrame: 0, endFrame: 300 });
    expect(() => project.clips.split(clip.id, 0)).toThrow(/strictly inside \[0, 300\)/);
    expect(project.clips.count()).toBe(1);
    expect(project.history.state().undoCount).toBe(2); // the class and the one valid clip
  });
});

describe('undo and redo', () => {
  it('survive a restart, cover class edits, and a new edit drops the redo branch', () => {
    const { dir, project, video } = setup();
    const a = project.classes.add({ name: 'a' });
    const clip = project.clips.create({ videoId: video.id, classId: a.id, startFrame: 0, endFrame: 10 });
    project.clips.update(clip.id, { endFrame: 40 });
    project.classes.update(a.id, { name: 'renamed' });
    project.close();

    const reopened = openProject(dir);
    open[0]!.project = reopened;
    expect(reopened.history.state()).toMatchObject({ canUndo: true, undoLabel: 'Rename class "a" to "renamed"', undoCount: 4 });
    expect(reopened.history.undo()).toBe('Rename class "a" to "renamed"');
    expect(reopened.classes.require(a.id).name).toBe('a');
    expect(reopened.history.undo()).toBe('Resize clip');
    expect(reopened.clips.require(clip.id).endFrame).toBe(10);
    expect(reopened.history.undo()).toBe('Add clip');
    expect(reopened.clips.get(clip.id)).toBeNull();
    reopened.close();

    const third = openProject(dir);
    open[0]!.project = third;
    expect(third.history.state()).toMatchObject({ canRedo: true, redoLabel: 'Add clip', redoCount: 3 });
    expect(third.history.redo()).toBe('Add clip');
    expect(third.clips.require(clip.id)).toMatchObject({ startFrame: 0, endFrame: 10 });
    third.clips.create({ videoId: video.id, classId: a.id, startFrame: 50, endFrame: 60 });
    expect(third.history.state()).toMatchObject({ canRedo: false, redoCount: 0, undoCount: 3 });
    while (third.history.undo() !== null);
    expect(third.classes.list({ includeArchived: true })).toHaveLength(0);
    expect(third.clips.count()).toBe(0);
    expect(third.history.redo()).toBe('Add class "a"');
  });

  it('removing a video is undoable: the video, its timestamps and its clips come back', () => {
    const { project, video } = setup();
    const a = project.classes.add({ name: 'a' });
    project.clips.create({ videoId: video.id, classId: a.id, startFrame: 0, endFrame: 10 });
    project.clips.create({ videoId: video.id, classId: a.id, startFrame: 5, endFrame: 50 });
    project.videos.remove(video.id);
    expect(project.videos.get(video.id)).toBeNull();
    expect(project.clips.count()).toBe(0);
    expect(project.history.undo()).toBe('Remove video kitchen.mp4');
    expect(project.videos.require(video.id).framePts).toEqual(video.framePts);
    expect(project.clips.list().map((c) => [c.startFrame, c.endFrame])).toEqual([[0, 10], [5, 50]]);
  });

  it('reports a conflict instead of corrupting when the rows were removed outside the history', () => {
    const { project, video } = setup();
    const a = project.classes.add({ name: 'a' });
    project.clips.create({ videoId: video.id, classId: a.id, startFrame: 0, endFrame: 10 });
    project.clips.delete(project.clips.list()[0]!.id);
    project.db.prepare('DELETE FROM videos WHERE id = ?').run(video.id); // a change that bypasses the history
    expect(() => project.history.undo()).toThrow(/Cannot undo "Delete clip"/);
    expect(project.history.state().undoLabel).toBe('Delete clip');
    expect(project.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
