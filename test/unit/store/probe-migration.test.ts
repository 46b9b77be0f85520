/**
 * A project probed by an older STM Studio stored `flipped` = "reversed top-1 is the label's expected class".
 * Opening it recomputes `flipped` as the prediction flipping and keeps the old meaning as `reversed_as_expected`.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openProject, PROJECT_FILE } from '../../../src-main/core/store/project.ts';
import { APPLICATION_ID, MIGRATIONS } from '../../../src-main/core/store/schema.ts';
import { tempDirsRemovedAfterEach } from './fixtures.ts';

const fresh = tempDirsRemovedAfterEach();

/** A schema-2 project file as the previous release wrote it, with three probe rows. */
function schema2Project(dir: string): void {
  const db = new Database(join(dir, PROJECT_FILE));
  db.exec(MIGRATIONS[0]!);
  db.exec(MIGRATIONS[1]!);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.pragma('user_version = 2');
  db.exec(`
    INSERT INTO classes (id, name, color, reverse_of) VALUES (1, 'walk right', '#f00', 2), (2, 'walk left', '#0f0', 1), (3, 'wave', '#00f', NULL);
    INSERT INTO videos (id, path, name) VALUES (1, '/v/a.mp4', 'a.mp4');
    INSERT INTO models (id, name, arch, classes, weights_path) VALUES (1, 'm', '{}', '["walk right","walk left","wave"]', 'models/m.safetensors');
    INSERT INTO jobs (id, kind, params, status) VALUES (1, 'probe', '{}', 'done');
  `);
  const row = db.prepare(`INSERT INTO probe_results (job_id, model_id, video_id, class_id, start_frame, end_frame, forward_top1, forward_score,
    reversed_top1, reversed_score, expected_reversed, flipped, js_divergence) VALUES (1, 1, 1, ?, 0, 8, ?, 0.9, ?, 0.8, ?, ?, 0.0001)`);
  row.run(2, 'walk right', 'walk right', 'walk right', 1); // labelled "walk left", "walk right" both ways: no flip
  row.run(1, 'walk right', 'walk left', 'walk left', 1); // a real flip
  row.run(3, 'wave', 'wave', 'wave', 1); // invariant
  db.close();
}

describe('probe results of an older project', () => {
  it('recomputes "flipped" as the prediction flipping and keeps "reversed as expected"', () => {
    const dir = fresh();
    schema2Project(dir);
    const project = openProject(dir);
    try {
      const rows = project.probes.list();
      expect(rows.map((r) => r.flipped)).toEqual([false, true, false]);
      expect(rows.map((r) => r.invariant)).toEqual([false, false, true]);
      expect(rows.map((r) => r.reversedAsExpected)).toEqual([true, true, true]);
      expect(rows.map((r) => r.forwardPartner)).toEqual(['walk left', 'walk left', null]);
    } finally {
      project.close();
    }
  });
});
