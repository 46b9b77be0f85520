/** Writes that wait for another process's lock in a queue instead of SQLite's blocking busy wait. */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { openProject, type Project } from '../../../src-main/core/store/project.ts';
import { isProjectBusy } from '../../../src-main/core/store/sql.ts';
import { PatientWriter } from '../../../src-main/core/store/patient-writer.ts';
import { removeDir, tempDir } from './fixtures.ts';
import { lockElsewhere } from '../../helpers/lock-elsewhere.ts';

let dir: string;
let project: Project;
afterEach(() => {
  project?.close();
  if (dir) removeDir(dir);
});

function hostProject(): Project {
  dir = tempDir('stm-patient-');
  project = openProject(dir, { create: true });
  project.useShortLockWait();
  return project;
}

describe('PatientWriter', () => {
  it('saves queued edits in the order they were asked for, while reads go on', async () => {
    const p = hostProject();
    p.classes.add({ name: 'before' });
    const { released } = await lockElsewhere(p.file, 1500);
    const first = p.writes.run(() => p.classes.add({ name: 'first' }));
    expect(p.writes.isWaiting).toBe(true);
    const second = p.writes.request(() => p.classes.add({ name: 'second' }));
    // A read asked for meanwhile is answered at once, from the project as it is.
    const names = await p.writes.request(() => p.classes.list().map((c) => c.name));
    expect(names).toEqual(['before']);
    await released;
    const [a, b] = await Promise.all([first, second]);
    expect(a.id).toBeLessThan(b.id);
    expect(p.classes.list().map((c) => c.name)).toEqual(['before', 'first', 'second']);
    expect(p.writes.isWaiting).toBe(false);
  }, 20_000);

  it('does not run an edit again that had saved part of its work when it found the project busy', async () => {
    const p = hostProject();
    const other = new Database(p.file);
    try {
      let runs = 0;
      const edit = p.writes.run(() => {
        runs += 1;
        p.classes.add({ name: 'saved' });
        other.prepare('BEGIN IMMEDIATE').run(); // another connection takes the lock between two transactions
        p.classes.add({ name: 'refused' });
      });
      const error = await edit.then(() => null, (err: unknown) => err);
      expect(isProjectBusy(error)).toBe(true);
      expect(runs).toBe(1);
      other.prepare('ROLLBACK').run();
      expect(p.classes.list().map((c) => c.name)).toEqual(['saved']);
    } finally {
      other.close();
    }
  });

  it('tells the edit it could not be saved once the project stays busy past the retry time', async () => {
    hostProject();
    const impatient = new PatientWriter(project.db, 300);
    const { released } = await lockElsewhere(project.file, 1500);
    const error = await impatient.run(() => project.classes.add({ name: 'late' })).then(() => null, (err: unknown) => err);
    expect(isProjectBusy(error)).toBe(true);
    expect((error as Error).message).toContain(project.file);
    await released;
    expect(project.classes.list()).toEqual([]);
  }, 20_000);
});
