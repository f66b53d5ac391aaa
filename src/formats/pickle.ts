// Over 500 lines on purpose: the opcode dispatch, its bounds checks and the inert reconstruction of
// allowlisted globals must be read together to review that nothing is ever called.
// A pickle opcode interpreter (protocols 0-5) that never imports or calls anything. Globals on the
// allowlist (findings.ts) are reconstructed as inert JS values; every other global becomes a PyGlobal
// with verdict 'unknown'/'danger', and calling it yields an inert PyObject ("UnknownCall").
// All lengths are checked against the bytes that remain before anything is allocated, and the
// interpreter is iterative, so hostile nesting cannot overflow the JS stack.
import { ModelLensError } from './errors';
import type { DType, Finding } from './checkpoint';
import { calledVerdict, canonicalModule, classifyGlobal, globalFinding, type GlobalVerdict, TORCH_DTYPES } from './findings';

// ---------------------------------------------------------------------------------------------
// Values

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PyList
  | PyDict
  | PySet
  | PyGlobal
  | PyObject
  | PyPersistent
  | PyStorage
  | PyTensor
  | PyNumpyDType
  | PyNumpyArray;

/** Python tuple. `depth` is the nesting depth at construction (1 for a flat container). */
export class PyTuple {
  readonly kind = 'tuple';
  constructor(
    readonly items: PyValue[],
    public depth = 1,
  ) {}
}

export class PyList {
  readonly kind = 'list';
  constructor(
    readonly items: PyValue[] = [],
    public depth = 1,
  ) {}
}

export class PySet {
  readonly kind = 'set';
  constructor(
    readonly items: PyValue[] = [],
    readonly frozen = false,
    public depth = 1,
  ) {}
}

/** Python dict in insertion order. Primitive keys replace earlier equal keys as Python does. */
export class PyDict {
  readonly kind = 'dict';
  readonly keys: PyValue[] = [];
  readonly values: PyValue[] = [];
  // Created on the first primitive key: an empty Map costs more than the rest of the dict.
  private index: Map<string, number> | undefined;
  public depth = 1;

  set(k: PyValue, v: PyValue): void {
    const h = hashKey(k);
    if (h !== undefined) {
      this.index ??= new Map();
      const i = this.index.get(h);
      if (i !== undefined) {
        this.values[i] = v;
        return;
      }
      this.index.set(h, this.keys.length);
    }
    this.keys.push(k);
    this.values.push(v);
  }

  get(k: PyValue): PyValue | undefined {
    const h = hashKey(k);
    if (h === undefined || this.index === undefined) return undefined;
    const i = this.index.get(h);
    return i === undefined ? undefined : this.values[i];
  }

  get size(): number {
    return this.keys.length;
  }
}

