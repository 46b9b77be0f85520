import { readFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { decodeRawTensor, type SafetensorsFile, type StoredTensor } from './safetensors.ts';
import { isPickleError, OpaqueObject, unpickle, type PickleHooks } from './torch-pickle.ts';
import { openZip, ZipFormatError } from './zip-reader.ts';

/** Storage class → safetensors dtype and element size. */
const STORAGE_TYPES: Record<string, { dtype: string; bytes: number }> = {
  FloatStorage: { dtype: 'F32', bytes: 4 },
  HalfStorage: { dtype: 'F16', bytes: 2 },
  BFloat16Storage: { dtype: 'BF16', bytes: 2 },
  DoubleStorage: { dtype: 'F64', bytes: 8 },
  LongStorage: { dtype: 'I64', bytes: 8 },
  IntStorage: { dtype: 'I32', bytes: 4 },
  ByteStorage: { dtype: 'U8', bytes: 1 },
  BoolStorage: { dtype: 'U8', bytes: 1 },
};

class StorageRef {
  data?: StoredTensor;
  constructor(
    readonly key: string,
    readonly dtype: string,
    readonly elementBytes: number,
    readonly numel: number,
  ) {}
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** Keys under which training scripts (TSM, mmaction, timm, lightning) nest the weights. */
const NESTED_STATE_KEYS = ['state_dict', 'model', 'model_state', 'net', 'module'];
/** The legacy format starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes 0x1950a86a20f9469cfc6c. */
const LEGACY_MAGIC = Buffer.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);

export function isTorchCheckpoint(bytes: Buffer): boolean {
  return bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')) || bytes.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC);
}

/**
 * Reads the tensors of a PyTorch checkpoint (torch.save: the zip format of torch ≥ 1.6 or the legacy
 * format) without PyTorch and without running any code from it. A state dict nested under `state_dict`,
 * `model`, … is found; other values (epoch, optimizer state) are ignored. Returns the same shape as
 * readSafetensors: tensors by name and string metadata (the top-level numbers and strings).
 */
export function readTorchCheckpoint(path: string, bytes: Buffer = readFileSync(path)): SafetensorsFile {
  const storages: StorageRef[] = [];
  const hooks: PickleHooks = {
    resolveGlobal(module, name) {
      if (module === 'collections' && name === 'OrderedDict') return () => new Map();
      if (module === 'torch._utils' && name === '_rebuild_tensor_v2') {
        return (storage, offset, size, stride) => new TensorRef(storage as StorageRef, offset as number, size as number[], stride as number[]);
      }
      if (module === 'torch._utils' && name === '_rebuild_parameter') return (tensor) => tensor;
      return undefined;
    },
    persistentLoad(id) {
      const [kind, type, key, , numel] = id as [string, unknown, string, string, number];
      // Views of one storage repeat its id; they must share one buffer.
      const seen = storages.find((s) => s.key === String(key));
      if (seen) return seen;
      const typeName = type instanceof OpaqueObject ? type.name.replace(/^torch\./, '') : '';
      const known = STORAGE_TYPES[typeName];
      if (kind !== 'storage' || !known) throw new UserError('invalid_input', `${path}: unsupported tensor storage ${typeName || String(kind)}`);
      const storage = new StorageRef(String(key), known.dtype, known.bytes, numel);
      storages.push(storage);
      return storage;
    },
  };
  let root: unknown;
  let format: string;
  try {
    if (bytes.subarray(0, LEGACY_MAGIC.length).equals(LEGACY_MAGIC)) {
      format = 'pytorch-legacy';
      root = readLegacy(bytes, hooks, storages);
    } else {
      format = 'pytorch-zip';
      root = readZip(bytes, hooks, storages);
    }
  } catch (err) {
    if (err instanceof UserError) throw new UserError(err.code, err.message.startsWith(path) ? err.message : `${path}: ${err.message}`);
    if (isPickleError(err) || err instanceof ZipFormatError || err instanceof RangeError) {
      throw new UserError('invalid_input', `${path}: not a readable PyTorch checkpoint (${err.message})`);
    }
    throw err;
  }
  const state = findStateDict(root);
  if (!state) throw new UserError('invalid_input', `${path}: the PyTorch checkpoint holds no tensors`);
  const tensors = new Map<string, StoredTensor>();
  for (const [name, value] of state) {
    if (value instanceof TensorRef) tensors.set(String(name), materialize(value, String(name), path));
  }
  const metadata: Record<string, string> = { format };
  if (root instanceof Map) {
    for (const [k, v] of root) if (typeof v === 'number' || typeof v === 'string') metadata[String(k)] = String(v);
  }
  return { tensors, metadata };
}

function readZip(bytes: Buffer, hooks: PickleHooks, storages: StorageRef[]): unknown {
  const zip = openZip(bytes);
  const pickleName = zip.names().find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pickleName) throw new UserError('invalid_input', 'a zip file without data.pkl (not a PyTorch checkpoint)');
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const root = unpickle(zip.read(pickleName)!, hooks).value;
  for (const storage of storages) {
    if (storage.data) continue;
    const raw = zip.read(`${prefix}data/${storage.key}`);
    if (!raw) throw new UserError('invalid_input', `storage ${storage.key} is missing from the archive`);
    attach(storage, raw);
  }
  return root;
}

