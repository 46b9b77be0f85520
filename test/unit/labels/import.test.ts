import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { importLabels } from '../../../src-main/core/export/labels-import.ts';
import { exportLabels } from '../../../src-main/core/export/labels-export.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import type { Project } from '../../../src-main/core/store/project.ts';
import { addVideo, newProject, removeDir, vfrPts } from '../store/fixtures.ts';

const open: Array<{ dir: string; project: Project }> = [];
afterEach(() =>
  open.splice(0).forEach(({ dir, project }) => {
    project.close();
    removeDir(dir);
  }),
);

function setup(classes: string[] = ['walk', 'run']) {
  const p = newProject();
  open.push(p);
  const kitchen = addVideo(p.project, '/data/cam1/kitchen.mp4', 300);
  const garden = addVideo(p.project, '/data/cam2/garden.mov', 200);
  for (const name of classes) p.project.classes.add({ name });
  const write = (name: string, text: string) => {
    const file = join(p.dir, name);
    writeFileSync(file, text);
    return file;
  };
  return { ...p, kitchen, garden, write };
}

function expectProblems(run: () => unknown, ...fragments: string[]): UserError {
  let error: unknown;
  try {
    run();
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(UserError);
  for (const f of fragments) expect((error as UserError).message).toContain(f);
  expect((error as UserError).message).toContain('nothing was imported');
  return error as UserError;
}

const pts = vfrPts(300);

describe('our labels CSV', () => {
  it('exports with seconds from the decoded timestamps and imports back into another project identically', async () => {
    const { project, dir, kitchen, garden } = setup();
    const walk = project.classes.findByName('walk')!;
    const run = project.classes.findByName('run')!;
    project.clips.create({ videoId: kitchen.id, classId: walk.id, startFrame: 3, endFrame: 10, split: 'train' });
    project.clips.create({ videoId: kitchen.id, classId: run.id, startFrame: 5, endFrame: 300 });
    project.clips.create({ videoId: garden.id, classId: run.id, startFrame: 0, endFrame: 1, split: 'val' });
    const file = join(dir, 'labels, "all".csv');
    expect((await exportLabels(project, file)).rows).toBe(3);

    const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(rows[0]!)).toEqual(['video', 'video_path', 'start_frame', 'end_frame', 'start_s', 'end_s', 'label', 'split', 'source', 'subject']);
    const first = rows.find((r) => r.video === 'kitchen.mp4' && r.label === 'walk')!;
    // Frame 3 of a variable-rate video starts at 0.16 s (not 3 / 25 = 0.12 s); frame 10 at 0.4 s.
    expect([Number(first.start_s), Number(first.end_s)]).toEqual([pts[3], pts[10]]);
    expect(Number(first.start_s)).not.toBeCloseTo(3 / 25, 3);
    const toEnd = rows.find((r) => r.label === 'run' && r.video === 'kitchen.mp4')!;
    expect(Number(toEnd.end_s)).toBeCloseTo(kitchen.durationS!, 6);

    const other = setup([]);
    const result = importLabels(other.project, file, { createClasses: true });
    expect(result).toMatchObject({ format: 'stm', imported: 3, duplicates: 0, videos: 2 });
    expect(result.createdClasses.sort()).toEqual(['run', 'walk']);
    const summary = (p: Project) =>
      p.clips
        .list()
        .map((c) => [p.videos.require(c.videoId).name, p.classes.require(c.classId).name, c.startFrame, c.endFrame, c.split])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(summary(other.project)).toEqual(summary(project));
    expect(other.project.clips.list().every((c) => c.source === 'imported')).toBe(true);

    // Importing the same file again adds nothing.
    expect(importLabels(other.project, file)).toMatchObject({ imported: 0, duplicates: 3 });
  });

  it('maps seconds through the video timestamps when frames are absent, matching videos by file name', () => {
    const { project, write } = setup();
    const file = write('secs.csv', `video,start_s,end_s,label\nKITCHEN.mp4,${pts[7]},${pts[20]! + 0.001},walk\n`);
    importLabels(project, file);
    expect(project.clips.list()[0]).toMatchObject({ startFrame: 7, endFrame: 20 });
  });

  it('lists every bad row by line and imports nothing', () => {
    const { project, write } = setup();
    const file = write(
      'bad.csv',
      [
        'video,video_path,start_frame,end_frame,label,split',
        'kitchen.mp4,,10,5,walk,',
        'kitchen.mp4,,-3,5,walk,',
        'kitchen.mp4,,290,301,walk,',
        'kitchen.mp4,,1,2,walk,test',
        'kitchen.mp4,,abc,2,walk,',
        'kitchen.mp4,,0,4,swim,',
        'missing.mp4,,0,4,walk,',
        'kitchen.mp4,,0,4,walk,',
      ].join('\n'),
    );
    const before = project.history.state();
    const error = expectProblems(
      () => importLabels(project, file),
      'line 2: end frame 5 is not after start frame 10',
      'line 3: start frame -3 is negative',
      'line 4: end frame 301 is past the end of kitchen.mp4 (300 frames, 17.96 s long)',
      'line 5: split "test" must be train, val or empty',
      'line 6: start_frame "abc" is not a number',
      'line 7: class "swim" does not exist',
      'line 8: video "missing.mp4" is not in the project',
    );
    expect(error.message).toContain('7 problems');
    expect(error.message).not.toContain('line 9');
    expect(error.details).toMatchObject({ problems: expect.any(Array) });
    expect(project.clips.count()).toBe(0);
    expect(project.history.state()).toEqual(before);

    const unknown = write('unknown.csv', 'video,start_frame,end_frame,label\nkitchen.mp4,0,4,swim\nmissing.mp4,0,4,walk\nkitchen.mp4,0,4,swim\n');
    expectProblems(
      () => importLabels(project, unknown),
      'line 2: class "swim" does not exist (add it, or import with --create-classes)',
      'line 3: video "missing.mp4" is not in the project',
      'line 4: class "swim"',
    );
    expect(project.classes.list().map((c) => c.name)).toEqual(['walk', 'run']);

    addVideo(project, '/data/cam3/kitchen.mp4', 300);
    const ambiguous = write('ambiguous.csv', 'video,start_frame,end_frame,label\nkitchen.mp4,0,4,walk\n/data/cam3/kitchen.mp4,0,4,walk\n');
    expectProblems(
      () => importLabels(project, ambiguous),
      'line 2: video "kitchen.mp4" matches 2 videos by file name (/data/cam1/kitchen.mp4, /data/cam3/kitchen.mp4); give its full path',
    );
  });

  it('names the line of broken quoting and the missing header columns', () => {
    const { project, write } = setup();
    const quoting = write('quote.csv', 'video,start_frame,end_frame,label\nkitchen.mp4,0,4,walk\nkitchen.mp4,0,4,"walk\n');
    expectProblems(() => importLabels(project, quoting, { format: 'stm' }), 'line 3');
    // A quoted cell spanning two lines and a blank line still leave the reported line right.
    const spanning = write('span.csv', 'video,start_frame,end_frame,label\nkitchen.mp4,0,4,"walk\nslowly"\n\nkitchen.mp4,9,4,walk\n');
    expectProblems(() => importLabels(project, spanning, { format: 'stm' }), 'line 2: class "walk\nslowly" does not exist', 'line 5: end frame 4 is not after start frame 9');
    const header = write('header.csv', 'video,start_frame,end_frame,class\nkitchen.mp4,0,4,walk\n');
    expectProblems(() => importLabels(project, header, { format: 'stm' }), 'line 1', 'lacks column label');
    expect(project.clips.count()).toBe(0);
  });

  it('creates missing classes only when asked, as one undoable edit', () => {
    const { project, write } = setup(['walk']);
    const file = write('new.csv', 'video,start_frame,end_frame,label\nkitchen.mp4,0,4,swim\ngarden.mov,2,9,dive\ngarden.mov,3,9,swim\n');
    expectProblems(() => importLabels(project, file), 'class "swim"', 'class "dive"');
    const result = importLabels(project, file, { createClasses: true });
    expect(result).toMatchObject({ imported: 3, createdClasses: ['swim', 'dive'] });
    expect(project.classes.list().map((c) => c.name)).toEqual(['walk', 'swim', 'dive']);
    expect(project.history.undo()).toMatch(/^Import 3 labels from/);
    expect(project.clips.count()).toBe(0);
    expect(project.classes.list().map((c) => c.name)).toEqual(['walk']);
  });
});

