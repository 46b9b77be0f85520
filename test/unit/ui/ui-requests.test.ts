import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalApi } from '../../../src-main/api/local-client.ts';
import { ApiError } from '../../../src-main/api/client.ts';

let dir: string;
const { client } = createLocalApi('web');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stm-ui-'));
  mkdirSync(join(dir, 'session 2'));
  writeFileSync(join(dir, 'b.MOV'), 'x');
  writeFileSync(join(dir, 'a.mp4'), 'xyz');
  writeFileSync(join(dir, 'notes.txt'), 'not a video');
  writeFileSync(join(dir, '.hidden.mp4'), 'x');
  symlinkSync(join(dir, 'gone.mp4'), join(dir, 'dangling.mp4'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ui.browse', () => {
  it('lists folders first, then video files by name, without hidden files, other files or broken links', async () => {
    const listing = await client.call('ui.browse', { dir });
    expect(listing.dir).toBe(dir);
    expect(listing.entries.map((e) => [e.name, e.kind, e.sizeBytes])).toEqual([
      ['session 2', 'dir', null],
      ['a.mp4', 'video', 3],
      ['b.MOV', 'video', 1],
    ]);
    expect(listing.parent).not.toBeNull();
  });

  it('says which folder it cannot read', async () => {
    const missing = join(dir, 'nope');
    await expect(client.call('ui.browse', { dir: missing })).rejects.toThrow(new RegExp(`Cannot read the folder ${missing}`));
    const err = await client.call('ui.browse', { dir: join(dir, 'a.mp4') }).catch((e: ApiError) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(/a\.mp4 is not a folder/);
  });
});

describe('ui.prepareExportPath', () => {
  it('makes the folder of an export file so the writer can create it', async () => {
    const file = join(dir, 'exports', 'nested', 'labels.csv');
    const result = await client.call('ui.prepareExportPath', { file });
    expect(result.file).toBe(file);
    expect(existsSync(join(dir, 'exports', 'nested'))).toBe(true);
  });
});
