import { closeSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.ts';

/** Element types kept in memory. F16, BF16 and F64 files are widened/narrowed to F32 on read. */
export type TensorDtype = 'F32' | 'I32' | 'I64' | 'U8';

export type TensorData = Float32Array | Int32Array | BigInt64Array | Uint8Array;

export interface StoredTensor {
  dtype: TensorDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsFile {
  /** Tensors in the order of the file's header. */
  tensors: Map<string, StoredTensor>;
  /** The `__metadata__` string map (empty when the file has none). */
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 };
/** The header is JSON; anything bigger than this is a corrupt length prefix, not a real header. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads a safetensors file (or its bytes). `label` names the file in errors when a Buffer is given. */
export function readSafetensors(source: string | Buffer, label = typeof source === 'string' ? source : 'safetensors data'): SafetensorsFile {
  let bytes: Buffer;
  if (typeof source === 'string') {
    try {
      bytes = readFileSync(source);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${label}: ${(err as Error).message}`);
    }
  } else {
    bytes = source;
  }
  const fail = (problem: string): never => {
    throw new UserError('invalid_input', `${label}: ${problem}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file (only ${bytes.length} bytes)`);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES) fail('not a safetensors file (bad header length)');
  if (8 + headerLength > bytes.length) fail(`truncated: the header needs ${headerLength} bytes, the file has ${bytes.length - 8}`);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), fail);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = metadataOf(header, fail);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isPlainObject(value)) fail(`tensor "${shortName(name)}" is described by ${kindOf(value)}, not an object with dtype, shape and data_offsets`);
    const entry = value as Partial<HeaderEntry>;
    const bytesPer = typeof entry.dtype === 'string' ? BYTES[entry.dtype] : undefined;
    if (!bytesPer) fail(`tensor "${shortName(name)}" has unsupported dtype ${String(entry.dtype).slice(0, 40)}`);
    if (!Array.isArray(entry.shape) || !entry.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${shortName(name)}" has a bad shape`);
    if (!Array.isArray(entry.data_offsets) || entry.data_offsets.length !== 2) {
      fail(`tensor "${shortName(name)}" has bad data offsets (expected [begin, end], got ${kindOf(entry.data_offsets)})`);
    }
    const [begin, end] = entry.data_offsets as [number, number];
    const shape = entry.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin) fail(`tensor "${shortName(name)}" has bad data offsets`);
    if (end > dataLength) fail(`truncated: tensor "${name}" ends at byte ${end} of the data, the file holds ${dataLength}`);
    if (end - begin !== count * bytesPer!) {
      fail(`tensor "${name}" has ${end - begin} bytes, its shape [${shape.join(',')}] × ${entry.dtype} needs ${count * bytesPer!}`);
    }
    tensors.set(name, decodeRawTensor(entry.dtype!, shape, bytes.subarray(dataStart + begin, dataStart + end)));
  }
  return { tensors, metadata };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value).slice(0, 40)}`;
}

/** A tensor name as quoted in an error: a hostile header can hold a name of megabytes. */
function shortName(name: string): string {
  return name.length > 120 ? `${name.slice(0, 120)}…` : name;
}

/** The header's JSON object; anything else (null, an array, a number) is a clear error. */
function parseHeader(raw: Buffer, fail: (problem: string) => never): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(raw.toString('utf8'));
  } catch {
    return fail('not a safetensors file (the header is not JSON)');
  }
  if (!isPlainObject(header)) return fail(`not a safetensors file (the header is ${kindOf(header)}, not an object)`);
  return header;
}

function metadataOf(header: Record<string, unknown>, fail: (problem: string) => never): Record<string, string> {
  const value = header.__metadata__;
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) return fail(`the header's __metadata__ is ${kindOf(value)}, not a map of strings`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)]));
}

/** Decodes little-endian raw bytes of a safetensors dtype (F64/F32/F16/BF16/I64/I32/U8) into memory types. */
export function decodeRawTensor(dtype: string, shape: number[], raw: Uint8Array): StoredTensor {
  // Copy into a fresh, aligned buffer: tensor offsets in the file need not be multiples of the element size.
  const buffer = new Uint8Array(raw).buffer;
  switch (dtype) {
    case 'F32':
      return { dtype: 'F32', shape, data: new Float32Array(buffer) };
    case 'F64':
      return { dtype: 'F32', shape, data: Float32Array.from(new Float64Array(buffer)) };
    case 'F16':
      return { dtype: 'F32', shape, data: Float32Array.from(new Uint16Array(buffer), halfToFloat) };
    case 'BF16':
      return { dtype: 'F32', shape, data: bfloat16ToFloat(new Uint16Array(buffer)) };
    case 'I64':
      return { dtype: 'I64', shape, data: new BigInt64Array(buffer) };
    case 'I32':
      return { dtype: 'I32', shape, data: new Int32Array(buffer) };
    default:
      return { dtype: 'U8', shape, data: new Uint8Array(buffer) };
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function bfloat16ToFloat(halves: Uint16Array): Float32Array {
  const words = new Uint32Array(halves.length);
  for (let i = 0; i < halves.length; i++) words[i] = halves[i] << 16;
  return new Float32Array(words.buffer);
}

/** The bytes of a safetensors file: header padded to 8 bytes, tensors in the map's order. */
export function encodeSafetensors(tensors: Map<string, StoredTensor>, metadata: Record<string, string> = {}): Buffer {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Buffer[] = [];
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new UserError('invalid_input', `tensor "${name}" has ${t.data.length} values, its shape [${t.shape.join(',')}] needs ${count}`);
    }
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([prefix, Buffer.from(json, 'utf8'), ...parts]);
}

/** Writes a safetensors file atomically (temp file + rename), so a crash never leaves half a file. */
export function writeSafetensors(path: string, tensors: Map<string, StoredTensor>, metadata: Record<string, string> = {}): void {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, encodeSafetensors(tensors, metadata));
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing was written
    }
    if (err instanceof UserError) throw err;
    throw new UserError('invalid_input', `cannot write ${path}: ${(err as Error).message}`);
  }
}

/** Only the `__metadata__` of a safetensors file, reading the header and not the tensors. */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? 'not_found' : 'invalid_input', `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) < 8) throw new UserError('invalid_input', `${path}: not a safetensors file (too short)`);
    const headerLength = Number(prefix.readBigUInt64LE(0));
    if (headerLength > MAX_HEADER_BYTES) throw new UserError('invalid_input', `${path}: not a safetensors file (bad header length)`);
    const header = Buffer.alloc(headerLength);
    if (readSync(fd, header, 0, headerLength, 8) < headerLength) throw new UserError('invalid_input', `${path}: truncated header`);
    const fail = (problem: string): never => {
      throw new UserError('invalid_input', `${path}: ${problem}`);
    };
    return metadataOf(parseHeader(header, fail), fail);
  } finally {
    closeSync(fd);
  }
}
