// A restricted pickle reader. Python's pickle is a small stack machine whose GLOBAL and REDUCE opcodes
// import and call arbitrary functions: loading an untrusted pickle with Python runs whatever it names
// (os.system, eval, ...). This reader interprets the data opcodes itself (numbers, strings, bytes, lists,
// tuples, dicts, memo) and resolves a global only through an explicit allow-list whose entries are our own
// pure functions; any other global is refused, with its name, the moment it appears. Nothing is imported
// or executed. The machine is linear (no jumps), so a hostile pickle cannot make it loop; every length is
// checked against the bytes that remain before anything is allocated.
import { UserError } from '../../util/errors.js';

/** A Python tuple (kept apart from lists so that callers can tell them apart). */
export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** A Python dict or collections.OrderedDict, in insertion order; `attrs` holds state set by BUILD. */
export class PyDict {
  readonly entries = new Map<unknown, unknown>();
  readonly attrs = new Map<string, unknown>();
  constructor(readonly ordered = false) {}
}

/** A global that the allow-list resolved: a marker value, or a function applied by REDUCE. */
export interface AllowedGlobal {
  /** Called by REDUCE with the argument tuple; absent for globals that are only markers (e.g. storage types). */
  call?: (args: unknown[]) => unknown;
  /** Called by BUILD on objects this global created, with the state; absent means BUILD is refused. */
  build?: (obj: unknown, state: unknown) => void;
}

/** A resolved global as it sits on the stack. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly impl: AllowedGlobal,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpickleOptions {
  /** Where the pickle came from, for error messages (e.g. `model.pth (archive/data.pkl)`). */
  source: string;
  /** The only globals that may appear, by `module.name`. */
  globals: ReadonlyMap<string, AllowedGlobal>;
  /** Resolves BINPERSID/PERSID references (torch uses them for tensor storages); absent means refused. */
  persistentLoad?: (pid: unknown) => unknown;
}

class Mark {}
const MARK = new Mark();

/** Largest integer literal accepted (LONG1/LONG4 byte count); a state dict only holds small numbers. */
const MAX_LONG_BYTES = 4096;

