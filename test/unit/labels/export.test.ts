/**
 * Exports for the tools people share data with, each read back where we also read the format:
 * BORIS tabular events and per-frame tables round-trip; mmaction2 clips are cut frame-exactly (checked on
 * a video whose frames carry their own index) and listed by split.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportLabels } from '../../../src-main/core/export/labels-export.ts';
import { importLabels } from '../../../src-main/core/export/labels-import.ts';
import { decodeSpan } from '../../../src-main/core/media/decode.ts';
import { addVideos } from '../../../src-main/core/media/library.ts';
import { requireFfmpegTools, type FfmpegTools } from '../../../src-main/core/media/locate.ts';
import { probeVideo } from '../../../src-main/core/media/probe.ts';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import { frameIndexOf, makeTestVideo } from '../../helpers/videos.ts';
import { addVideo, vfrPts } from '../store/fixtures.ts';

const SIDE = 64;
let dir: string;
let tools: FfmpegTools;
const projects: Project[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-labels-export-'));
  tools = await requireFfmpegTools();
});
afterAll(() => {
  projects.forEach((p) => p.close());
  rmSync(dir, { recursive: true, force: true });
});

function project(name: string): Project {
  const p = openProject(join(dir, name), { create: true });
  projects.push(p);
  return p;
}

type Row = [string, string, number, number, string | null];
function clipsOf(p: Project, withSubject = true): Row[] {
  return p.clips
    .list()
    .map((c): Row => [p.videos.require(c.videoId).name, p.classes.require(c.classId).name, c.startFrame, c.endFrame, withSubject ? c.subject : null])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b), 'en', { numeric: true }));
}

/** Two variable-frame-rate videos with clips: two subjects, back-to-back clips, a one-frame clip. */
function labelled(name: string): Project {
  const p = project(name);
  const a = addVideo(p, '/data/cam1/kitchen.mp4', 300);
  const b = addVideo(p, '/data/cam2/garden.mov', 200);
  const walk = p.classes.add({ name: 'walk' });
  const run = p.classes.add({ name: 'run' });
  p.clips.createMany([
    { videoId: a.id, classId: walk.id, startFrame: 3, endFrame: 10, subject: 'mouse 1' },
    { videoId: a.id, classId: walk.id, startFrame: 3, endFrame: 10, subject: 'mouse 2' },
    { videoId: a.id, classId: walk.id, startFrame: 10, endFrame: 40, subject: 'mouse 1' },
    { videoId: a.id, classId: run.id, startFrame: 299, endFrame: 300 },
    { videoId: b.id, classId: run.id, startFrame: 0, endFrame: 1 },
    { videoId: b.id, classId: walk.id, startFrame: 50, endFrame: 199 },
  ]);
  return p;
}

function sameVideos(p: Project) {
  addVideo(p, '/data/cam1/kitchen.mp4', 300);
  addVideo(p, '/data/cam2/garden.mov', 200);
  return p;
}

