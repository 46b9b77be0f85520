/**
 * A pickle reader for what torch.save writes (protocols 2–5): containers, numbers, strings, and references
 * to globals, which it turns into calls of `resolveGlobal`. It runs no code from the file: an unknown
 * global becomes an inert placeholder.
 */

/** A global the reader does not know: calling or building it yields more placeholders. */
export class OpaqueObject {
  constructor(
    readonly name: string,
    readonly args: unknown[] = [],
  ) {}
}

/** A callable a known global maps to (e.g. `torch._utils._rebuild_tensor_v2`). */
export type PickleCallable = (...args: unknown[]) => unknown;

export interface PickleHooks {
  /** `module.name` → a function to call on REDUCE, or undefined to keep it opaque. */
  resolveGlobal(module: string, name: string): PickleCallable | undefined;
  /** Turns a persistent id (BINPERSID) into an object, e.g. a tensor storage. */
  persistentLoad(id: unknown): unknown;
}

class PickleError extends Error {}

const MARK = Symbol('mark');

export function unpickle(bytes: Uint8Array, hooks: PickleHooks, start = 0): { value: unknown; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  let pos = start;
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  const u8 = () => bytes[pos++];
  const u16 = () => ((pos += 2), view.getUint16(pos - 2, true));
  const u32 = () => ((pos += 4), view.getUint32(pos - 4, true));
  const i32 = () => ((pos += 4), view.getInt32(pos - 4, true));
  const take = (n: number) => {
    if (pos + n > bytes.length) throw new PickleError('pickle data ends early');
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError('pickle data ends early');
    const text = decoder.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw new PickleError('pickle MARK missing');
    const items = stack.slice(at + 1);
    stack.length = at;
    return items;
  };
  const top = () => stack[stack.length - 1];
  const makeGlobal = (module: string, name: string) => hooks.resolveGlobal(module, name) ?? new OpaqueObject(`${module}.${name}`);
  const call = (fn: unknown, args: unknown[]): unknown => {
    if (typeof fn === 'function') return (fn as PickleCallable)(...args);
    if (fn instanceof OpaqueObject) return new OpaqueObject(fn.name, args);
    throw new PickleError('pickle calls something that is not a global');
  };
  const setItems = (target: unknown, items: unknown[]) => {
    for (let i = 0; i + 1 < items.length; i += 2) {
      if (target instanceof Map) target.set(items[i], items[i + 1]);
    }
  };
  const longFromBytes = (raw: Uint8Array): number => {
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (raw.length > 0 && raw[raw.length - 1] & 0x80) value -= 1n << BigInt(raw.length * 8);
    return Number(value);
  };

  for (;;) {
    if (pos >= bytes.length) throw new PickleError('pickle data ends without STOP');
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        take(8);
        break;
      case 0x2e: // STOP
        return { value: stack.pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x8f: // EMPTY_SET
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(take(u32())));
        break;
      case 0x49: {
        // INT (text): also encodes booleans as 00 / 01
        const text = line();
        stack.push(text === '01' ? true : text === '00' ? false : Number(text));
        break;
      }
      case 0x4c: // LONG (text)
        stack.push(Number(line().replace(/L$/, '')));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64((pos += 8) - 8, false));
        break;
      case 0x46: // FLOAT (text)
        stack.push(Number(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(decoder.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(decoder.decode(take(Number(view.getBigUint64((pos += 8) - 8, true)))));
        break;
      case 0x54: // BINSTRING
        stack.push(decoder.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(decoder.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(Number(view.getBigUint64((pos += 8) - 8, true))));
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(Number(view.getBigUint64((pos += 8) - 8, true))));
        break;
      case 0x53: // STRING (text, quoted)
        stack.push(line().slice(1, -1));
        break;
      case 0x56: // UNICODE (raw-unicode-escape text)
        stack.push(line());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(Number(line()), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
        stack.push(memo.get(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memo.get(u32()));
        break;
      case 0x67: // GET
        stack.push(memo.get(Number(line())));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(makeGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = stack.pop() as string;
        stack.push(makeGlobal(stack.pop() as string, name));
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([stack.pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = stack.pop();
        stack.push([stack.pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = stack.pop();
        const b = stack.pop();
        stack.push([stack.pop(), b, c]);
        break;
      }
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x61: {
        // APPEND
        const item = stack.pop();
        (top() as unknown[]).push?.(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (Array.isArray(list)) list.push(...items);
        break;
      }
      case 0x90: // ADDITEMS (sets)
        popMark();
        break;
      case 0x73: {
        // SETITEM
        const value = stack.pop();
        const key = stack.pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x52: {
        // REDUCE
        const args = stack.pop() as unknown[];
        stack.push(call(stack.pop(), args));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = stack.pop() as unknown[];
        stack.push(call(stack.pop(), args));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        stack.pop();
        const args = stack.pop() as unknown[];
        stack.push(call(stack.pop(), args));
        break;
      }
      case 0x62: // BUILD: object state is not needed for tensors and dicts
        stack.pop();
        break;
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(stack.pop()));
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        throw new PickleError(`unsupported pickle opcode 0x${op.toString(16)} at byte ${pos - 1}`);
    }
  }
}

export function isPickleError(err: unknown): err is Error {
  return err instanceof PickleError;
}
