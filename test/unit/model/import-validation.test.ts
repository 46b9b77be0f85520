/** Broken model files are refused where the user hands them in, with their own file's name in the message. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { selectBackend } from '../../../src-main/core/compute/backends.ts';
import { createStmNetwork } from '../../../src-main/core/model/network.ts';
import { saveCheckpoint } from '../../../src-main/core/model/checkpoint.ts';
import { readSafetensors, readSafetensorsMetadata, writeSafetensors } from '../../../src-main/core/model/safetensors.ts';
import { readTorchCheckpoint } from '../../../src-main/core/model/torch-checkpoint.ts';
import { importModelFile } from '../../../src-main/core/jobs/model-files.ts';
import { UserError } from '../../../src-main/core/errors.ts';
import { newProject, removeDir, tempDir } from '../store/fixtures.ts';

const dir = tempDir('stm-model-import-');
const good = join(dir, 'good.safetensors');
afterAll(() => removeDir(dir));

beforeAll(async () => {
  await selectBackend('cpu');
  const network = createStmNetwork({ layers: [1, 1, 1, 1], baseWidth: 16, frames: 2, classes: 2, inputSize: 32, variant: 'stm' }, { seed: 3 });
  await saveCheckpoint(good, network, { classNames: ['a', 'b'] });
  network.dispose();
});

function failure(run: () => unknown): UserError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

/** Imports `file` into a fresh project; the error, and that no model row was left behind. */
function importFails(file: string): string {
  const { dir: projectDir, project } = newProject();
  try {
    const err = failure(() => importModelFile(project, file));
    expect(project.models.list()).toEqual([]);
    return err.message;
  } finally {
    project.close();
    removeDir(projectDir);
  }
}

function variant(name: string, edit: (tensors: Map<string, import('../../../src-main/core/model/safetensors.ts').StoredTensor>) => void): string {
  const file = readSafetensors(good);
  edit(file.tensors);
  const path = join(dir, name);
  writeSafetensors(path, file.tensors, file.metadata);
  return path;
}

/** A zip archive of stored/deflated entries (no CRCs: the reader does not check them). */
function zipOf(entries: { name: string; data: Buffer; method: 0 | 8; declared?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const body = e.method === 8 ? deflateRawSync(e.data) : e.data;
    const size = e.declared ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const head = Buffer.alloc(46);
    head.writeUInt32LE(0x02014b50, 0);
    head.writeUInt16LE(e.method, 10);
    head.writeUInt32LE(body.length, 20);
    head.writeUInt32LE(size, 24);
    head.writeUInt16LE(name.length, 28);
    head.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    central.push(head, name);
    offset += 30 + name.length + body.length;
  }
  const dirBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(dirBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dirBytes, eocd]);
}

describe('model import validation', () => {
  it('imports a sound checkpoint', () => {
    const { dir: projectDir, project } = newProject();
    expect(importModelFile(project, good).classes).toEqual(['a', 'b']);
    project.close();
    removeDir(projectDir);
  });

  it('refuses a truncated file, naming it', () => {
    const path = join(dir, 'truncated.safetensors');
    const bytes = readFileSync(good);
    writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const message = importFails(path);
    expect(message).toContain(path);
    expect(message).toMatch(/truncated/);
  });

  it('refuses a file with a tensor missing, naming the file and the tensor', () => {
    const path = variant('missing.safetensors', (t) => t.delete('layer2.0.conv1.weight'));
    const message = importFails(path);
    expect(message).toContain(path);
    expect(message).toContain('layer2.0.conv1.weight');
  });

  it('refuses a file with a mis-shaped tensor or non-finite values', () => {
    const shaped = variant('shape.safetensors', (t) => t.set('fc.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }));
    expect(importFails(shaped)).toMatch(/fc\.bias.*shape \[3\]/);
    const nan = variant('nan.safetensors', (t) => ((t.get('layer1.0.bn1.weight')!.data as Float32Array)[1] = NaN));
    const message = importFails(nan);
    expect(message).toContain(nan);
    expect(message).toMatch(/layer1\.0\.bn1\.weight.*NaN/);
  });
});

describe('safetensors header errors name the file and the problem', () => {
  function withHeader(name: string, header: string): string {
    const json = Buffer.from(header);
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat([prefix, json, Buffer.alloc(8)]));
    return path;
  }

  it.each([
    ['null.safetensors', 'null', /header is null/],
    ['array.safetensors', '[1,2]', /header is an array/],
    ['offsets.safetensors', '{"w":{"dtype":"F32","shape":[1],"data_offsets":5}}', /"w" has bad data offsets/],
    ['entry.safetensors', '{"w":null}', /"w" is described by null/],
    ['meta.safetensors', '{"__metadata__":7}', /__metadata__ is the number 7/],
  ])('%s', (name, header, problem) => {
    const path = withHeader(name, header);
    const err = failure(() => readSafetensors(path));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(problem);
    if (name === 'null.safetensors' || name === 'meta.safetensors') expect(failure(() => readSafetensorsMetadata(path)).message).toContain(path);
  });
});

describe('PyTorch zip checkpoints are bounded before inflating', () => {
  it('refuses an entry declaring far more than it could hold, without inflating it', () => {
    const bomb = Buffer.alloc(40 * 1024 * 1024); // zeros: deflates ~1000:1
    const path = join(dir, 'bomb.pth');
    writeFileSync(path, zipOf([{ name: 'archive/data.pkl', data: bomb, method: 8 }]));
    const err = failure(() => readTorchCheckpoint(path));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/zip bomb/);
  });

  it('stops inflating at the declared size when an entry lies about it', () => {
    const path = join(dir, 'liar.pth');
    writeFileSync(path, zipOf([{ name: 'archive/data.pkl', data: Buffer.alloc(8 * 1024 * 1024), method: 8, declared: 1000 }]));
    const err = failure(() => readTorchCheckpoint(path));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/more than the 1000 bytes it declares/);
  });
});
