/** Every CSV we write opens in a spreadsheet as text: names that look like formulas are not run. */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { exportLabels } from '../../../src-main/core/export/labels-export.ts';
import { importLabels } from '../../../src-main/core/export/labels-import.ts';
import { writePredictionsCsv } from '../../../src-main/core/export/predictions-csv.ts';
import { writeCsvTable } from '../../../src-main/core/jobs/csv-table.ts';
import type { Project } from '../../../src-main/core/store/project.ts';
import { addVideo, newProject, removeDir } from '../store/fixtures.ts';

const open: Array<{ dir: string; project: Project }> = [];
afterEach(() =>
  open.splice(0).forEach(({ dir, project }) => {
    project.close();
    removeDir(dir);
  }),
);

const HOSTILE = ['=HYPERLINK("http://evil.example","click")', '+1+1', '-2+3', '@SUM(A1)', '\tindent', '\rreturn', "'=quoted"];

describe('spreadsheet formulas in CSV exports', () => {
  it('writes text cells starting with = + - @ tab or CR with a leading quote, and numbers as numbers', async () => {
    const p = newProject();
    open.push(p);
    const file = join(p.dir, 'table.csv');
    await writeCsvTable(file, ['name', 'delta'], [
      ['=1+2', -0.25],
      ['-1.5', -3],
      ['plain', 4],
      ['a=b', 0],
    ]);
    const rows = parse(readFileSync(file, 'utf8')) as string[][];
    expect(rows).toEqual([
      ['name', 'delta'],
      ["'=1+2", '-0.25'],
      ["'-1.5", '-3'],
      ['plain', '4'],
      ['a=b', '0'],
    ]);
  });

  it('escapes hostile class and video names in the labels CSV and reads them back unchanged', async () => {
    const p = newProject();
    open.push(p);
    const video = addVideo(p.project, '/data/=cmd|calc.mp4', 100);
    for (const [i, name] of HOSTILE.entries()) {
      const cls = p.project.classes.add({ name });
      p.project.clips.create({ videoId: video.id, classId: cls.id, startFrame: i * 10, endFrame: i * 10 + 5 });
    }
    const file = join(p.dir, 'labels.csv');
    await exportLabels(p.project, file);
    const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    // Names are stored trimmed ("\tindent" is "indent"); every stored name that starts a formula is quoted.
    const stored = p.project.classes.list().map((c) => c.name);
    expect(stored.filter((n) => /^'*[=+\-@]/.test(n))).toHaveLength(5);
    for (const row of rows) {
      expect(row.label, row.label).not.toMatch(/^[=+\-@\t\r]/);
      expect(row.label.startsWith("'"), row.label).toBe(/^'*[=+\-@]/.test(row.label.slice(1)));
      expect(row.video).toBe("'=cmd|calc.mp4");
    }

    const other = newProject();
    open.push(other);
    addVideo(other.project, '/data/=cmd|calc.mp4', 100);
    const result = importLabels(other.project, file, { createClasses: true });
    expect(result.imported).toBe(HOSTILE.length);
    expect(other.project.classes.list().map((c) => c.name).sort()).toEqual(stored.sort());
  });

  it('escapes class names in the predictions CSV but keeps every probability a number', async () => {
    const p = newProject();
    open.push(p);
    const file = join(p.dir, 'predictions.csv');
    const rows = [{ video: 'v.mp4', videoPath: '/v.mp4', direction: 'forward' as const, window: 0, startFrame: 0, endFrame: 8, startS: 0, endS: 0.32, probabilities: [0.9, 0.1] }];
    await writePredictionsCsv(file, '@model', ['=evil()', 'walk'], rows);
    const [header, row] = parse(readFileSync(file, 'utf8')) as string[][];
    expect(header.slice(-2)).toEqual(['p_=evil()', 'p_walk']);
    expect(row[2]).toBe("'@model");
    expect(row[9]).toBe("'=evil()");
    expect(row.slice(-2).map(Number)).toEqual([0.9, 0.1]);
  });
});
