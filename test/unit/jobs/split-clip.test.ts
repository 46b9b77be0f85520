/**
 * All labels on one video: the split by video has no validation. The Train form learns it before the run
 * (train.splitPreview), every progress report of the run says it, and a split by clip gives validation.
 */
import { describe, expect, it } from 'vitest';
import type { JobProgress } from '../../../src-main/api/contract/jobs.ts';
import { splitClips } from '../../../src-main/core/jobs/split.ts';
import { recordingHooks, TINY_TRAIN, trainingTestbed } from './project-fixture.ts';

const { fixture, openApi, trainInProcess } = trainingTestbed();

describe('split by clip', () => {
  const clips = [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3].map((classId, i) => ({ id: i + 1, videoId: 7, classId, split: null }));

  it('sends a share of each class to validation and keeps every class in training', () => {
    const split = splitClips(clips, 'clip', { valFraction: 0.4, seed: 3 });
    expect(split.val.filter((c) => c.classId === 1)).toHaveLength(2);
    expect(split.val.filter((c) => c.classId === 2)).toHaveLength(2);
    // A class with one clip keeps it for training.
    expect(split.train.filter((c) => c.classId === 3)).toHaveLength(1);
    expect(split.note).toMatch(/^split by clip: 4 of 11 clips for validation/);
    expect(splitClips(clips, 'clip', { valFraction: 0.4, seed: 3 }).val.map((c) => c.id)).toEqual(split.val.map((c) => c.id));
    expect(splitClips(clips, 'video', { valFraction: 0.4 }).val).toEqual([]);
  });
});

describe('training without validation', () => {
  it('is known before the run and reported by it; a split by clip validates', async () => {
    const f = await fixture();
    // Every clip on the first video.
    f.project.db.prepare('UPDATE clips SET video_id = ?').run(f.videoIds[0]);
    const api = openApi(f.dir);
    const byVideo = await api.client.call('train.splitPreview', { split: 'video', valFraction: 0.2 });
    expect(byVideo).toMatchObject({ valClips: 0, trainClips: 8, videos: 1, note: expect.stringMatching(/only one video: no validation split/) });
    const byClip = await api.client.call('train.splitPreview', { split: 'clip', valFraction: 0.25 });
    expect(byClip).toMatchObject({ valClips: 2, trainClips: 6, videos: 1 });

    const reports: Array<Pick<JobProgress, 'validation'>> = [];
    await trainInProcess(f, { epochs: 1, split: 'video' }, recordingHooks({ onReport: (p) => reports.push(p) })).run;
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every((r) => r.validation?.clips === 0)).toBe(true);

    const withVal = await api.client.call('train.start', { ...TINY_TRAIN, epochs: 1, split: 'clip', valFraction: 0.25 });
    const done = await api.client.call('jobs.wait', { id: withVal.id });
    expect(done.status, done.error ?? '').toBe('done');
    expect(done.progress?.validation).toEqual({ clips: 2, note: expect.stringMatching(/^split by clip: 2 of 8 clips/) });
    expect(done.figures?.val_top1).toEqual(expect.any(Number));
  }, 180_000);
});
