import { inflateRawSync } from 'node:zlib';

/** The entries of a zip archive by name, read from its central directory (zip64 included). */
export interface ZipArchive {
  names(): string[];
  /** The entry's bytes, or undefined when the archive has no such entry. */
  read(name: string): Buffer | undefined;
}

interface Entry {
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

/**
 * Deflate gains at most ~1032:1; real checkpoint entries (float weights, pickles) gain far less. An entry
 * above this size that claims more than MAX_RATIO is a zip bomb, refused before anything is inflated.
 */
const SMALL_ENTRY_BYTES = 16 * 1024 * 1024;
const MAX_RATIO = 100;

export class ZipFormatError extends Error {}

export function openZip(bytes: Buffer): ZipArchive {
  const eocd = findEndOfCentralDirectory(bytes);
  let count = bytes.readUInt16LE(eocd + 10);
  let directoryOffset = bytes.readUInt32LE(eocd + 16);
  if (count === 0xffff || directoryOffset === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || bytes.readUInt32LE(locator) !== 0x07064b50) throw new ZipFormatError('zip64 locator missing');
    const eocd64 = Number(bytes.readBigUInt64LE(locator + 8));
    count = Number(bytes.readBigUInt64LE(eocd64 + 32));
    directoryOffset = Number(bytes.readBigUInt64LE(eocd64 + 48));
  }
  const entries = new Map<string, Entry>();
  let pos = directoryOffset;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > bytes.length || bytes.readUInt32LE(pos) !== 0x02014b50) throw new ZipFormatError('damaged central directory');
    const method = bytes.readUInt16LE(pos + 10);
    let compressedSize = bytes.readUInt32LE(pos + 20);
    let uncompressedSize = bytes.readUInt32LE(pos + 24);
    const nameLength = bytes.readUInt16LE(pos + 28);
    const extraLength = bytes.readUInt16LE(pos + 30);
    const commentLength = bytes.readUInt16LE(pos + 32);
    let localHeaderOffset = bytes.readUInt32LE(pos + 42);
    const name = bytes.toString('utf8', pos + 46, pos + 46 + nameLength);
    // Zip64 extra field: the 64-bit values of the fields that hold 0xFFFFFFFF, in this order.
    let extra = pos + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = bytes.readUInt16LE(extra);
      const size = bytes.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        const next = () => {
          const value = Number(bytes.readBigUInt64LE(field));
          field += 8;
          return value;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      extra += 4 + size;
    }
    entries.set(name, { method, compressedSize, uncompressedSize, localHeaderOffset });
    pos = extraEnd + commentLength;
  }
  return {
    names: () => [...entries.keys()],
    read(name) {
      const entry = entries.get(name);
      if (!entry) return undefined;
      const header = entry.localHeaderOffset;
      if (header + 30 > bytes.length || bytes.readUInt32LE(header) !== 0x04034b50) throw new ZipFormatError(`damaged entry ${name}`);
      const start = header + 30 + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
      const end = start + entry.compressedSize;
      if (end > bytes.length) throw new ZipFormatError(`entry ${name} is cut off`);
      const raw = bytes.subarray(start, end);
      if (entry.method === 0) return raw;
      if (entry.method === 8) return inflate(name, entry, raw);
      throw new ZipFormatError(`entry ${name} uses unsupported compression ${entry.method}`);
    },
  };
}

/** Inflates no more than the entry declares, and refuses declarations no real checkpoint makes. */
function inflate(name: string, entry: Entry, raw: Buffer): Buffer {
  const declared = entry.uncompressedSize;
  if (declared > SMALL_ENTRY_BYTES && declared > MAX_RATIO * Math.max(1, entry.compressedSize)) {
    throw new ZipFormatError(`entry ${name} claims ${declared} bytes from ${entry.compressedSize} compressed (a zip bomb?); nothing was inflated`);
  }
  try {
    return inflateRawSync(raw, { maxOutputLength: Math.max(1, declared) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ZipFormatError(`entry ${name} inflates to more than the ${declared} bytes it declares`);
    }
    throw new ZipFormatError(`entry ${name} is damaged (${(err as Error).message})`);
  }
}

function findEndOfCentralDirectory(bytes: Buffer): number {
  const earliest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let pos = bytes.length - 22; pos >= earliest; pos--) {
    if (bytes.readUInt32LE(pos) === 0x06054b50) return pos;
  }
  throw new ZipFormatError('no zip end-of-directory record (truncated?)');
}
