import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
  writeSafetensors,
  type StoredTensor,
} from '../../../src-main/core/model/safetensors.ts';
import { UserError } from '../../../src-main/core/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'stm-safetensors-'));

/** A safetensors file written by hand, the way another tool would: header JSON, then raw little-endian bytes. */
function handMade(header: Record<string, unknown>, data: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

describe('safetensors', () => {
  it('round-trips F32, I32, I64 and U8 tensors and the metadata', () => {
    const tensors = new Map<string, StoredTensor>([
      ['w', { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1.5, -2, 3, 4, 5, 6e-8]) }],
      ['ids', { dtype: 'I32', shape: [3], data: Int32Array.from([-1, 0, 7]) }],
      ['steps', { dtype: 'I64', shape: [], data: BigInt64Array.from([123456789012n]) }],
      ['mask', { dtype: 'U8', shape: [5], data: Uint8Array.from([0, 1, 255, 3, 4]) }],
    ]);
    const path = join(dir, 'round.safetensors');
    writeSafetensors(path, tensors, { frames: '8', note: 'ünïcode' });
    const bytes = readFileSync(path);
    // The header is padded so that the data starts 8-byte aligned, as the reference writer does.
    expect((8 + Number(bytes.readBigUInt64LE(0))) % 8).toBe(0);
    const back = readSafetensors(path);
    expect([...back.tensors.keys()]).toEqual(['w', 'ids', 'steps', 'mask']);
    for (const [name, t] of tensors) {
      expect(back.tensors.get(name)!.shape).toEqual(t.shape);
      expect(back.tensors.get(name)!.dtype).toBe(t.dtype);
      expect([...back.tensors.get(name)!.data]).toEqual([...t.data]);
    }
    expect(back.metadata).toEqual({ frames: '8', note: 'ünïcode' });
    expect(readSafetensorsMetadata(path)).toEqual({ frames: '8', note: 'ünïcode' });
  });

  it('widens F16 and BF16 to F32', () => {
    const half = Buffer.from(Uint16Array.from([0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]).buffer);
    const brain = Buffer.from(Uint16Array.from([0x3f80, 0xc040]).buffer);
    const file = readSafetensors(
      handMade({ h: { dtype: 'F16', shape: [6], data_offsets: [0, 12] }, b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] } }, Buffer.concat([half, brain])),
    );
    expect(file.tensors.get('h')!.dtype).toBe('F32');
    expect([...file.tensors.get('h')!.data]).toEqual([1, -2, 0.5, 65504, 2 ** -24, Infinity]);
    expect([...file.tensors.get('b')!.data]).toEqual([1, -3]);
  });

  it('reads tensors stored at offsets that are not multiples of 4', () => {
    const data = Buffer.alloc(9);
    data.writeFloatLE(2.5, 1);
    data.writeFloatLE(-1, 5);
    const file = readSafetensors(
      handMade({ pad: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, v: { dtype: 'F32', shape: [2], data_offsets: [1, 9] } }, data),
    );
    expect([...file.tensors.get('v')!.data]).toEqual([2.5, -1]);
  });

  it('names the tensor that a truncated file cuts off', () => {
    const tensors = new Map<string, StoredTensor>([
      ['first', { dtype: 'F32', shape: [4], data: new Float32Array(4) }],
      ['layer4.0.conv3.weight', { dtype: 'F32', shape: [16], data: new Float32Array(16) }],
    ]);
    const bytes = encodeSafetensors(tensors);
    const path = join(dir, 'truncated.safetensors');
    writeFileSync(path, bytes.subarray(0, bytes.length - 10));
    expect(() => readSafetensors(path)).toThrow(UserError);
    expect(() => readSafetensors(path)).toThrow(/truncated.*"layer4\.0\.conv3\.weight"/);
    writeFileSync(path, bytes.subarray(0, 20));
    expect(() => readSafetensors(path)).toThrow(/truncated: the header needs/);
  });

  it('names a tensor whose byte size does not match its shape, and rejects non-safetensors files', () => {
    const bad = handMade({ 'fc.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } }, Buffer.alloc(16));
    expect(() => readSafetensors(bad, 'model.safetensors')).toThrow(/model\.safetensors: tensor "fc\.weight" has 16 bytes, its shape \[2,3\] × F32 needs 24/);
    expect(() => readSafetensors(Buffer.from('hello world, not weights'), 'notes.txt')).toThrow(/notes\.txt: not a safetensors file/);
    expect(() => readSafetensors(join(dir, 'absent.safetensors'))).toThrow(expect.objectContaining({ code: 'not_found' }));
    const weird = handMade({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8));
    expect(() => readSafetensors(weird, 'odd.safetensors')).toThrow(/tensor "x" has unsupported dtype C64/);
  });
});