describe('labels export', () => {
  it('our CSV keeps the subject and reads back identically', async () => {
    const source = labelled('stm-src');
    const file = join(dir, 'labels.csv');
    expect(await exportLabels(source, file)).toMatchObject({ format: 'stm', rows: 6 });
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('video,video_path,start_frame,end_frame,start_s,end_s,label,split,source,subject');
    const target = sameVideos(project('stm-dst'));
    expect(importLabels(target, file, { createClasses: true })).toMatchObject({ recognised: 'labels CSV', imported: 6, subjects: ['mouse 1', 'mouse 2'] });
    expect(clipsOf(target)).toEqual(clipsOf(source));
  });

  it('BORIS tabular events: START/STOP rows in BORIS layout that read back to the same clips and subjects', async () => {
    const source = labelled('boris-src');
    const file = join(dir, 'events.tsv');
    expect(await exportLabels(source, file, { format: 'boris' })).toMatchObject({ format: 'boris', rows: 6, notes: [] });
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines[0]!.split('\t')).toEqual([
      'Observation id', 'Observation date', 'Description', 'Observation duration', 'Observation type', 'Source', 'Time offset (s)',
      'Media duration (s)', 'FPS', 'Subject', 'Behavior', 'Behavioral category', 'Behavior type', 'Time', 'Media file name',
      'Image index', 'Image file path', 'Comment',
    ]);
    expect(lines).toHaveLength(1 + 2 * 6);
    // Back-to-back walks of mouse 1: the first STOP comes before the second START at frame 10.
    const mouse1 = lines.filter((l) => l.includes('\tmouse 1\twalk\t')).map((l) => l.split('\t').slice(12, 16));
    const pts = vfrPts(300);
    expect(mouse1).toEqual([
      ['START', pts[3]!.toFixed(3), '/data/cam1/kitchen.mp4', '3'],
      ['STOP', pts[10]!.toFixed(3), '/data/cam1/kitchen.mp4', '10'],
      ['START', pts[10]!.toFixed(3), '/data/cam1/kitchen.mp4', '10'],
      ['STOP', pts[40]!.toFixed(3), '/data/cam1/kitchen.mp4', '40'],
    ]);
    const target = sameVideos(project('boris-dst'));
    expect(importLabels(target, file, { createClasses: true })).toMatchObject({ recognised: 'BORIS tabular events (TSV)', imported: 6 });
    expect(clipsOf(target)).toEqual(clipsOf(source));
  });

  it('BORIS project (.boris): one media observation per video with paired state events, read back to the same clips', async () => {
    const source = labelled('boris-project-src');
    const file = join(dir, 'labels.boris');
    expect(await exportLabels(source, file, { format: 'boris' })).toMatchObject({ rows: 6, files: [file] });
    const boris = JSON.parse(readFileSync(file, 'utf8'));
    expect(boris.project_format_version).toBe('7.0');
    expect(Object.keys(boris.observations).sort()).toEqual(['garden.mov', 'kitchen.mp4']);
    expect(Object.values(boris.behaviors_conf).map((b) => (b as { code: string; type: string }).type + ':' + (b as { code: string }).code).sort()).toEqual(['State event:run', 'State event:walk']);
    expect(Object.values(boris.subjects_conf).map((s) => (s as { name: string }).name)).toEqual(['mouse 1', 'mouse 2']);
    const kitchen = boris.observations['kitchen.mp4'];
    expect(kitchen).toMatchObject({ type: 'MEDIA', 'time offset': 0, file: { 1: ['/data/cam1/kitchen.mp4'] } });
    expect(kitchen.media_info.length['/data/cam1/kitchen.mp4']).toBeCloseTo(source.videos.findByPathOrName('kitchen.mp4')!.durationS!, 3);
    const times = kitchen.events.map((e: unknown[]) => e[0] as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(kitchen.events).toHaveLength(2 * 4);

    const target = sameVideos(project('boris-project-dst'));
    expect(importLabels(target, file, { createClasses: true })).toMatchObject({ recognised: 'BORIS project (.boris)', imported: 6 });
    expect(clipsOf(target)).toEqual(clipsOf(source));
  });

  it('BORIS: overlapping clips of one class and subject are joined, and said so', async () => {
    const p = labelled('boris-overlap');
    const video = p.videos.findByPathOrName('kitchen.mp4')!;
    p.clips.create({ videoId: video.id, classId: p.classes.findByName('walk')!.id, startFrame: 30, endFrame: 60, subject: 'mouse 1' });
    const result = await exportLabels(p, join(dir, 'overlap.tsv'), { format: 'boris' });
    expect(result).toMatchObject({ rows: 6, notes: ['1 overlapping clip of one class and subject was joined (BORIS cannot hold overlapping states)'] });
  });

  it("per-frame: one DeepEthogram-style table per video, one row per frame, bouts read back as the same clips", async () => {
    const source = labelled('frames-src');
    const out = join(dir, 'per-frame');
    const result = await exportLabels(source, out, { format: 'per-frame' });
    expect(result).toMatchObject({ rows: 6, notes: ['subjects are not kept: the per-frame layout has no place for them'] });
    expect(readdirSync(out).sort()).toEqual(['garden_labels.csv', 'kitchen_labels.csv']);
    expect(result.files).toHaveLength(2);
    const kitchen = readFileSync(join(out, 'kitchen_labels.csv'), 'utf8').trim().split('\n');
    expect(kitchen[0]).toBe(',background,walk,run');
    expect(kitchen).toHaveLength(1 + 300);
    expect(kitchen.slice(1, 5)).toEqual(['0,1,0,0', '1,1,0,0', '2,1,0,0', '3,0,1,0']);
    expect(kitchen[300]).toBe('299,0,0,1');

    const target = sameVideos(project('frames-dst'));
    importLabels(target, join(out, 'kitchen_labels.csv'), { createClasses: true });
    importLabels(target, join(out, 'garden_labels.csv'), { createClasses: true });
    // Subjects have no column here, and touching clips of one class become one bout.
    expect(clipsOf(target, false)).toEqual([
      ['garden.mov', 'run', 0, 1, null],
      ['garden.mov', 'walk', 50, 199, null],
      ['kitchen.mp4', 'run', 299, 300, null],
      ['kitchen.mp4', 'walk', 3, 40, null],
    ]);
  });

  it('mmaction: every clip cut frame-exactly into its own file, listed by split with label indices', async () => {
    const p = project('mmaction');
    const path = await makeTestVideo(join(dir, 'coded.mp4'), { frames: 90, fps: 25, size: [SIDE, SIDE], frameIndexCoded: true, vfr: true });
    const [added] = await addVideos(p, tools, [path]);
    expect(added).toMatchObject({ ok: true });
    const video = p.videos.list()[0]!;
    const walk = p.classes.add({ name: 'walk' });
    const run = p.classes.add({ name: 'run fast' });
    p.clips.createMany([
      { videoId: video.id, classId: run.id, startFrame: 0, endFrame: 8, split: 'train' },
      { videoId: video.id, classId: walk.id, startFrame: 37, endFrame: 45, split: 'val' },
      { videoId: video.id, classId: run.id, startFrame: 81, endFrame: 90 },
    ]);
    const out = join(dir, 'mm');
    const progress: number[] = [];
    const result = await exportLabels(p, out, { format: 'mmaction', tools, onProgress: ({ done }) => progress.push(done) });
    expect(result).toMatchObject({ format: 'mmaction', rows: 3, notes: ['1 clip without a split went to train.txt'] });
    expect(progress).toEqual([0, 1, 2, 3]);
    expect(readFileSync(join(out, 'classes.txt'), 'utf8')).toBe('walk\nrun fast\n');
    const train = readFileSync(join(out, 'train.txt'), 'utf8').trim().split('\n');
    const val = readFileSync(join(out, 'val.txt'), 'utf8').trim().split('\n');
    expect(train.map((l) => l.split(' ')[1])).toEqual(['1', '1']);
    expect(val.map((l) => l.split(' ')[1])).toEqual(['0']);
    expect(train[0]).toMatch(/^clips\/coded_000000-000008_run_fast_\d+\.mp4 1$/);

    const spans: Array<[string, number, number]> = [
      [train[0]!, 0, 8],
      [val[0]!, 37, 45],
      [train[1]!, 81, 90],
    ];
    for (const [line, start, end] of spans) {
      const clip = await probeVideo(tools, join(out, line.split(' ')[0]!));
      expect(clip.frameCount).toBe(end - start);
      const decoded = await decodeSpan(tools, { ...clip, path: join(out, line.split(' ')[0]!) }, { start: 0, end: end - start, width: SIDE, height: SIDE });
      const bytes = SIDE * SIDE * 3;
      const painted = Array.from({ length: end - start }, (_, i) => frameIndexOf(decoded.data.subarray(i * bytes, (i + 1) * bytes), SIDE, [SIDE, SIDE]));
      expect(painted).toEqual(Array.from({ length: end - start }, (_, i) => start + i));
    }
  });
});
