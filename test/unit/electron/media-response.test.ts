import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mediaResponse } from '../../../src-main/hosts/electron/media-response.ts';

let dir: string;
let file: string;
const bytes = Buffer.from('0123456789');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'stm-media-response-'));
  file = join(dir, 'clip.mp4');
  writeFileSync(file, bytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(range: string | null) {
  const res = mediaResponse(file, 'video/mp4', range);
  return { status: res.status, headers: Object.fromEntries(res.headers), body: Buffer.from(await res.arrayBuffer()).toString() };
}

describe('stm-media responses', () => {
  it('serve the whole file, announcing that ranges are accepted', async () => {
    expect(await read(null)).toMatchObject({ status: 200, body: '0123456789', headers: { 'accept-ranges': 'bytes', 'content-length': '10', 'content-type': 'video/mp4' } });
  });

  it('serve the byte range a seeking <video> asks for', async () => {
    expect(await read('bytes=2-5')).toMatchObject({ status: 206, body: '2345', headers: { 'content-range': 'bytes 2-5/10', 'content-length': '4' } });
    expect(await read('bytes=7-')).toMatchObject({ status: 206, body: '789', headers: { 'content-range': 'bytes 7-9/10' } });
    expect(await read('bytes=-3')).toMatchObject({ status: 206, body: '789' });
    expect(await read('bytes=4-100')).toMatchObject({ status: 206, body: '456789', headers: { 'content-range': 'bytes 4-9/10' } });
  });

  it('answer 416 past the end and 404 for a file gone from disk', async () => {
    expect(await read('bytes=10-12')).toMatchObject({ status: 416, headers: { 'content-range': 'bytes */10' } });
    expect(mediaResponse(join(dir, 'gone.mp4'), 'video/mp4', null).status).toBe(404);
  });
});
