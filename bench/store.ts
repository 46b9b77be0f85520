/**
 * Project store figures: inserting 100k clips as one edit (an import), listing one video's 10k clips, and
 * undoing 1k edits one by one. Each is compared with plain better-sqlite3 statements on the same file
 * (same WAL, same synchronous setting), which is the floor for the same rows. Importing a labels CSV into
 * a 1M-clip project is compared with the same import into an empty one: the cost per row must not grow
 * with the project.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProject } from '../src-main/core/store/project.ts';
import type { NewClip } from '../src-main/core/store/clips.ts';
import { importLabels } from '../src-main/core/export/labels-import.ts';
import type { Project } from '../src-main/core/store/project.ts';
import { report, reportRatio, round, timeMedian } from './lib/report.ts';

const SUITE = 'store';
const VIDEOS = 10;
const CLIPS = 100_000;
const UNDOS = 1_000;

const IMPORT_ROWS = 20_000;
const BIG_PROJECT_CLIPS = 1_000_000;

/** A project with the bench's videos and classes, plus `clips` clips written by plain SQL (setup, not timed). */
function importTarget(dir: string, clips: number): Project {
  const project = openProject(dir, { create: true });
  const videoIds: number[] = [];
  for (let v = 0; v < VIDEOS; v++) videoIds.push(project.videos.insert({ path: `/bench/video-${v}.mp4`, frameCount: 100_000_000 }).id);
  const classIds = ['a', 'b', 'c', 'd'].map((name) => project.classes.add({ name }).id);
  const insert = project.db.prepare(
    "INSERT INTO clips (video_id, class_id, start_frame, end_frame, source, created_at, updated_at) VALUES (?, ?, ?, ?, 'imported', '', '')",
  );
  project.db.transaction(() => {
    for (let i = 0; i < clips; i++) insert.run(videoIds[i % VIDEOS], classIds[i % classIds.length], i * 3, i * 3 + 16);
  })();
  return project;
}

/** Imports the same 20k-row labels CSV into an empty and a 1M-clip project (undone between rounds). */
async function importIntoLargeProject(dir: string): Promise<void> {
  const csv = join(dir, 'labels.csv');
  const lines = ['video,start_frame,end_frame,label'];
  for (let i = 0; i < IMPORT_ROWS; i++) lines.push(`video-${i % VIDEOS}.mp4,${10_000_000 + i * 5},${10_000_000 + i * 5 + 8},${'abcd'[i % 4]}`);
  writeFileSync(csv, `${lines.join('\n')}\n`);
  const empty = importTarget(join(dir, 'empty'), 0);
  const big = importTarget(join(dir, 'big'), BIG_PROJECT_CLIPS);
  // Best of 3 interleaved rounds (the least disturbed on a shared machine); the undo between rounds is not timed.
  const best = [Infinity, Infinity];
  for (let round = 0; round < 3; round++) {
    for (const [i, project] of [empty, big].entries()) {
      const t0 = performance.now();
      if (importLabels(project, csv).imported !== IMPORT_ROWS) throw new Error('import lost rows');
      best[i] = Math.min(best[i]!, performance.now() - t0);
      project.history.undo();
    }
  }
  const [emptyMs, bigMs] = best;
  report({ suite: SUITE, figure: 'import 20k label rows into an empty project', value: round(emptyMs!, 1), unit: 'ms' });
  report({ suite: SUITE, figure: 'import 20k label rows into a 1M-clip project', value: round(bigMs!, 1), unit: 'ms' });
  reportRatio(SUITE, 'import: 1M-clip project / empty project', bigMs! / emptyMs!, { max: 2 });
  empty.close();
  big.close();
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stm-bench-store-'));
  try {
    const project = openProject(dir, { create: true });
    const videoIds: number[] = [];
    for (let v = 0; v < VIDEOS; v++) videoIds.push(project.videos.insert({ path: `/bench/video-${v}.mp4`, frameCount: 1_000_000 }).id);
    const classIds = ['a', 'b', 'c', 'd'].map((name) => project.classes.add({ name }).id);
    const clips: NewClip[] = Array.from({ length: CLIPS }, (_, i) => ({
      videoId: videoIds[i % VIDEOS]!,
      classId: classIds[i % classIds.length]!,
      startFrame: i * 3,
      endFrame: i * 3 + 16,
      source: 'imported',
    }));

    let t0 = performance.now();
    project.clips.createMany(clips, 'Bench import');
    const insertMs = performance.now() - t0;
    report({ suite: SUITE, figure: 'insert 100k clips (one undoable edit)', value: round(insertMs, 1), unit: 'ms' });

    // Reference: the same rows through one prepared statement in one transaction, no checks, no history.
    const raw = project.db.prepare(
      "INSERT INTO clips (video_id, class_id, start_frame, end_frame, source, created_at, updated_at) VALUES (?, ?, ?, ?, 'imported', '', '')",
    );
    t0 = performance.now();
    project.db.transaction(() => {
      for (const c of clips) raw.run(c.videoId, c.classId, c.startFrame + 1, c.endFrame + 1);
    })();
    const rawInsertMs = performance.now() - t0;
    report({ suite: SUITE, figure: 'insert 100k clips (plain SQL reference)', value: round(rawInsertMs, 1), unit: 'ms' });
    reportRatio(SUITE, 'insert: store / plain SQL', insertMs / rawInsertMs, { max: 5 });
    project.db.prepare("DELETE FROM clips WHERE created_at = ''").run();

    const target = videoIds[0]!;
    const listMs = await timeMedian(() => {
      if (project.clips.list({ videoId: target }).length !== CLIPS / VIDEOS) throw new Error('wrong clip count');
    });
    report({ suite: SUITE, figure: 'list one video\'s 10k clips', value: round(listMs, 2), unit: 'ms' });
    const rawList = project.db.prepare('SELECT * FROM clips WHERE video_id = ? ORDER BY video_id, start_frame, id');
    const rawListMs = await timeMedian(() => void rawList.all(target));
    report({ suite: SUITE, figure: 'list one video\'s 10k clips (plain SQL reference)', value: round(rawListMs, 2), unit: 'ms' });
    reportRatio(SUITE, 'list: store / plain SQL', listMs / rawListMs, { max: 2 });

    const ids = project.clips.list({ videoId: target, limit: UNDOS }).map((c) => c.id);
    for (const id of ids) project.clips.update(id, { endFrame: project.clips.require(id).endFrame + 1 });
    t0 = performance.now();
    for (let i = 0; i < UNDOS; i++) if (project.history.undo() === null) throw new Error('nothing to undo');
    const undoMs = performance.now() - t0;
    report({ suite: SUITE, figure: 'undo 1k edits', value: round(undoMs, 1), unit: 'ms', perUndoMs: round(undoMs / UNDOS, 3) });

    // Reference: 1k single-row updates, each its own committed transaction (the durability cost alone).
    const rawUpdate = project.db.prepare('UPDATE clips SET end_frame = end_frame + 1 WHERE id = ?');
    t0 = performance.now();
    for (const id of ids) project.db.transaction(() => rawUpdate.run(id)).immediate();
    const rawUpdateMs = performance.now() - t0;
    report({ suite: SUITE, figure: '1k committed single-row updates (plain SQL reference)', value: round(rawUpdateMs, 1), unit: 'ms' });
    reportRatio(SUITE, 'undo: store / plain SQL', undoMs / rawUpdateMs, { max: 3 });
    project.close();
    await importIntoLargeProject(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
