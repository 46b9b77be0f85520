/**
 * Files the app replaces (model weights, checkpoints, ONNX exports, CSV tables, settings, the app state) go
 * through one helper: the reader sees the old file or the new one, and a failed write keeps the old file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileAtomic, partialNameOf, writeFileAtomic } from '../../../src-main/core/files/atomic-write.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { importGraph } from '../../helpers/import-graph.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stm-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces a file and leaves nothing else in the folder', () => {
    const file = join(dir, 'settings.json');
    writeFileSync(file, 'old');
    writeFileAtomic(file, '{"backend":"wasm"}', 'settings');
    expect(readFileSync(file, 'utf8')).toBe('{"backend":"wasm"}');
    writeFileAtomic(file, new Uint8Array([1, 2, 3]), 'settings');
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['settings.json']);
  });

  it('keeps the previous file when the disk fills, and says so', () => {
    const file = join(dir, 'model.safetensors');
    writeFileSync(file, 'previous weights');
    symlinkSync('/dev/full', partialNameOf(file)); // the temporary file lands on a full device
    let error: unknown;
    try {
      writeFileAtomic(file, Buffer.alloc(1 << 16), 'model file');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^Disk full while writing the model file .*model\.safetensors\. The previous model file \(model\.safetensors\) is kept\.$/);
    expect(readFileSync(file, 'utf8')).toBe('previous weights');
    expect(existsSync(partialNameOf(file))).toBe(false);
  });

  it('names the file when its folder does not exist', () => {
    const file = join(dir, 'missing', 'out.onnx');
    expect(() => writeFileAtomic(file, 'x', 'ONNX file')).toThrow(expect.objectContaining({ code: 'invalid_input', message: expect.stringContaining(`Cannot write the ONNX file ${file}`) }));
  });

  it('copies a file into place the same way', () => {
    const source = join(dir, 'a.bin');
    writeFileSync(source, 'weights');
    copyFileAtomic(source, join(dir, 'b.bin'), 'model file');
    expect(readFileSync(join(dir, 'b.bin'), 'utf8')).toBe('weights');
    expect(readdirSync(dir).sort()).toEqual(['a.bin', 'b.bin']);
  });

  it('is the only temp-and-rename in the app outside the media caches ffmpeg writes', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const files = [...new Set(importGraph(root, ['src-main']).map((e) => e.from))].filter(
      (f) => f !== 'src-main/core/files/atomic-write.ts' && !f.startsWith('src-main/core/media/'),
    );
    const fsRename = /import\s*{[^}]*\brename(Sync)?\b[^}]*}\s*from\s*'(node:)?fs(\/promises)?'/;
    const renames = files.filter((f) => fsRename.test(readFileSync(join(root, f), 'utf8')));
    expect(renames).toEqual([]);
  });
});
