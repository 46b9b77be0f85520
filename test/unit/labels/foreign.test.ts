/**
 * Label files written the way BORIS, VIA 3, Label Studio, DeepEthogram and ELAN write them
 * (test/fixtures/labels), imported into a project whose videos run at 25 fps: arena_a.mp4 (60 s) and
 * arena_b.mp4 (40 s). Frame = seconds × 25.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { importLabels, type LabelImportOptions } from '../../../src-main/core/export/labels-import.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import type { Project } from '../../../src-main/core/store/project.ts';
import { newProject, removeDir } from '../store/fixtures.ts';

const FIXTURES = join(import.meta.dirname, '../../fixtures/labels');
const fixture = (name: string) => join(FIXTURES, name);

const open: Array<{ dir: string; project: Project }> = [];
afterEach(() =>
  open.splice(0).forEach(({ dir, project }) => {
    project.close();
    removeDir(dir);
  }),
);

function addCfrVideo(project: Project, path: string, frames: number, fps = 25) {
  const pts = Float64Array.from({ length: frames }, (_, i) => i / fps);
  return project.videos.insert({ path, frameCount: frames, fps, durationS: frames / fps, framePts: pts, width: 160, height: 120 });
}

function setup() {
  const p = newProject();
  open.push(p);
  addCfrVideo(p.project, '/home/lab/videos/arena_a.mp4', 1500);
  addCfrVideo(p.project, '/data/arena_b.mp4', 1000);
  return p;
}

type Row = [video: string, label: string, start: number, end: number, subject: string | null];
function clipsOf(project: Project): Row[] {
  return project.clips
    .list()
    .map((c): Row => [project.videos.require(c.videoId).name, project.classes.require(c.classId).name, c.startFrame, c.endFrame, c.subject])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b), 'en', { numeric: true }));
}

function run(project: Project, file: string, opts: LabelImportOptions = {}) {
  return importLabels(project, file, { createClasses: true, ...opts });
}

function refused(action: () => unknown): UserError {
  try {
    action();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected the import to be refused');
}

describe('BORIS', () => {
  it('aggregated events: subjects kept, so two animals grooming at once are two clips; points are one frame', () => {
    const { project } = setup();
    const result = run(project, fixture('boris-aggregated.tsv'));
    expect(result).toMatchObject({ format: 'boris', recognised: 'BORIS aggregated events (TSV)', imported: 3, subjects: ['mouse 1', 'mouse 2'] });
    expect(clipsOf(project)).toEqual([
      ['arena_a.mp4', 'groom', 250, 313, 'mouse 1'],
      ['arena_a.mp4', 'groom', 275, 325, 'mouse 2'],
      ['arena_a.mp4', 'rear', 501, 502, null],
    ]);
  });

  it('refuses the aggregated export of an observation that plays two videos and points to the .boris file', () => {
    const { project } = setup();
    const error = refused(() => run(project, fixture('boris-aggregated-two-videos.tsv')));
    expect(error.message).toContain('"two files" (arena_a.mp4, arena_b.mp4)');
    expect(error.message).toContain('Import the BORIS project file (.boris) instead');
    expect(error.message).toContain('nothing was imported');
    expect(project.clips.count()).toBe(0);
  });

  it('also refuses the older aggregated layout (Media file, Total length) when one observation names two videos', () => {
    const { project, dir } = setup();
    const header = 'Observation id\tObservation date\tDescription\tMedia file\tTotal length\tFPS\tSubject\tBehavior\tBehavioral category\tModifiers\tBehavior type\tStart (s)\tStop (s)\tDuration (s)\tComment start\tComment stop';
    const row = (media: string, start: string, stop: string) =>
      `observation #2\t2016-12-01 23:01:31\t\t${media}\t100.000\t25.0\tNo focal subject\ts\t\t\tSTATE\t${start}\t${stop}\t1.000\t\t`;
    const file = join(dir, 'old.tsv');
    writeFileSync(file, [header, row('arena_a.mp4', '1.800', '8.125'), row('arena_b.mp4', '67.765', '73.490')].join('\n') + '\n');
    expect(refused(() => run(project, file)).message).toContain('"observation #2" (arena_a.mp4, arena_b.mp4) plays several media files');
    expect(project.clips.count()).toBe(0);
  });

  it('tabular events after the header block of older versions, with the time offset taken off', () => {
    const { project } = setup();
    expect(run(project, fixture('boris-tabular-v7.tsv'))).toMatchObject({ recognised: 'BORIS tabular events (TSV)', imported: 3 });
    // Time offset 2 s: START 5 s / STOP 9 s are 3 s / 7 s on the video.
    expect(clipsOf(project)).toEqual([
      ['arena_b.mp4', 'groom', 75, 175, 'mouse 1'],
      ['arena_b.mp4', 'groom', 275, 325, 'mouse 2'],
      ['arena_b.mp4', 'rear', 251, 252, 'mouse 1'],
    ]);
  });

  it('tabular events of a two-file observation are placed on each video by the durations the export lists', () => {
    const { project } = setup();
    expect(run(project, fixture('boris-tabular.csv'))).toMatchObject({ recognised: 'BORIS tabular events (CSV)', imported: 3 });
    // 65 s into the observation is 5 s into arena_b.mp4, which plays after the 60 s of arena_a.mp4.
    expect(clipsOf(project)).toEqual([
      ['arena_a.mp4', 'walk', 25, 50, null],
      ['arena_b.mp4', 'groom', 125, 175, 'mouse 1'],
      ['arena_b.mp4', 'rear', 376, 377, 'mouse 1'],
    ]);
  });

  it('.boris project: every media observation whose videos are here; files in sequence split by their durations', () => {
    const { project } = setup();
    const result = run(project, fixture('arena.boris'));
    expect(result).toMatchObject({ recognised: 'BORIS project (.boris)', imported: 6 });
    expect(result.notes.join('\n')).toContain('without media (live or images): live');
    expect(result.notes.join('\n')).toContain('whose videos are not in the project: other lab');
    expect(clipsOf(project)).toEqual([
      ['arena_a.mp4', 'groom', 250, 313, 'mouse 1'],
      ['arena_a.mp4', 'groom', 275, 325, 'mouse 2'],
      ['arena_a.mp4', 'rear', 501, 502, null],
      ['arena_a.mp4', 'walk', 25, 50, null],
      // 65 s into the observation is 5 s into arena_b.mp4, which plays after the 60 s of arena_a.mp4.
      ['arena_b.mp4', 'groom', 125, 175, 'mouse 1'],
      ['arena_b.mp4', 'rear', 376, 377, 'mouse 1'],
    ]);
  });

  it('.boris.gz (a compressed project) reads the same', () => {
    const { project, dir } = setup();
    const file = join(dir, 'arena.boris.gz');
    writeFileSync(file, gzipSync(readFileSync(fixture('arena.boris'))));
    expect(run(project, file)).toMatchObject({ recognised: 'BORIS project (.boris)', imported: 6 });
  });

  it('.boris project: --observation picks observations and an unknown one is named', () => {
    const { project } = setup();
    expect(run(project, fixture('arena.boris'), { observations: ['two files'] })).toMatchObject({ imported: 3 });
    expect(clipsOf(project).map((r) => r[0])).toEqual(['arena_a.mp4', 'arena_b.mp4', 'arena_b.mp4']);
    const error = refused(() => run(project, fixture('arena.boris'), { observations: ['session 9'] }));
    expect(error.message).toContain('no observation "session 9"');
    expect(error.message).toContain('"session 1", "two files", "live", "other lab"');
  });
});

describe('VIA 3', () => {
  const expected: Row[] = [
    ['arena_b.mp4', 'groom', 50, 163, 'mouse 1'],
    ['arena_b.mp4', 'walk', 225, 500, null],
  ];

  it.each([
    ['via-project.json', 'VIA 3 project (JSON)', 'regions'],
    ['via3.csv', 'VIA3 CSV', 'rows'],
    ['via-temporal-segments.csv', 'VIA 3 temporal segments CSV', 'rows'],
  ])('%s: segments with their subject attribute; still frames skipped with a count', (name, recognised, what) => {
    const { project } = setup();
    const result = run(project, fixture(name));
    expect(result).toMatchObject({ format: 'via', recognised, imported: 2 });
    expect(result.notes).toContain(`skipped 2 single-time (spatial) ${what}`);
    expect(clipsOf(project)).toEqual(expected);
  });

  it('a temporal segments CSV without its columns is refused naming the header line (line 2)', () => {
    const { project, dir } = setup();
    const file = join(dir, 'bad-via.csv');
    writeFileSync(file, '# Exported using VGG Image Annotator (http://www.robots.ox.ac.uk/~vgg/software/via)\n# CSV_HEADER = metadata_id,file_list,metadata\n"1_a","[""arena_b.mp4""]","{}"');
    expect(refused(() => run(project, file)).message).toContain('line 2: the VIA3 CSV header lacks column temporal_coordinates');
  });

  it('times past the end of the video are an error naming the segment, the time and the duration; nothing imported', () => {
    const { project, dir } = setup();
    const store = JSON.parse(readFileSync(fixture('via-project.json'), 'utf8'));
    store.metadata['1_late'] = { vid: '1', flg: 0, z: [32, 63], xy: [], av: { 1: 'cut garlic' } };
    store.metadata['1_later'] = { vid: '1', flg: 0, z: [64, 128], xy: [], av: { 1: 'mix' } };
    const file = join(dir, 'late.json');
    writeFileSync(file, JSON.stringify(store));
    const error = refused(() => run(project, file));
    expect(error.message).toContain('2 problems; nothing was imported');
    expect(error.message).toContain('metadata "1_late": end 63 s is past the end of arena_b.mp4 (40 s long)');
    expect(error.message).toContain('metadata "1_later": start 64 s is past the end of arena_b.mp4 (40 s long)');
    expect(project.clips.count()).toBe(0);
    expect(project.classes.list()).toEqual([]);
  });
});

describe('Label Studio', () => {
  const expected: Row[] = [
    ['arena_a.mp4', 'groom', 250, 363, 'mouse1'],
    ['arena_a.mp4', 'groom', 250, 363, 'mouse2'],
    ['arena_b.mp4', 'groom', 50, 163, null],
    ['arena_b.mp4', 'rear', 375, 376, null],
    ['arena_b.mp4', 'walk', 225, 500, null],
  ];

  it.each([
    ['labelstudio.json', 'Label Studio JSON'],
    ['labelstudio-min.json', 'Label Studio JSON-MIN'],
    ['labelstudio.csv', 'Label Studio CSV'],
  ])('%s: uploads matched without their prefix, one subject per timeline, frames at --fps', (name, recognised) => {
    const { project } = setup();
    const result = run(project, fixture(name), { fps: 25 });
    expect(result).toMatchObject({ format: 'labelstudio', recognised, imported: 5, notes: [] });
    expect(clipsOf(project)).toEqual(expected);
  });

  it("counts frames at Label Studio's default 24 fps and says so when the video's rate differs", () => {
    const { project } = setup();
    const result = run(project, fixture('labelstudio.json'));
    expect(result.notes).toContain(
      "arena_b.mp4 plays at 25 fps but frames were read at 24 fps; if the labelling project's <Video framerate> is 25, import again with --fps 25",
    );
    // Frame 51 at 24 fps starts at 50 / 24 = 2.083 s: frame 52 of a 25 fps video.
    expect(clipsOf(project).find((r) => r[1] === 'groom' && r[0] === 'arena_b.mp4')).toEqual(['arena_b.mp4', 'groom', 52, 170, null]);
  });

  it('a video missing from the project is reported once for all its labels, in one run with the other problems', () => {
    const { project, dir } = setup();
    const tasks = [
      {
        id: 1,
        data: { video: '/data/upload/1/3d3ad63e-trainingdata.mp4' },
        annotations: [
          {
            result: Array.from({ length: 30 }, (_, i) => ({
              type: 'timelinelabels',
              from_name: 'videoLabels',
              value: { ranges: [{ start: i * 10 + 1, end: i * 10 + 5 }], timelinelabels: ['seoi'] },
            })),
          },
        ],
      },
      { id: 2, data: { video: 'arena_b.mp4' }, annotations: [{ result: [{ type: 'timelinelabels', value: { ranges: [{ start: 1.5, end: 3 }], timelinelabels: ['groom'] } }] }] },
    ];
    const file = join(dir, 'ls.json');
    writeFileSync(file, JSON.stringify(tasks));
    const error = refused(() => run(project, file, { fps: 25 }));
    const message = error.message;
    expect(message.match(/is not in the project/g)).toHaveLength(1);
    expect(message).toContain('30 times (task 1 (id 1), annotation 1, result 1, task 1 (id 1), annotation 1, result 2,');
    expect(message).toContain('video "/data/upload/1/3d3ad63e-trainingdata.mp4" is not in the project');
    expect(message).toContain('task 2 (id 2), annotation 1, result 1: range {"start":1.5,"end":3} must hold whole frame numbers');
    expect(project.clips.count()).toBe(0);
  });
});

describe('per-frame 0/1 CSV (DeepEthogram)', () => {
  it('bouts of 1s become clips; background is not a class; the video comes from the file name', () => {
    const { project } = setup();
    const result = run(project, fixture('arena_b_labels.csv'));
    expect(result).toMatchObject({ format: 'per-frame', recognised: 'per-frame 0/1 CSV', imported: 4, createdClasses: ['groom', 'rear'] });
    expect(clipsOf(project)).toEqual([
      ['arena_b.mp4', 'groom', 100, 150, null],
      ['arena_b.mp4', 'groom', 300, 310, null],
      ['arena_b.mp4', 'groom', 990, 1000, null],
      ['arena_b.mp4', 'rear', 500, 501, null],
    ]);
  });

  it('--video names the video; more rows than frames is an error naming the line', () => {
    const { project, dir } = setup();
    const text = readFileSync(fixture('arena_b_labels.csv'), 'utf8');
    const file = join(dir, 'labels.csv');
    writeFileSync(file, text);
    expect(run(project, file, { video: 'arena_b.mp4' })).toMatchObject({ imported: 4 });
    const longer = join(dir, 'arena_b_labels.csv');
    writeFileSync(longer, text + '1000,0,1,0\n1001,0,1,0\n');
    const error = refused(() => run(project, longer));
    // The last bout starts at frame 990 (line 992) and now runs to frame 1002.
    expect(error.message).toContain('1 problem; nothing was imported');
    expect(error.message).toContain('line 992: end frame 1002 is past the end of arena_b.mp4 (1000 frames, 40 s long)');
  });
});

describe('ELAN', () => {
  it('each tier: the value is the class, the participant the subject; references take their parent’s times', () => {
    const { project } = setup();
    expect(run(project, fixture('arena_b.eaf'))).toMatchObject({ format: 'elan', recognised: 'ELAN (.eaf)', imported: 4 });
    expect(clipsOf(project)).toEqual([
      ['arena_b.mp4', 'groom', 50, 163, 'mouse 1'],
      ['arena_b.mp4', 'groom', 50, 163, 'mouse 2'],
      ['arena_b.mp4', 'near wall', 225, 500, 'mouse 1'],
      ['arena_b.mp4', 'walk', 225, 500, 'mouse 1'],
    ]);
  });

  it('--tier picks tiers and an unknown tier is named', () => {
    const { project } = setup();
    expect(run(project, fixture('arena_b.eaf'), { tiers: ['mouse 2'] })).toMatchObject({ imported: 1 });
    expect(refused(() => run(project, fixture('arena_b.eaf'), { tiers: ['mouse 3'] })).message).toContain('no tier "mouse 3"; it has "mouse 1", "mouse 2", "mouse 1 notes"');
  });
});

describe('format detection', () => {
  it.each([
    ['boris-aggregated.tsv', 'boris'],
    ['boris-tabular-v7.tsv', 'boris'],
    ['boris-tabular.csv', 'boris'],
    ['arena.boris', 'boris'],
    ['via-project.json', 'via'],
    ['via3.csv', 'via'],
    ['via-temporal-segments.csv', 'via'],
    ['labelstudio.json', 'labelstudio'],
    ['labelstudio-min.json', 'labelstudio'],
    ['labelstudio.csv', 'labelstudio'],
    ['arena_b_labels.csv', 'per-frame'],
    ['arena_b.eaf', 'elan'],
  ])('%s is recognised as %s; --format forces a reader', (name, format) => {
    const { project } = setup();
    expect(run(project, fixture(name), { fps: 25 }).format).toBe(format);
    const other = format === 'per-frame' ? 'stm' : 'per-frame';
    expect(() => run(project, fixture(name), { format: other as LabelImportOptions['format'] })).toThrow(UserError);
  });
});

describe('per-frame tables with other columns (SimBA style)', () => {
  it('feature columns are ignored with a note; a stray value in a behaviour column is a problem on its line', () => {
    const { project, dir } = setup();
    const rows = ['frame,Nose_x,Nose_p,attack,sniff'];
    for (let f = 0; f < 200; f++) rows.push(`${f},${(100 + f * 0.37).toFixed(2)},0.99,${f >= 20 && f < 30 ? 1 : 0},${f >= 50 && f < 80 ? 1 : 0}`);
    const file = join(dir, 'arena_b.csv');
    writeFileSync(file, rows.join('\n') + '\n');
    const result = run(project, file, { format: 'per-frame' });
    expect(result.notes).toContain('ignored 2 columns that are not 0/1: Nose_x, Nose_p');
    expect(clipsOf(project)).toEqual([
      ['arena_b.mp4', 'attack', 20, 30, null],
      ['arena_b.mp4', 'sniff', 50, 80, null],
    ]);
    rows[101] = '100,137.00,0.99,0,2';
    writeFileSync(file, rows.join('\n') + '\n');
    expect(refused(() => run(project, file, { format: 'per-frame' })).message).toContain('line 102: sniff "2" must be 0 or 1');
  });
});