/** A reference to `module.name`. Never imported; `verdict` says how it was classified. */
export class PyGlobal {
  readonly kind = 'global';
  constructor(
    readonly module: string,
    readonly name: string,
    readonly verdict: GlobalVerdict,
  ) {}
  get fullName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An object the pickle asked to construct. For allowlisted classes (argparse.Namespace, yacs CfgNode,
 * pathlib paths, complex...) it carries the constructor args and BUILD state. For anything else it is
 * the inert "UnknownCall": what would have been called, with which arguments. Nothing was called.
 */
export class PyObject {
  readonly kind = 'object';
  state: PyValue | undefined = undefined;
  listItems: PyValue[] | undefined = undefined;
  dictItems: PyDict | undefined = undefined;
  public depth = 1;
  constructor(
    readonly callee: PyValue,
    readonly args: PyValue[],
    readonly kwargs: PyDict | undefined,
    readonly how: 'reduce' | 'newobj' | 'inst' | 'obj',
    readonly offset: number,
  ) {}
  get calleeName(): string {
    return this.callee instanceof PyGlobal ? this.callee.fullName : `<${typeName(this.callee)}>`;
  }
  /** True when the callee is an allowlisted class (its value can be rendered and converted). */
  get allowed(): boolean {
    return this.callee instanceof PyGlobal && this.callee.verdict === 'allowed';
  }
}

/** A persistent id nobody resolved (no persistent_load hook, or an unrecognised id). */
export class PyPersistent {
  readonly kind = 'persistent';
  constructor(readonly pid: PyValue) {}
}

/** A tensor storage named by a torch persistent id. */
export class PyStorage {
  readonly kind = 'storage';
  constructor(
    /** The storage class name, e.g. "FloatStorage". */
    readonly typeName: string,
    /** null when the dtype is one we cannot represent (complex, quantized). */
    readonly dtype: DType | null,
    readonly key: string,
    readonly location: string,
    /** Number of elements the pickle claims (bytes for UntypedStorage). */
    readonly numel: number,
    readonly offset: number,
  ) {}
}

/** A tensor view rebuilt from `torch._utils._rebuild_tensor*`; no bytes are read. */
export class PyTensor {
  readonly kind = 'tensor';
  constructor(
    readonly storage: PyStorage,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
    public requiresGrad: boolean,
    /** dtype given explicitly (rebuild_tensor_v3 over an untyped storage); else the storage's. */
    readonly dtype: DType | null,
    readonly offset: number,
    public isParameter = false,
  ) {}
}

export class PyNumpyDType {
  readonly kind = 'np-dtype';
  byteOrder = '|';
  constructor(readonly str: string) {}
}

export class PyNumpyArray {
  readonly kind = 'np-array';
  shape: number[] = [0];
  dtype: PyNumpyDType | undefined = undefined;
  data: Uint8Array | PyValue[] | undefined = undefined;
}

function hashKey(k: PyValue): string | undefined {
  if (k === null) return 'N';
  switch (typeof k) {
    case 'string':
      return `s${k}`;
    case 'number':
      return `n${k}`;
    case 'bigint':
      return Number.isSafeInteger(Number(k)) ? `n${Number(k)}` : `n${k.toString()}`;
    case 'boolean':
      // True == 1 and False == 0 as dict keys in Python.
      return k ? 'n1' : 'n0';
    default:
      return undefined;
  }
}

function typeName(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'object' && 'kind' in v) return v.kind;
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

function depthOf(v: PyValue): number {
  if (v instanceof PyList || v instanceof PyTuple || v instanceof PyDict || v instanceof PySet || v instanceof PyObject) return v.depth;
  return 0;
}

// Estimated heap bytes of a value the interpreter has just created (values pushed again through
// the memo or DUP only cost their stack slot).
function costOf(v: object): number {
  if (v instanceof Uint8Array) return COST.bytes + v.byteLength;
  if (v instanceof PyDict) return COST.dict + COST.dictEntry * v.size;
  if (v instanceof PyList || v instanceof PyTuple || v instanceof PySet) return COST.container + COST.slot * v.items.length;
  if (v instanceof PyObject) return COST.object + COST.slot * v.args.length;
  return COST.object;
}

// ---------------------------------------------------------------------------------------------
// Interpreter

export interface PickleOptions {
  /** File named in errors and findings. */
  file: string;
  /** Absolute file offset of data[0], so error offsets point into the file. */
  baseOffset?: number;
  /** Label used in messages (e.g. "archive/data.pkl"). */
  label?: string;
  /** Where to start in `data`. */
  start?: number;
  /** Resolves a persistent id to a value (torch storages). Must not throw for unknown ids unless fatal. */
  persistentLoad?: (pid: PyValue, offset: number) => PyValue;
  /** Error when bytes follow STOP (default false: callers decide). */
  rejectTrailing?: boolean;
  maxDepth?: number;
  maxStack?: number;
  maxMemo?: number;
  maxOps?: number;
  /** Bytes of memory the values may take (estimated as they are created); see PICKLE_LIMITS.workBytes. */
  workBytes?: number;
}

export interface GlobalRef {
  module: string;
  name: string;
  verdict: GlobalVerdict;
  /** Absolute file offset of the first reference. */
  offset: number;
  count: number;
  /** True when the verdict became 'danger' because the pickle calls this global (calledVerdict). */
  calledByRule?: boolean;
}

export interface PickleResult {
  value: PyValue;
  /** Index in `data` just after STOP. */
  end: number;
  protocol: number;
  globals: GlobalRef[];
  findings: Finding[];
}

/**
 * Caps on one pickle. Item counts alone do not bound memory (three million empty dicts fit under any
 * sane count cap and take a gigabyte), so every value is also charged its estimated heap size as it
 * is created, and the run stops at `workBytes`. Integers are capped in size: no checkpoint holds a
 * number of thousands of digits, and a cap keeps decoding linear and small.
 */
export const PICKLE_LIMITS = {
  maxDepth: 1000,
  maxStack: 5_000_000,
  maxMemo: 5_000_000,
  maxOps: 100_000_000,
  workBytes: 256 * 1024 * 1024,
  maxIntBytes: 4096,
} as const;
/** Decimal digits of the largest integer a text opcode (INT, LONG) may spell (about maxIntBytes bytes). */
const MAX_INT_DIGITS = Math.ceil(PICKLE_LIMITS.maxIntBytes * 8 * Math.log10(2)) + 1;
// Estimated V8 heap bytes of what the interpreter creates (measured with process.memoryUsage on
// node 20/22; rounded up). They only need to be right within a small factor.
const COST = { slot: 8, container: 120, dict: 200, dictEntry: 48, object: 160, memo: 48, string: 32, bytes: 96 } as const;
const MAX_CALL_FINDINGS = 50;

const OP_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
const utf8Decoder = new TextDecoder('utf-8');
const latin1Decoder = new TextDecoder('latin1');

// Short ASCII strings (dict keys, module names) dominate pickles; decoding them in JS avoids a
// native TextDecoder call per string.
function shortAscii(b: Uint8Array): string | undefined {
  if (b.length > 64) return undefined;
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c >= 0x80) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
const utf8 = { decode: (b: Uint8Array): string => shortAscii(b) ?? utf8Decoder.decode(b) };
const latin1 = { decode: (b: Uint8Array): string => shortAscii(b) ?? latin1Decoder.decode(b) };

/** Runs one pickle in `data` from `opts.start` to its STOP. Throws ModelLensError on bad input. */
export function runPickle(data: Uint8Array, opts: PickleOptions): PickleResult {
  return new Vm(data, opts).run();
}

class Vm {
  private pos: number;
  private opStart = 0;
  private op = 0;
  private stack: PyValue[] = [];
  private meta: PyValue[][] = [];
  // Memo slots: a dense array for the indices pickles actually use (0, 1, 2, ... and MEMOIZE's
  // next index), a Map for scattered ones. A Map of millions of entries is several times slower.
  private memoDense: PyValue[] = [];
  private memoSparse = new Map<number, PyValue>();
  private memoCount = 0;
  private protocol = 0;
  private readonly globals = new Map<string, GlobalRef>();
  private readonly findings: Finding[] = [];
  private callFindings = 0;
  private readonly base: number;
  private readonly label: string;
  private readonly maxDepth: number;
  private readonly maxStack: number;
  private readonly maxMemo: number;
  private readonly maxOps: number;
  private readonly workBytes: number;
  private work = 0;
  private stackItems = 0;

  constructor(
    private readonly data: Uint8Array,
    private readonly opts: PickleOptions,
  ) {
    this.pos = opts.start ?? 0;
    this.base = opts.baseOffset ?? 0;
    this.label = opts.label ?? 'pickle';
    this.maxDepth = opts.maxDepth ?? PICKLE_LIMITS.maxDepth;
    this.maxStack = opts.maxStack ?? PICKLE_LIMITS.maxStack;
    this.maxMemo = opts.maxMemo ?? PICKLE_LIMITS.maxMemo;
    this.maxOps = opts.maxOps ?? PICKLE_LIMITS.maxOps;
    this.workBytes = opts.workBytes ?? PICKLE_LIMITS.workBytes;
  }

  /** Charges `bytes` of estimated memory; fails once the pickle's budget is spent. */
  private charge(bytes: number): void {
    this.work += bytes;
    if (this.work > this.workBytes) {
      this.fail('too-large', `the pickle's values would take more than ${Math.round(this.workBytes / (1024 * 1024))} MB of memory; refusing to build them`);
    }
  }

  private fail(code: 'corrupt' | 'truncated' | 'too-large' | 'unsupported', problem: string, at = this.opStart): never {
    const name = OP_NAMES[this.op] ?? `0x${this.op.toString(16).padStart(2, '0')}`;
    throw new ModelLensError(code, this.opts.file, `${this.label}+${at - (this.opts.start ?? 0)} (${name}): ${problem}`, this.base + at);
  }

