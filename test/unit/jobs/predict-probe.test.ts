import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import type { Project } from '../../../src-main/core/store/project.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { archOf, saveCheckpointAtomically } from '../../../src-main/core/jobs/model-files.ts';
import { labelledProject, type LabelledProject } from './project-fixture.ts';

/** A tiny untrained model of the given classes stored in the project (predict and probe need no training). */
async function addModel(project: Project, classes: string[], name: string): Promise<number> {
  const network = createStmNetwork({ variant: 'stm', layers: [1, 1, 1, 1], baseWidth: 16, frames: 4, classes: classes.length, inputSize: 32 }, { seed: 3 });
  const model = project.models.insert({ name, arch: archOf(network.config), classes });
  const relative = join('models', `${model.id}.safetensors`);
  await saveCheckpointAtomically(join(project.dir, relative), network, classes);
  network.dispose();
  project.models.update(model.id, { weightsPath: relative });
  return model.id;
}

type CsvRow = Record<string, string>;
const readCsv = (file: string): CsvRow[] => parse(readFileSync(file, 'utf8'), { columns: true }) as CsvRow[];

describe('predict, probe and CSV export', () => {
  let f: LabelledProject;
  let api: LocalApi;
  let modelId: number;
  let out: string;

  beforeAll(async () => {
    f = await labelledProject({ reverse: true, classes: ['red', 'blue', 'green'] });
    modelId = await addModel(f.project, ['red', 'blue', 'green'], 'untrained');
    f.project.close();
    api = createLocalApi('cli');
    api.context.session.open(f.dir);
    out = mkdtempSync(join(tmpdir(), 'stm-csv-'));
  });

  afterAll(() => {
    api.context.session.close();
    f.cleanup();
    rmSync(out, { recursive: true, force: true });
  });

  it('predicts sliding windows forward and reversed and exports every video in one CSV', async () => {
    const job = await api.client.call('predict.start', {
      modelId, window: { value: 8, unit: 'frames' }, stride: { value: 0.4, unit: 'seconds' }, direction: 'both', backend: 'wasm',
    });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status, done.error ?? '').toBe('done');
    // 24 frames, window 8, stride 4 (0.4 s at 10 fps): windows start at 0, 4, 8, 12, 16.
    expect(done.figures).toMatchObject({ videos: 6, windows: 30, predictions: 60 });

    const forward = await api.client.call('predictions.windows', { videoId: f.videoIds[0], modelId, direction: 'forward' });
    expect(forward.windows.map((w) => [w.startFrame, w.endFrame])).toEqual([[0, 8], [4, 12], [8, 16], [12, 20], [16, 24]]);
    const reversed = await api.client.call('predictions.windows', { videoId: f.videoIds[0], modelId, direction: 'reversed' });
    expect(reversed.windows).toHaveLength(5);

    const file = join(out, 'predictions.csv');
    const written = await api.client.call('export.csv', { kind: 'predictions', file, modelId });
    const rows = readCsv(file);
    expect(written.rows).toBe(60);
    expect(Object.keys(rows[0])).toEqual([
      'video', 'video_path', 'model', 'direction', 'window', 'start_frame', 'end_frame', 'start_s', 'end_s', 'top1', 'top1_score',
      'p_red', 'p_blue', 'p_green',
    ]);
    expect(new Set(rows.map((r) => r.video)).size).toBe(6);
    expect(rows.filter((r) => r.direction === 'reversed')).toHaveLength(30);
    for (const r of rows) {
      const p = [Number(r.p_red), Number(r.p_blue), Number(r.p_green)];
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Number(r.top1_score)).toBeCloseTo(Math.max(...p), 6);
      expect(r[`p_${r.top1}`]).toBe(r.top1_score);
      expect(Number(r.start_s)).toBeCloseTo(Number(r.start_frame) / 10, 6);
    }
  });

  it('gives the same probabilities with ONNX Runtime and TensorFlow.js', async () => {
    const run = async (engine: 'onnx' | 'tfjs') => {
      const job = await api.client.call('predict.start', {
        modelId, videoIds: [f.videoIds[2]], window: { value: 12, unit: 'frames' }, stride: { value: 6, unit: 'frames' }, engine, backend: 'wasm',
      });
      const done = await api.client.call('jobs.wait', { id: job.id });
      expect(done.status, done.error ?? '').toBe('done');
      expect((await api.client.call('jobs.log', { id: job.id })).log).toMatch(engine === 'onnx' ? /ONNX Runtime/ : /TensorFlow\.js on wasm/);
      return (await api.client.call('predictions.windows', { videoId: f.videoIds[2], modelId, direction: 'forward' })).windows;
    };
    const onnx = await run('onnx');
    const tfjs = await run('tfjs');
    expect(onnx).toHaveLength(3);
    onnx.forEach((w, i) => w.probabilities.forEach((p, c) => expect(Math.abs(p - tfjs[i].probabilities[c])).toBeLessThan(1e-3)));
  });

  it('turns windows into segments and CSV with a minimum duration', async () => {
    const segments = await api.client.call('predictions.segments', { videoId: f.videoIds[0], modelId, defaultThreshold: 0 });
    // Threshold 0: every frame carries its top class, so the segments tile the video.
    expect(segments[0].startFrame).toBe(0);
    expect(segments.at(-1)!.endFrame).toBe(24);
    const file = join(out, 'segments.csv');
    await api.client.call('export.csv', { kind: 'segments', file, modelId, defaultThreshold: 0, minDurationS: 0.5 });
    const rows = readCsv(file);
    expect(Object.keys(rows[0])).toEqual(['video', 'start_frame', 'end_frame', 'start_s', 'end_s', 'label', 'mean_score']);
    expect(rows.every((r) => Number(r.end_frame) - Number(r.start_frame) >= 5)).toBe(true);
    const none = await api.client.call('predictions.segments', { videoId: f.videoIds[0], modelId, defaultThreshold: 1 });
    expect(none).toEqual([]);
  });

  it('ranks unlabelled windows by uncertainty and accepts one as a label', async () => {
    const video = f.videoIds[0];
    const labelled = await api.client.call('clips.list', { videoId: video });
    await api.client.call('clips.delete', { ids: labelled.map((c) => c.id) });
    const queue = await api.client.call('predictions.reviewQueue', { modelId, limit: 50 });
    expect(queue.length).toBe(5);
    expect(queue.every((item) => item.videoId === video)).toBe(true);
    for (let i = 1; i < queue.length; i++) expect(queue[i - 1].uncertainty).toBeGreaterThanOrEqual(queue[i].uncertainty);
    const clip = await api.client.call('predictions.accept', { modelId, videoId: video, windowIndex: queue[0].windowIndex });
    expect(clip).toMatchObject({ videoId: video, startFrame: queue[0].startFrame, endFrame: queue[0].endFrame, source: 'prediction' });
    const after = await api.client.call('predictions.reviewQueue', { modelId, limit: 50 });
    expect(after.some((i) => i.windowIndex === queue[0].windowIndex && i.videoId === video)).toBe(false);
  });

  it('probes every labelled clip forward and reversed against the expected reversed class', async () => {
    const clips = await api.client.call('clips.list', {});
    const job = await api.client.call('probe.start', { modelId, backend: 'wasm' });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status, done.error ?? '').toBe('done');
    const results = await api.client.call('probe.results', { jobId: job.id });
    expect(results).toHaveLength(clips.length);
    const expected: Record<string, string> = { red: 'blue', blue: 'red', green: 'green' };
    for (const r of results) {
      expect(r.expectedReversed).toBe(expected[r.label!]);
      expect(r.flipped).toBe(r.reversedTop1 === r.expectedReversed);
      expect(r.jsDivergence).toBeGreaterThanOrEqual(0);
    }
    const summary = await api.client.call('probe.summary', { modelId });
    const paired = results.filter((r) => r.label !== 'green');
    expect(summary.flipRate).toBeCloseTo(paired.filter((r) => r.flipped).length / paired.length, 9);
    const unpaired = results.filter((r) => r.label === 'green');
    expect(summary.invarianceRate).toBeCloseTo(unpaired.filter((r) => r.flipped).length / unpaired.length, 9);

    const file = join(out, 'probe.csv');
    await api.client.call('export.csv', { kind: 'probe', file, modelId });
    const rows = readCsv(file);
    expect(rows).toHaveLength(clips.length);
    expect(Object.keys(rows[0])).toEqual([
      'video', 'clip', 'label', 'start_frame', 'end_frame', 'start_s', 'end_s', 'forward_top1', 'forward_score',
      'reversed_top1', 'reversed_score', 'expected_reversed', 'flipped', 'js_divergence',
    ]);
    expect(rows.filter((r) => r.label === 'red').every((r) => r.expected_reversed === 'blue')).toBe(true);
  });

  it('probes every sliding window, the forward prediction standing in for the label', async () => {
    const job = await api.client.call('probe.start', {
      modelId, clips: 'windows', videoIds: [f.videoIds[0], f.videoIds[4]], window: { value: 12, unit: 'frames' }, stride: { value: 6, unit: 'frames' }, backend: 'wasm',
    });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status, done.error ?? '').toBe('done');
    expect(done.figures).toMatchObject({ windows: 6 });
    const results = await api.client.call('probe.results', { jobId: job.id });
    expect(results.map((r) => [r.videoId, r.startFrame, r.endFrame])).toEqual([
      [f.videoIds[0], 0, 12], [f.videoIds[0], 6, 18], [f.videoIds[0], 12, 24],
      [f.videoIds[4], 0, 12], [f.videoIds[4], 6, 18], [f.videoIds[4], 12, 24],
    ]);
    const expected: Record<string, string> = { red: 'blue', blue: 'red', green: 'green' };
    for (const r of results) {
      expect(r.clipId).toBeNull();
      expect(r.label).toBe(r.forwardTop1);
      expect(r.expectedReversed).toBe(expected[r.forwardTop1]);
    }
  });

  it('refuses to probe with a model whose classes the project does not have', async () => {
    const stranger = await addModel(api.context.session.project, ['cat', 'dog'], 'pets');
    const job = await api.client.call('probe.start', { modelId: stranger, backend: 'wasm' });
    const done = await api.client.call('jobs.wait', { id: job.id });
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/No labelled clip has a class of model \d+ \("pets": cat, dog\)/);
  });

  it('skips a video missing on disk by name and predicts the others', async () => {
    const path = join(f.dir, 'green-2.mp4');
    renameSync(path, `${path}.away`);
    try {
      const job = await api.client.call('predict.start', { modelId, window: { value: 12, unit: 'frames' }, stride: { value: 12, unit: 'frames' }, backend: 'wasm' });
      const done = await api.client.call('jobs.wait', { id: job.id });
      expect(done.status, done.error ?? '').toBe('done');
      expect(done.figures).toMatchObject({ videos: 5, skipped_videos: 1, windows: 10 });
      expect((await api.client.call('jobs.log', { id: job.id })).log).toMatch(/skipped video "green-2.mp4"/);
    } finally {
      renameSync(`${path}.away`, path);
    }
  });

  it('moves a model to another project as one file', async () => {
    const file = join(out, 'model.safetensors');
    await api.client.call('models.export', { id: modelId, file });
    const other = mkdtempSync(join(tmpdir(), 'stm-other-'));
    const second = createLocalApi('cli');
    try {
      second.context.session.open(other, { create: true });
      const imported = await second.client.call('models.import', { file });
      expect(imported).toMatchObject({ name: 'untrained', classes: ['red', 'blue', 'green'] });
      expect(readFileSync(join(other, imported.weightsPath!)).equals(readFileSync(file))).toBe(true);
    } finally {
      second.context.session.close();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