function readLegacy(bytes: Buffer, hooks: PickleHooks, storages: StorageRef[]): unknown {
  const plain: PickleHooks = { resolveGlobal: () => undefined, persistentLoad: () => null };
  let pos = unpickle(bytes, plain).end; // magic number
  pos = unpickle(bytes, plain, pos).end; // protocol version
  pos = unpickle(bytes, plain, pos).end; // sys info
  const main = unpickle(bytes, hooks, pos);
  const keys = unpickle(bytes, plain, main.end);
  pos = keys.end;
  const byKey = new Map(storages.map((s) => [s.key, s]));
  for (const key of keys.value as string[]) {
    if (pos + 8 > bytes.length) throw new UserError('invalid_input', `truncated: storage ${key} is cut off`);
    const numel = Number(bytes.readBigInt64LE(pos));
    pos += 8;
    const storage = byKey.get(String(key));
    const elementBytes = storage?.elementBytes ?? 4;
    const end = pos + numel * elementBytes;
    if (end > bytes.length) throw new UserError('invalid_input', `truncated: storage ${key} is cut off`);
    if (storage) attach(storage, bytes.subarray(pos, end));
    pos = end;
  }
  return main.value;
}

function attach(storage: StorageRef, raw: Uint8Array): void {
  const numel = Math.floor(raw.length / storage.elementBytes);
  if (numel < storage.numel) throw new UserError('invalid_input', `truncated: storage ${storage.key} holds ${numel} of ${storage.numel} values`);
  storage.data = decodeRawTensor(storage.dtype, [numel], raw.subarray(0, numel * storage.elementBytes));
}

function findStateDict(root: unknown): Map<unknown, unknown> | null {
  if (!(root instanceof Map)) return null;
  for (const key of NESTED_STATE_KEYS) {
    const nested = root.get(key);
    if (nested instanceof Map && [...nested.values()].some((v) => v instanceof TensorRef)) return nested;
  }
  return [...root.values()].some((v) => v instanceof TensorRef) ? root : null;
}

/** Copies a (possibly strided, offset) view of its storage into a dense tensor. */
function materialize(tensor: TensorRef, name: string, path: string): StoredTensor {
  const source = tensor.storage.data;
  if (!source) throw new UserError('invalid_input', `${path}: tensor "${name}" has no data`);
  const shape = tensor.size.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count > 2 ** 31) {
    throw new UserError('invalid_input', `${path}: tensor "${name}" has an unusable shape [${shape.join(',')}]`);
  }
  let last = tensor.offset;
  shape.forEach((d, i) => (last += d > 0 ? (d - 1) * tensor.stride[i] : 0));
  if (count > 0 && last >= source.data.length) throw new UserError('invalid_input', `${path}: tensor "${name}" reaches past its storage`);
  const data = new (source.data.constructor as new (n: number) => StoredTensor['data'])(count);
  const index = new Array<number>(shape.length).fill(0);
  let src = tensor.offset;
  for (let o = 0; o < count; o++) {
    (data as Float32Array)[o] = (source.data as Float32Array)[src];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]++;
      src += tensor.stride[axis];
      if (index[axis] < shape[axis]) break;
      src -= tensor.stride[axis] * shape[axis];
      index[axis] = 0;
    }
  }
  return { dtype: source.dtype, shape, data };
}
