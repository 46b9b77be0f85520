import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalApi, type LocalApi } from '../../../src-main/api/local-client.ts';
import { demoClasses, TEMPORAL_PAIRS } from '../../../src-main/core/demo/catalogue.ts';
import { buildDemoProject, type DemoOutcome } from '../../../src-main/core/demo/pipeline.ts';
import { DEMO_SETTINGS, type DemoSettings } from '../../../src-main/core/demo/settings.ts';

/** The demo's pipeline at toy scale: two training videos, one validation video, one short epoch. */
const tiny: DemoSettings = {
  data: { ...DEMO_SETTINGS.data, trainVideos: 2, valVideos: 1 },
  train: { ...DEMO_SETTINGS.train, frames: 2, epochs: 1, batch: 13 },
  window: DEMO_SETTINGS.window,
};

let dir: string;
let local: LocalApi;
let outcome: DemoOutcome;
const stages = new Set<string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stm-demo-project-'));
  local = createLocalApi('cli');
  local.context.session.open(dir, { create: true });
  outcome = await buildDemoProject(local.client, dir, tiny, { onProgress: (stage) => stages.add(stage) });
}, 300_000);

afterAll(() => {
  local?.context.session.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('demo project', () => {
  it('holds the generated videos, every class with its reverse partner, and one clip per labelled span', async () => {
    const videos = await local.client.call('videos.list', {});
    expect(videos.map((v) => v.name ?? v.path).length).toBe(3);
    const classes = await local.client.call('classes.list', {});
    expect(classes.map((c) => c.name).sort()).toEqual(demoClasses().map((c) => c.name).sort());
    const byId = new Map(classes.map((c) => [c.id, c.name]));
    for (const pair of TEMPORAL_PAIRS) {
      const forward = classes.find((c) => c.name === pair.forward)!;
      expect(byId.get(forward.reverseOf!)).toBe(pair.backward);
    }
    const clips = await local.client.call('clips.list', {});
    expect(clips.length).toBe(3 * demoClasses().length);
    expect(clips.filter((c) => c.split === 'val').length).toBe(demoClasses().length);
  });

  it('trains an STM and a TSN, probes both on the validation clips and reports figures in [0, 1]', async () => {
    const models = await local.client.call('models.list', {});
    expect(models.map((m) => m.arch)).toHaveLength(2);
    for (const figures of [outcome.stm, outcome.tsn]) {
      for (const value of [figures.temporalTop1, figures.sceneTop1, figures.flipRate]) {
        expect(value).toBeGreaterThanOrEqual(0);
        expect(value).toBeLessThanOrEqual(1);
      }
      const results = await local.client.call('probe.results', { modelId: figures.modelId });
      expect(results.length).toBe(demoClasses().length);
    }
    expect([...stages]).toEqual(expect.arrayContaining(['generate', 'import', 'train stm', 'train tsn', 'probe', 'predict', 'export']));
  });

  it('exports labels, predictions, segments and probe CSVs', () => {
    expect(outcome.exports.map((f) => f.slice(dir.length + 1)).sort()).toEqual(
      ['labels', 'stm-predictions', 'stm-probe', 'stm-segments', 'tsn-predictions', 'tsn-probe', 'tsn-segments'].map((n) => join('exports', `${n}.csv`)).sort(),
    );
    for (const file of outcome.exports) expect(existsSync(file)).toBe(true);
    const labels = readFileSync(join(dir, 'exports', 'labels.csv'), 'utf8').trim().split('\n');
    expect(labels[0]).toBe('video,video_path,start_frame,end_frame,start_s,end_s,label,split,source,subject');
    expect(labels.length - 1).toBe(3 * demoClasses().length);
    const probe = readFileSync(join(dir, 'exports', 'stm-probe.csv'), 'utf8').trim().split('\n');
    expect(probe.length - 1).toBe(demoClasses().length);
    expect(readFileSync(join(dir, 'exports', 'stm-predictions.csv'), 'utf8')).toContain('reversed');
  });

  it('refuses to build into a project that already has videos', async () => {
    await expect(buildDemoProject(local.client, dir, tiny)).rejects.toThrow(/already holds a project/);
  });
});