describe('foreign formats', () => {
  it('reads BORIS aggregated events (TSV), point events as one frame', () => {
    const { project, write } = setup();
    const header = ['Observation id', 'Media file name', 'Total length', 'FPS', 'Subject', 'Behavior', 'Behavioral category', 'Behavior type', 'Start (s)', 'Stop (s)', 'Duration (s)'];
    const file = write(
      'boris.tsv',
      [
        header.join('\t'),
        ['obs1', '/home/me/videos/kitchen.mp4', '17.9', '25', 'No focal subject', 'walk', '', 'STATE', String(pts[10]), String(pts[30]), '1'].join('\t'),
        ['obs1', '/home/me/videos/kitchen.mp4', '17.9', '25', 'No focal subject', 'run', '', 'POINT', String(pts[50]), String(pts[50]), '0'].join('\t'),
      ].join('\n'),
    );
    expect(importLabels(project, file)).toMatchObject({ format: 'boris', imported: 2 });
    expect(project.clips.list().map((c) => [c.startFrame, c.endFrame])).toEqual([[10, 30], [50, 51]]);

    const stateZero = write('boris-bad.csv', `Media file name,Behavior,Behavior type,Start (s),Stop (s)\nkitchen.mp4,walk,STATE,2.0,1.0\n`);
    expectProblems(() => importLabels(project, stateZero), 'line 2: end 1 s is not after start 2 s');
  });

  it('reads VIA temporal segments CSV, mapping option ids through the attribute definitions', () => {
    const { project, write } = setup();
    const file = write(
      'via.csv',
      [
        '# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)',
        '# ATTRIBUTE = {"1":{"aname":"note","anchor_id":"FILE1_Z0_XY0","type":1,"options":{}},"2":{"aname":"action","anchor_id":"FILE1_Z2_XY0","type":4,"options":{"0":"walk","1":"run"}}}',
        '# CSV_HEADER = metadata_id,file_list,flags,temporal_coordinates,spatial_coordinates,metadata',
        `1_a,"[""kitchen.mp4""]",0,"[${pts[4]},${pts[12]}]","[]","{""1"":""blurry"",""2"":""0""}"`,
        `1_b,"[""garden.mov""]",0,"[${pts[0]},${pts[6]}]","[]","{""1"":""run""}"`,
        `1_c,"[""garden.mov""]",0,"[2.5]","[]","{""1"":""run""}"`,
        `1_d,"[""garden.mov""]",0,"[1,x]","[]","{""1"":""run""}"`,
      ].join('\n'),
    );
    expectProblems(() => importLabels(project, file), 'line 7: temporal_coordinates is not valid JSON');
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, 6).join('\n'));
    expect(importLabels(project, file)).toMatchObject({ format: 'via', imported: 2 });
    const clips = project.clips.list().map((c) => [project.videos.require(c.videoId).name, project.classes.require(c.classId).name, c.startFrame, c.endFrame]);
    expect(clips).toEqual([
      ['kitchen.mp4', 'walk', 4, 12],
      ['garden.mov', 'run', 0, 6],
    ]);
  });

});