  // --- byte access (every length checked against what remains before use) ---
  private need(n: number | bigint, what: string): number {
    const remaining = this.data.length - this.pos;
    if (typeof n === 'bigint') {
      if (n < 0n) this.fail('corrupt', `negative ${what} length ${n}`);
      if (n > BigInt(remaining)) this.fail('truncated', `${what} claims ${n} bytes but only ${remaining} remain`);
      return Number(n);
    }
    if (n < 0) this.fail('corrupt', `negative ${what} length ${n}`);
    if (n > remaining) this.fail('truncated', `${what} claims ${n} bytes but only ${remaining} remain`);
    return n;
  }
  private bytes(n: number | bigint, what: string): Uint8Array {
    const len = this.need(n, what);
    const out = this.data.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  private u8(): number {
    this.need(1, 'argument');
    return this.data[this.pos++]!;
  }
  private u16(): number {
    const b = this.bytes(2, 'argument');
    return b[0]! | (b[1]! << 8);
  }
  private u32(): number {
    const b = this.bytes(4, 'argument');
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x1000000;
  }
  private i32(): number {
    const b = this.bytes(4, 'argument');
    return b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24);
  }
  private u64(): bigint {
    const b = this.bytes(8, 'argument');
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }
  private line(): string {
    const nl = this.data.indexOf(0x0a, this.pos);
    if (nl < 0) this.fail('truncated', 'text argument has no terminating newline');
    const s = latin1.decode(this.data.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }

  // --- stack ---
  private push(v: PyValue, fresh = true): void {
    if (++this.stackItems > this.maxStack) this.fail('too-large', `stack exceeds ${this.maxStack} items`);
    this.charge(COST.slot);
    if (!fresh) {
      this.stack.push(v);
      return;
    }
    if (typeof v === 'object' && v !== null) this.charge(costOf(v));
    else if (typeof v === 'string') this.charge(COST.string + v.length);
    else if (typeof v === 'bigint') this.charge(COST.string + 8 * Math.ceil(v.toString(16).length / 16));
    this.stack.push(v);
  }
  /** Bytes values are views of the pickle (already counted in its budget), never copies. */
  private pushView(b: Uint8Array): void {
    this.charge(COST.bytes);
    this.push(b, false);
  }
  private pop(): PyValue {
    if (this.stack.length === 0) this.fail('corrupt', 'stack underflow');
    this.stackItems--;
    return this.stack.pop()!;
  }
  private top(): PyValue {
    if (this.stack.length === 0) this.fail('corrupt', 'stack underflow');
    return this.stack[this.stack.length - 1]!;
  }
  private popMark(): PyValue[] {
    const items = this.stack;
    const prev = this.meta.pop();
    if (prev === undefined) this.fail('corrupt', 'no MARK on the stack');
    this.stack = prev;
    this.stackItems -= items.length;
    return items;
  }
  private checkDepth(d: number): void {
    if (d > this.maxDepth) this.fail('too-large', `values nested deeper than ${this.maxDepth} levels`);
  }
  private childDepth(items: PyValue[]): number {
    let d = 0;
    for (const it of items) {
      const x = depthOf(it);
      if (x > d) d = x;
    }
    this.checkDepth(d + 1);
    return d + 1;
  }

  run(): PickleResult {
    let ops = 0;
    const d = this.data;
    for (;;) {
      if (this.pos >= d.length) {
        this.opStart = this.pos;
        this.op = -1;
        this.fail('truncated', 'pickle ended before STOP');
      }
      if (++ops > this.maxOps) this.fail('too-large', `more than ${this.maxOps} opcodes`);
      this.opStart = this.pos;
      const op = d[this.pos++]!;
      this.op = op;
      if (op === 0x2e) break; // STOP
      this.step(op);
    }
    const value = this.stack.length > 0 ? this.stack[this.stack.length - 1]! : this.fail('corrupt', 'STOP with an empty stack');
    if (this.stack.length !== 1 || this.meta.length !== 0) {
      this.fail('corrupt', `STOP with ${this.stack.length} stack items and ${this.meta.length} open MARKs`);
    }
    if (this.opts.rejectTrailing && this.pos < d.length) {
      this.fail('corrupt', `${d.length - this.pos} unexpected bytes after STOP`, this.pos);
    }
    const globals = [...this.globals.values()];
    const findings = [...globals.map((g) => globalFinding(g.module, g.name, g.verdict, g.offset, g.count, g.calledByRule)), ...this.findings];
    return { value, end: this.pos, protocol: this.protocol, globals, findings };
  }

  private step(op: number): void {
    switch (op) {
      case 0x80: {
        // PROTO
        const p = this.u8();
        if (p > 5) this.fail('unsupported', `pickle protocol ${p} is newer than 5`);
        this.protocol = p;
        return;
      }
      case 0x95: {
        // FRAME: a length hint; the frame must exist, its contents are ordinary opcodes.
        const n = this.u64();
        const remaining = BigInt(this.data.length - this.pos);
        if (n > remaining) this.fail('truncated', `FRAME claims ${n} bytes but only ${remaining} remain`);
        return;
      }
      case 0x28: // MARK
        if (this.meta.length >= this.maxDepth) this.fail('too-large', `more than ${this.maxDepth} nested MARKs`);
        this.meta.push(this.stack);
        this.stack = [];
        this.charge(COST.container);
        return;
      case 0x30: // POP
        if (this.stack.length === 0) {
          this.popMark(); // POP of a MARK discards it, as CPython does
        } else this.pop();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        this.push(this.top(), false);
        return;
      case 0x4e: // NONE
        this.push(null);
        return;
      case 0x88:
        this.push(true);
        return;
      case 0x89:
        this.push(false);
        return;
      case 0x49: {
        // INT (protocol 0): "I01\n" / "I00\n" are booleans
        const s = this.line();
        if (s === '01') this.push(true);
        else if (s === '00') this.push(false);
        else this.push(this.parseIntText(s));
        return;
      }
      case 0x4c: {
        // LONG (protocol 0)
        let s = this.line();
        if (s.endsWith('L')) s = s.slice(0, -1);
        this.push(this.parseIntText(s));
        return;
      }
      case 0x4a:
        this.push(this.i32());
        return;
      case 0x4b:
        this.push(this.u8());
        return;
      case 0x4d:
        this.push(this.u16());
        return;
      case 0x8a: {
        const n = this.u8();
        this.push(decodeLong(this.bytes(n, 'LONG1')));
        return;
      }
      case 0x8b: {
        const n = this.i32();
        if (n < 0) this.fail('corrupt', `negative LONG4 length ${n}`);
        if (n > PICKLE_LIMITS.maxIntBytes) this.fail('too-large', `LONG4 integer of ${n} bytes (limit ${PICKLE_LIMITS.maxIntBytes})`);
        this.push(decodeLong(this.bytes(n, 'LONG4')));
        return;
      }
      case 0x46: {
        const s = this.line().trim();
        if (/^[+-]?inf(inity)?$/i.test(s)) this.push(s.startsWith('-') ? -Infinity : Infinity);
        else if (/^[+-]?nan$/i.test(s)) this.push(NaN);
        else {
          const v = Number(s);
          if (Number.isNaN(v) || s === '') this.fail('corrupt', `bad FLOAT literal ${JSON.stringify(s.slice(0, 40))}`);
          this.push(v);
        }
        return;
      }
      case 0x47: {
        const b = this.bytes(8, 'BINFLOAT');
        this.push(new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, false));
        return;
      }
      case 0x53: {
        // STRING: a Python 2 str literal; decoded as ASCII/latin-1 like pickle's default.
        this.push(latin1.decode(parseStringLiteral(this.line(), (m) => this.fail('corrupt', m))));
        return;
      }
      case 0x54: {
        const n = this.i32();
        if (n < 0) this.fail('corrupt', `negative BINSTRING length ${n}`);
        this.push(latin1.decode(this.bytes(n, 'BINSTRING')));
        return;
      }
      case 0x55:
        this.push(latin1.decode(this.bytes(this.u8(), 'SHORT_BINSTRING')));
        return;
      case 0x56:
        this.push(decodeRawUnicodeEscape(this.line()));
        return;
      case 0x58:
        this.push(utf8.decode(this.bytes(this.u32(), 'BINUNICODE')));
        return;
      case 0x8c:
        this.push(utf8.decode(this.bytes(this.u8(), 'SHORT_BINUNICODE')));
        return;
      case 0x8d:
        this.push(utf8.decode(this.bytes(this.u64(), 'BINUNICODE8')));
        return;
      case 0x42:
        this.pushView(this.bytes(this.u32(), 'BINBYTES'));
        return;
      case 0x43:
        this.pushView(this.bytes(this.u8(), 'SHORT_BINBYTES'));
        return;
      case 0x8e:
        this.pushView(this.bytes(this.u64(), 'BINBYTES8'));
        return;
      case 0x96:
        this.pushView(this.bytes(this.u64(), 'BYTEARRAY8'));
        return;
      case 0x97:
        this.fail('unsupported', 'out-of-band buffers (NEXT_BUFFER) are not available in a file');
        return;
      case 0x98: // READONLY_BUFFER: no-op on in-band data
        this.top();
        return;
      case 0x29:
        this.push(new PyTuple([]));
        return;
      case 0x74: {
        const items = this.popMark();
        this.push(new PyTuple(items, this.childDepth(items)));
        return;
      }
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op - 0x84;
        if (this.stack.length < n) this.fail('corrupt', 'stack underflow');
        const items: PyValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(this.pop());
        this.push(new PyTuple(items, this.childDepth(items)));
        return;
      }
      case 0x5d:
        this.push(new PyList());
        return;
      case 0x6c: {
        const items = this.popMark();
        this.push(new PyList(items, this.childDepth(items)));
        return;
      }
      case 0x7d:
        this.push(new PyDict());
        return;
      case 0x64: {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.fail('corrupt', 'DICT with an odd number of items');
        const dict = new PyDict();
        dict.depth = this.childDepth(items);
        for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
        this.push(dict);
        return;
      }
      case 0x8f:
        this.push(new PySet());
        return;
      case 0x91: {
        const items = this.popMark();
        this.push(new PySet(items, true, this.childDepth(items)));
        return;
      }
      case 0x61: {
        const v = this.pop();
        this.appendTo(this.top(), [v]);
        return;
      }
      case 0x65: {
        const items = this.popMark();
        this.appendTo(this.top(), items);
        return;
      }
      case 0x90: {
        const items = this.popMark();
        const s = this.top();
        if (!(s instanceof PySet)) this.fail('corrupt', `ADDITEMS on a ${typeName(s)}`);
        this.charge(COST.slot * items.length);
        s.items.push(...items);
        s.depth = Math.max(s.depth, this.childDepth(items));
        return;
      }
      case 0x73: {
        const v = this.pop();
        const k = this.pop();
        this.setItems(this.top(), [k, v]);
        return;
      }
      case 0x75: {
        const items = this.popMark();
        if (items.length % 2 !== 0) this.fail('corrupt', 'SETITEMS with an odd number of items');
        this.setItems(this.top(), items);
        return;
      }
      // --- memo ---
      case 0x67:
        this.push(this.memoGet(this.parseIndex(this.line())), false);
        return;
      case 0x68:
        this.push(this.memoGet(this.u8()), false);
        return;
      case 0x6a:
        this.push(this.memoGet(this.u32()), false);
        return;
      case 0x70:
        this.memoPut(this.parseIndex(this.line()));
        return;
      case 0x71:
        this.memoPut(this.u8());
        return;
      case 0x72:
        this.memoPut(this.u32());
        return;
      case 0x94:
        this.memoPut(this.memoCount);
        return;
      // --- globals and calls ---
      case 0x63: {
        const module = this.line();
        const name = this.line();
        this.push(this.global(module, name));
        return;
      }
      case 0x93: {
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') this.fail('corrupt', 'STACK_GLOBAL needs two strings');
        this.push(this.global(module, name));
        return;
      }
      case 0x82:
      case 0x83:
      case 0x84: {
        const code = op === 0x82 ? this.u8() : op === 0x83 ? this.u16() : this.i32();
        // The extension registry lives in the loading process; an inert placeholder is all a file can name.
        this.push(this.global('copyreg._extension_registry', `code_${code}`, 'unknown'));
        return;
      }
      case 0x52: {
        const args = this.pop();
        const fn = this.pop();
        if (!(args instanceof PyTuple)) this.fail('corrupt', `REDUCE arguments are a ${typeName(args)}, not a tuple`);
        this.push(this.call(fn, args.items, undefined, 'reduce'));
        return;
      }
      case 0x81: {
        const args = this.pop();
        const cls = this.pop();
        if (!(args instanceof PyTuple)) this.fail('corrupt', `NEWOBJ arguments are a ${typeName(args)}, not a tuple`);
        this.push(this.call(cls, args.items, undefined, 'newobj'));
        return;
      }
      case 0x92: {
        const kwargs = this.pop();
        const args = this.pop();
        const cls = this.pop();
        if (!(args instanceof PyTuple) || !(kwargs instanceof PyDict)) this.fail('corrupt', 'NEWOBJ_EX needs a tuple and a dict');
        this.push(this.call(cls, args.items, kwargs, 'newobj'));
        return;
      }
      case 0x69: {
        const module = this.line();
        const name = this.line();
        const args = this.popMark();
        this.push(this.call(this.global(module, name), args, undefined, 'inst'));
        return;
      }
      case 0x6f: {
        const items = this.popMark();
        if (items.length === 0) this.fail('corrupt', 'OBJ without a class');
        this.push(this.call(items[0]!, items.slice(1), undefined, 'obj'));
        return;
      }
      case 0x62: {
        const state = this.pop();
        this.build(this.top(), state);
        return;
      }
      case 0x50: {
        const pid = this.line();
        this.push(this.persistent(pid));
        return;
      }
      case 0x51: {
        const pid = this.pop();
        this.push(this.persistent(pid));
        return;
      }
      default:
        this.fail('corrupt', `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
    }
  }

  private parseIntText(s: string): number | bigint {
    const t = s.trim();
    if (t.length > MAX_INT_DIGITS) this.fail('too-large', `integer literal of ${t.length} digits (limit ${MAX_INT_DIGITS})`);
    if (!/^[+-]?\d+$/.test(t)) this.fail('corrupt', `bad integer literal ${JSON.stringify(t.slice(0, 40))}`);
    const v = Number(t);
    return Number.isSafeInteger(v) ? v : BigInt(t);
  }
  private parseIndex(s: string): number {
    const t = s.trim();
    if (!/^\d{1,10}$/.test(t)) this.fail('corrupt', `bad memo index ${JSON.stringify(t.slice(0, 40))}`);
    return Number(t);
  }
  private memoGet(i: number): PyValue {
    const v = i < this.memoDense.length ? this.memoDense[i] : this.memoSparse.get(i);
    if (v === undefined) this.fail('corrupt', `memo slot ${i} is empty`);
    return v;
  }
  private memoPut(i: number): void {
    const fresh = i < this.memoDense.length ? this.memoDense[i] === undefined : !this.memoSparse.has(i);
    if (fresh) {
      if (this.memoCount >= this.maxMemo) this.fail('too-large', `memo exceeds ${this.maxMemo} entries`);
      this.memoCount++;
      this.charge(COST.memo);
    }
    const v = this.top();
    if (i < this.memoDense.length) this.memoDense[i] = v;
    else if (i === this.memoDense.length && !this.memoSparse.has(i)) this.memoDense.push(v);
    else this.memoSparse.set(i, v);
  }

  private appendTo(target: PyValue, items: PyValue[]): void {
    this.charge(COST.slot * items.length);
    const d = this.childDepth(items);
    if (target instanceof PyList) {
      for (const it of items) target.items.push(it);
      target.depth = Math.max(target.depth, d);
    } else if (target instanceof PyObject) {
      (target.listItems ??= []).push(...items);
      target.depth = Math.max(target.depth, d);
    } else if (target instanceof PySet) {
      target.items.push(...items);
      target.depth = Math.max(target.depth, d);
    } else this.fail('corrupt', `APPEND to a ${typeName(target)}`);
  }

  private setItems(target: PyValue, items: PyValue[]): void {
    this.charge((COST.dictEntry * items.length) / 2);
    const d = this.childDepth(items);
    let dict: PyDict;
    if (target instanceof PyDict) dict = target;
    else if (target instanceof PyObject) dict = target.dictItems ??= new PyDict();
    else this.fail('corrupt', `SETITEM on a ${typeName(target)}`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
    dict.depth = Math.max(dict.depth, d);
    if (target instanceof PyObject) target.depth = Math.max(target.depth, d);
  }

  private global(module: string, name: string, forced?: GlobalVerdict): PyGlobal {
    const verdict = forced ?? classifyGlobal(module, name);
    const key = `${canonicalModule(module)}\n${name}`;
    const g = this.globals.get(key);
    if (g) g.count++;
    else this.globals.set(key, { module, name, verdict, offset: this.base + this.opStart, count: 1 });
    return new PyGlobal(canonicalModule(module), name, verdict);
  }

  private persistent(pid: PyValue): PyValue {
    if (this.opts.persistentLoad) return this.opts.persistentLoad(pid, this.base + this.opStart);
    return new PyPersistent(pid);
  }

  private build(obj: PyValue, state: PyValue): void {
    if (state instanceof PyDict) this.charge(COST.dictEntry * state.size);
    // BUILD on a class or function sets attributes on it: it patches library code when loaded.
    if (obj instanceof PyGlobal && obj.verdict !== 'allowed') {
      const ref = this.globals.get(`${obj.module}\n${obj.name}`);
      if (ref && ref.verdict !== 'danger') {
        ref.verdict = 'danger';
        ref.calledByRule = true;
      }
    }
    if (obj instanceof PyObject) {
      if (obj.state instanceof PyDict && state instanceof PyDict) {
        for (let i = 0; i < state.keys.length; i++) obj.state.set(state.keys[i]!, state.values[i]!);
      } else obj.state = state;
      obj.depth = Math.max(obj.depth, this.childDepth([state]));
    } else if (obj instanceof PyNumpyDType) {
      if (state instanceof PyTuple && typeof state.items[1] === 'string') obj.byteOrder = state.items[1];
    } else if (obj instanceof PyNumpyArray) {
      // (version, shape, dtype, is_fortran, rawdata)
      if (state instanceof PyTuple && state.items.length >= 5) {
        const shape = state.items[1];
        if (shape instanceof PyTuple) obj.shape = shape.items.map((x) => (typeof x === 'number' ? x : Number(x)));
        const dt = state.items[2];
        if (dt instanceof PyNumpyDType) obj.dtype = dt;
        const raw = state.items[4];
        if (raw instanceof Uint8Array) obj.data = raw;
        else if (raw instanceof PyList) obj.data = raw.items;
      }
    } else if (obj instanceof PyTensor) {
      // Tensor BUILD state (python attributes) carries no bytes; nothing to keep.
    }
    // BUILD on other values would fail in Python or only set attributes; nothing inert to record.
  }

  /**
   * Applies the call rule to the global behind a callee: the global itself, or the class (or
   * function) that produced an inert object which is now called in turn. Returns its verdict.
   */
  private calledGlobal(fn: PyValue): GlobalVerdict | undefined {
    let g: PyValue = fn;
    // An object built from a global and then called (methodcaller(...)(x), an instance's __call__).
    for (let hops = 0; g instanceof PyObject && hops < 8; hops++) g = g.callee;
    if (!(g instanceof PyGlobal)) return undefined;
    const ref = this.globals.get(`${g.module}\n${g.name}`);
    if (!ref) return g.verdict;
    if (ref.verdict === 'unknown' && calledVerdict(g.module, g.name) === 'danger') {
      ref.verdict = 'danger';
      ref.calledByRule = true;
    }
    return ref.verdict;
  }

  private noteCall(fn: PyValue, args: PyValue[], how: PyObject['how'] = 'reduce'): void {
    // NEWOBJ on a class is instance construction (cls.__new__ + state), not a call of arbitrary code.
    const verdict = how === 'newobj' && fn instanceof PyGlobal ? fn.verdict : this.calledGlobal(fn);
    if (this.callFindings >= MAX_CALL_FINDINGS) return;
    this.callFindings++;
    const danger = verdict === 'danger';
    const name = fn instanceof PyGlobal ? fn.fullName : `<${typeName(fn)}>`;
    this.findings.push({
      severity: danger ? 'danger' : 'warning',
      kind: 'pickle-call',
      message: `pickle would call ${name}(${args.map((a) => pyRepr(a, 80)).join(', ')}) when loaded by Python; not called`.slice(0, 400),
      ...(fn instanceof PyGlobal ? { module: fn.module, name: fn.name } : {}),
      offset: this.base + this.opStart,
    });
  }

  private call(fn: PyValue, args: PyValue[], kwargs: PyDict | undefined, how: PyObject['how']): PyValue {
    const inert = (): PyObject => {
      const o = new PyObject(fn, args, kwargs, how, this.base + this.opStart);
      o.depth = this.childDepth(kwargs ? [...args, kwargs] : args);
      return o;
    };
    if (!(fn instanceof PyGlobal) || fn.verdict !== 'allowed') {
      this.noteCall(fn, args, how);
      return inert();
    }
    const name = fn.fullName;
    const a0 = args[0];
    switch (name) {
      case 'collections.OrderedDict':
      case 'collections.defaultdict':
      case 'builtins.dict': {
        const d = new PyDict();
        const src = name === 'collections.defaultdict' ? args[1] : a0;
        if (src instanceof PyDict) for (let i = 0; i < src.keys.length; i++) d.set(src.keys[i]!, src.values[i]!);
        else if (src instanceof PyList || src instanceof PyTuple) {
          for (const pair of src.items) if (pair instanceof PyTuple && pair.items.length === 2) d.set(pair.items[0]!, pair.items[1]!);
        }
        d.depth = Math.max(1, depthOf(src ?? null));
        return d;
      }
      case 'builtins.set':
      case 'builtins.frozenset': {
        const items = a0 instanceof PyList || a0 instanceof PyTuple || a0 instanceof PySet ? [...a0.items] : [];
        return new PySet(items, name === 'builtins.frozenset', this.childDepth(items));
      }
      case 'builtins.list':
      case 'builtins.tuple': {
        const items = a0 instanceof PyList || a0 instanceof PyTuple || a0 instanceof PySet ? [...a0.items] : [];
        return name === 'builtins.list' ? new PyList(items, this.childDepth(items)) : new PyTuple(items, this.childDepth(items));
      }
      case 'builtins.bytearray':
      case 'builtins.bytes':
      case '_codecs.encode': {
        if (a0 === undefined) return new Uint8Array(0);
        if (a0 instanceof Uint8Array) return a0;
        if (typeof a0 === 'string') {
          const enc = typeof args[1] === 'string' ? args[1].toLowerCase().replace(/[-_]/g, '') : 'utf8';
          if (enc === 'latin1' || enc === 'iso88591' || enc === 'ascii') {
            const out = new Uint8Array(a0.length);
            for (let i = 0; i < a0.length; i++) out[i] = a0.charCodeAt(i) & 0xff;
            return out;
          }
          if (enc === 'utf8') return new TextEncoder().encode(a0);
        }
        if (a0 instanceof PyList) return Uint8Array.from(a0.items.map((x) => Number(x) & 0xff));
        return inert();
      }
      case 'torch._utils._rebuild_tensor':
      case 'torch._utils._rebuild_tensor_v2':
      case 'torch._utils._rebuild_tensor_v3':
        return this.rebuildTensor(name, args);
      case 'torch._utils._rebuild_parameter':
      case 'torch._utils._rebuild_parameter_with_state': {
        if (a0 instanceof PyTensor) {
          a0.isParameter = true;
          a0.requiresGrad = args[1] === true;
          return a0;
        }
        return inert();
      }
      case 'torch._tensor._rebuild_from_type_v2':
      case 'torch._tensor._rebuild_from_type': {
        // (func, new_type, args, state): the tensor is whatever the allowlisted func rebuilds.
        const inner = args[2];
        if (inner instanceof PyTuple) return this.call(a0 ?? null, inner.items, undefined, 'reduce');
        return inert();
      }
      case 'torch.Size':
        return a0 instanceof PyTuple ? a0 : a0 instanceof PyList ? new PyTuple([...a0.items], a0.depth) : new PyTuple([]);
      case 'copyreg._reconstructor': {
        // _reconstructor(cls, base, state) == base.__new__(cls) (+ state): an instance of cls; a base
        // other than object also has its __init__ called with the state, which is a call.
        const base = args[1];
        if (base instanceof PyGlobal && base.verdict !== 'allowed') this.noteCall(base, args.slice(2), 'reduce');
        if (a0 instanceof PyGlobal) return this.call(a0, [], undefined, 'newobj');
        this.noteCall(fn, args);
        return inert();
      }
      case 'copyreg.__newobj__':
      case 'copyreg.__newobj_ex__': {
        if (a0 instanceof PyGlobal) return this.call(a0, args.slice(1), undefined, 'newobj');
        this.noteCall(fn, args);
        return inert();
      }
      case 'numpy.dtype': {
        return new PyNumpyDType(typeof a0 === 'string' ? a0 : '?');
      }
      case 'numpy.core.multiarray.scalar':
      case 'numpy._core.multiarray.scalar': {
        const v = a0 instanceof PyNumpyDType && args[1] instanceof Uint8Array ? decodeNumpyScalar(a0, args[1]) : undefined;
        return v === undefined ? inert() : v;
      }
      case 'numpy.core.multiarray._reconstruct':
      case 'numpy._core.multiarray._reconstruct':
        return new PyNumpyArray();
      default: {
        if (fn.module === 'torch' && fn.name in TORCH_DTYPES) return inert();
        // Allowlisted classes (Namespace, CfgNode, paths, complex, slice, device): an inert instance.
        return inert();
      }
    }
  }

  private rebuildTensor(name: string, args: PyValue[]): PyValue {
    const [storage, off, size, stride] = args;
    if (!(storage instanceof PyStorage)) this.fail('corrupt', `${name} got a ${typeName(storage ?? null)} instead of a storage`);
    const ints = (v: PyValue | undefined, what: string): number[] => {
      if (!(v instanceof PyTuple) && !(v instanceof PyList)) this.fail('corrupt', `tensor ${what} is a ${typeName(v ?? null)}, not a tuple`);
      if (v.items.length > 64) this.fail('corrupt', `tensor ${what} has ${v.items.length} dimensions`);
      return v.items.map((x) => {
        const n = typeof x === 'bigint' ? Number(x) : x;
        if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) this.fail('corrupt', `tensor ${what} holds ${pyRepr(x)}`);
        return n;
      });
    };
    const so = typeof off === 'bigint' ? Number(off) : off;
    if (typeof so !== 'number' || !Number.isSafeInteger(so) || so < 0) this.fail('corrupt', `tensor storage offset ${pyRepr(off ?? null)}`);
    const shape = ints(size, 'size');
    const strides = ints(stride, 'stride');
    if (shape.length !== strides.length) this.fail('corrupt', `tensor size has ${shape.length} dims but stride has ${strides.length}`);
    let dtype: DType | null = null;
    if (name === 'torch._utils._rebuild_tensor_v3') {
      const dt = args[6];
      if (dt instanceof PyGlobal && dt.module === 'torch') dtype = (TORCH_DTYPES[dt.name] as DType | null | undefined) ?? null;
    }
    const requiresGrad = name !== 'torch._utils._rebuild_tensor' && args[4] === true;
    return new PyTensor(storage, so, shape, strides, requiresGrad, dtype, this.base + this.opStart);
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Little-endian two's-complement integer (LONG1/LONG4). */
export function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  // One hex string and one BigInt parse: linear, where growing a BigInt byte by byte is quadratic.
  const hex = new Array<string>(b.length);
  for (let i = 0; i < b.length; i++) hex[b.length - 1 - i] = HEX[b[i]!]!;
  let v = BigInt(`0x${hex.join('')}`);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

function parseStringLiteral(line: string, fail: (m: string) => never): Uint8Array {
  const s = line.trimEnd();
  const q = s[0];
  if ((q !== "'" && q !== '"') || s.length < 2 || s[s.length - 1] !== q) fail('STRING argument is not quoted');
  const body = s.slice(1, -1);
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 0x5c) {
      out.push(c & 0xff);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
    if (e === 'x') {
      out.push(parseInt(body.slice(i + 1, i + 3), 16) & 0xff);
      i += 2;
    } else if (e !== undefined && /[0-7]/.test(e) && /^[0-7]{1,3}/.test(body.slice(i))) {
      const m = /^[0-7]{1,3}/.exec(body.slice(i))![0];
      out.push(parseInt(m, 8) & 0xff);
      i += m.length - 1;
    } else if (e !== undefined && e in simple) out.push(simple[e]!);
    else out.push(0x5c, (e ?? '').charCodeAt(0) & 0xff);
  }
  return Uint8Array.from(out);
}

function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, a: string | undefined, b: string | undefined) => {
    const cp = parseInt((a ?? b)!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}

function decodeNumpyScalar(dt: PyNumpyDType, raw: Uint8Array): PyValue | undefined {
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(dt.str);
  if (!m) return undefined;
  const kind = m[2]!;
  const size = Number(m[3] || '0');
  if (raw.length !== size && !(kind === 'b' && raw.length === 1 && size <= 1) && !(kind === '?' && raw.length === 1)) return undefined;
  const le = !(dt.byteOrder === '>' || m[1] === '>');
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  if (kind === 'f') {
    if (size === 8) return dv.getFloat64(0, le);
    if (size === 4) return dv.getFloat32(0, le);
    if (size === 2) return halfToFloat(dv.getUint16(0, le));
    return undefined;
  }
  if (kind === 'i' || kind === 'u') {
    const signed = kind === 'i';
    if (size === 1) return signed ? dv.getInt8(0) : dv.getUint8(0);
    if (size === 2) return signed ? dv.getInt16(0, le) : dv.getUint16(0, le);
    if (size === 4) return signed ? dv.getInt32(0, le) : dv.getUint32(0, le);
    if (size === 8) {
      const v = signed ? dv.getBigInt64(0, le) : dv.getBigUint64(0, le);
      return Number.isSafeInteger(Number(v)) ? Number(v) : v;
    }
    return undefined;
  }
  if (kind === 'b' || kind === '?') return raw[0] !== 0;
  return undefined;
}

/** IEEE half to number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

// ---------------------------------------------------------------------------------------------
// Inert rendering and conversion (depth-capped and cycle-safe: values may be cyclic via the memo)

/** A short Python-like rendering of a value for display. Never evaluates anything. */
export function pyRepr(v: PyValue, maxLen = 200): string {
  const out: string[] = [];
  let len = 0;
  const seen = new Set<object>();
  const emit = (s: string): boolean => {
    out.push(s);
    len += s.length;
    return len < maxLen;
  };
  const walk = (x: PyValue, depth: number): boolean => {
    if (len >= maxLen) return false;
    if (x === null) return emit('None');
    switch (typeof x) {
      case 'boolean':
        return emit(x ? 'True' : 'False');
      case 'number':
        return emit(Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : String(x));
      case 'bigint':
        return emit(x.toString());
      case 'string':
        return emit(JSON.stringify(x.length > maxLen ? `${x.slice(0, maxLen)}…` : x).replace(/^"|"$/g, "'"));
    }
    if (x instanceof Uint8Array) return emit(`b<${x.length} bytes>`);
    if (depth > 6 || seen.has(x)) return emit('…');
    seen.add(x);
    try {
      const seq = (open: string, items: PyValue[], close: string): boolean => {
        if (!emit(open)) return false;
        for (let i = 0; i < items.length; i++) {
          if (i > 0 && !emit(', ')) return false;
          if (!walk(items[i]!, depth + 1)) return false;
        }
        if (open === '(' && items.length === 1) emit(',');
        return emit(close);
      };
      if (x instanceof PyTuple) return seq('(', x.items, ')');
      if (x instanceof PyList) return seq('[', x.items, ']');
      if (x instanceof PySet) return x.items.length === 0 ? emit('set()') : seq('{', x.items, '}');
      if (x instanceof PyDict) {
        if (!emit('{')) return false;
        for (let i = 0; i < x.keys.length; i++) {
          if (i > 0 && !emit(', ')) return false;
          if (!walk(x.keys[i]!, depth + 1) || !emit(': ') || !walk(x.values[i]!, depth + 1)) return false;
        }
        return emit('}');
      }
      if (x instanceof PyGlobal) return emit(x.fullName);
      if (x instanceof PyTensor) return emit(`tensor(${x.dtype ?? x.storage.dtype ?? x.storage.typeName}, [${x.shape.join(', ')}])`);
      if (x instanceof PyStorage) return emit(`${x.typeName}(${x.numel})`);
      if (x instanceof PyPersistent) return emit('persistent_id(') && walk(x.pid, depth + 1) && emit(')');
      if (x instanceof PyNumpyDType) return emit(`dtype('${x.str}')`);
      if (x instanceof PyNumpyArray) return emit(`array(shape=(${x.shape.join(', ')}), dtype=${x.dtype?.str ?? '?'})`);
      if (x instanceof PyObject) {
        const cls = x.calleeName;
        if (x.allowed && (cls === 'argparse.Namespace' || x.dictItems || x.state instanceof PyDict)) {
          const src = cls === 'argparse.Namespace' || !x.dictItems ? x.state : x.dictItems;
          const short = cls.split('.').pop() ?? cls;
          if (src instanceof PyDict) {
            if (!emit(`${short}(`)) return false;
            for (let i = 0; i < src.keys.length; i++) {
              if (i > 0 && !emit(', ')) return false;
              const k = src.keys[i]!;
              if (!emit(typeof k === 'string' ? k : pyRepr(k, 40)) || !emit('=') || !walk(src.values[i]!, depth + 1)) return false;
            }
            return emit(')');
          }
        }
        if (x.allowed && cls.startsWith('pathlib.')) return emit(`${cls.split('.').pop()}(`) && emit(JSON.stringify(x.args.filter((a) => typeof a === 'string').join('/'))) && emit(')');
        if (!emit(`${cls}(`)) return false;
        for (let i = 0; i < x.args.length; i++) {
          if (i > 0 && !emit(', ')) return false;
          if (!walk(x.args[i]!, depth + 1)) return false;
        }
        return emit(')');
      }
      return emit('?');
    } finally {
      seen.delete(x);
    }
  };
  walk(v, 0);
  const s = out.join('');
  return s.length > maxLen ? `${s.slice(0, maxLen - 1)}…` : s;
}

/** Defines an own enumerable property, so keys like "__proto__" stay plain data. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Converts a value to plain JSON data (for configs such as argparse.Namespace or yacs CfgNode).
 * Tensors, unknown objects and bytes become short strings; depth is capped; cycles become "…".
 */
export function pyToJson(v: PyValue, maxDepth = 32, maxNodes = 100_000): unknown {
  const seen = new Set<object>();
  // A node budget: shared sub-values (a DAG built with the memo) would otherwise expand exponentially.
  let budget = maxNodes;
  const conv = (x: PyValue, depth: number): unknown => {
    if (--budget < 0) return '…';
    if (x === null || typeof x === 'boolean' || typeof x === 'string') return x;
    if (typeof x === 'number') return Number.isFinite(x) ? x : String(x);
    if (typeof x === 'bigint') return Number.isSafeInteger(Number(x)) ? Number(x) : x.toString();
    if (x instanceof Uint8Array) return `b<${x.length} bytes>`;
    if (depth >= maxDepth || seen.has(x)) return '…';
    seen.add(x);
    try {
      if (x instanceof PyTuple || x instanceof PyList || x instanceof PySet) return x.items.slice(0, 10000).map((i) => conv(i, depth + 1));
      if (x instanceof PyDict) return dictToJson(x, depth);
      // A dict subclass's items are plain data whatever its class (e.g. Lightning's AttributeDict).
      if (x instanceof PyObject && x.dictItems) return dictToJson(x.dictItems, depth);
      if (x instanceof PyObject && x.allowed) {
        const cls = x.calleeName;
        if (x.state instanceof PyDict) return dictToJson(x.state, depth);
        if (cls.startsWith('pathlib.')) return x.args.filter((a) => typeof a === 'string').join('/');
      }
      return pyRepr(x, 200);
    } finally {
      seen.delete(x);
    }
  };
  const dictToJson = (x: PyDict, depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    const n = Math.min(x.keys.length, 10000);
    for (let i = 0; i < n; i++) {
      const k = x.keys[i]!;
      setOwn(o, typeof k === 'string' ? k : pyRepr(k, 80), conv(x.values[i]!, depth + 1));
    }
    return o;
  };
  return conv(v, 0);
}