/** Interprets a pickle under the allow-list and returns the value it builds. */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): unknown {
  const { source } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  let pos = 0;
  let opAt = 0;

  const fail = (what: string): never => {
    throw new UserError(`${source}: ${what} (pickle byte ${opAt})`);
  };
  const need = (n: number) => {
    if (n < 0 || pos + n > bytes.length) fail(`the pickle is truncated: ${n} more bytes needed, ${bytes.length - pos} left`);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u16 = () => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = () => {
    need(4);
    const v = view.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`a length of ${v} bytes is larger than the pickle`);
    return Number(v);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('the pickle is truncated inside a text line');
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number): string => {
    try {
      return utf8.decode(take(n));
    } catch (e) {
      if (e instanceof UserError) throw e;
      return fail('a string is not valid UTF-8');
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('the pickle pops an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length === marks[marks.length - 1])) fail('the pickle reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('the pickle closes a MARK it never opened');
    return stack.splice(m!);
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const key = `${module}.${name}`;
    const impl = options.globals.get(key);
    if (!impl) {
      fail(`refusing to load: the pickle names the global ${key}, which is not an allowed part of a weights file (nothing was imported or executed)`);
    }
    return new PyGlobal(module, name, impl!);
  };
  const memoGet = (i: number) => {
    if (!memo.has(i)) fail(`the pickle reads memo slot ${i}, which was never written`);
    return memo.get(i);
  };
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof PyDict)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as PyDict).entries.set(dictKey(items[i]), items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]) => {
    if (!Array.isArray(target)) fail('APPEND(S) on something that is not a list');
    for (const it of items) (target as unknown[]).push(it);
  };
  const dictKey = (k: unknown): unknown => {
    if (k === null || typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return k;
    if (k instanceof PyTuple) return k; // identity key: fine for data we only walk
    return fail('a dict key is not a string, number or tuple');
  };
  const signedLE = (b: Uint8Array): number | bigint => {
    if (b.length === 0) return 0;
    if (b.length > MAX_LONG_BYTES) fail(`an integer literal of ${b.length} bytes (at most ${MAX_LONG_BYTES})`);
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const created = new WeakMap<object, PyGlobal>();

  for (;;) {
    opAt = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol newer than 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (marks.length) fail('the pickle ends inside a MARK');
        if (stack.length !== 1) fail(`the pickle ends with ${stack.length} values on the stack instead of 1`);
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
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
        stack.push(signedLE(take(u8())));
        break;
      case 0x8b: {
        // LONG4
        const n = i32();
        if (n < 0) fail('negative LONG4 length');
        stack.push(signedLE(take(n)));
        break;
      }
      case 0x49: {
        // INT (text): also encodes True/False as I01/I00
        const s = line().trim();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^[+-]?\d{1,15}$/.test(s)) stack.push(Number(s));
        else fail(`bad INT literal ${JSON.stringify(s.slice(0, 40))}`);
        break;
      }
      case 0x4c: {
        // LONG (text)
        const s = line().trim().replace(/L$/, '');
        if (!/^[+-]?\d{1,4000}$/.test(s)) fail(`bad LONG literal ${JSON.stringify(s.slice(0, 40))}`);
        const v = BigInt(s);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x46: {
        // FLOAT (text)
        const s = line().trim();
        const v = Number(s);
        if (s === '' || (Number.isNaN(v) && !/^[+-]?nan$/i.test(s))) fail(`bad FLOAT literal ${JSON.stringify(s.slice(0, 40))}`);
        stack.push(v);
        break;
      }
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str; decoded as latin-1 like Python 3's encoding='latin1')
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x54: {
        // BINSTRING
        const n = i32();
        if (n < 0) fail('negative BINSTRING length');
        stack.push(latin1.decode(take(n)));
        break;
      }
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new PyDict();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x70: {
        // PUT (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) fail('bad PUT index');
        memo.set(Number(s), top());
        break;
      }
      case 0x68: // BINGET
        stack.push(memoGet(u8()));
        break;
      case 0x6a: // LONG_BINGET
        stack.push(memoGet(u32()));
        break;
      case 0x67: {
        // GET (text)
        const s = line();
        if (!/^\d{1,10}$/.test(s)) fail('bad GET index');
        stack.push(memoGet(Number(s)));
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL with non-string names');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only for allow-listed globals with an implementation
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail('REDUCE on something that is not an allowed global');
        const g = fn as PyGlobal;
        if (!(args instanceof PyTuple)) fail(`REDUCE of ${g.qualified} without an argument tuple`);
        if (!g.impl.call) fail(`${g.qualified} cannot be called`);
        const result = g.impl.call!((args as PyTuple).items);
        if (result !== null && typeof result === 'object') created.set(result, g);
        stack.push(result);
        break;
      }
      case 0x62: {
        // BUILD: obj.__setstate__(state), only where the creating global allows it
        const state = pop();
        const obj = top();
        const g = obj !== null && typeof obj === 'object' ? created.get(obj) : undefined;
        if (!g?.impl.build) fail('BUILD on an object that does not accept state');
        g!.impl.build!(obj, state);
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!options.persistentLoad) fail('the pickle refers to external data (persistent id), which is not allowed here');
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default: {
        const names: Record<number, string> = {
          0x69: 'INST',
          0x6f: 'OBJ',
          0x81: 'NEWOBJ',
          0x92: 'NEWOBJ_EX',
          0x50: 'PERSID',
          0x53: 'STRING',
          0x56: 'UNICODE',
          0x82: 'EXT1',
          0x83: 'EXT2',
          0x84: 'EXT4',
          0x8f: 'EMPTY_SET',
          0x90: 'ADDITEMS',
          0x91: 'FROZENSET',
          0x96: 'BYTEARRAY8',
          0x97: 'NEXT_BUFFER',
          0x98: 'READONLY_BUFFER',
        };
        fail(`unsupported pickle opcode ${names[op] ?? `0x${op.toString(16).padStart(2, '0')}`}; a weights file does not need it`);
      }
    }
  }
}
