import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelLensError } from '../../src/formats/errors';
import { classifyGlobal } from '../../src/formats/findings';
import {
  PyDict,
  PyGlobal,
  PyList,
  PyObject,
  PyStorage,
  PyTensor,
  PyTuple,
  decodeLong,
  pyRepr,
  pyToJson,
  runPickle,
  type PyValue,
} from '../../src/formats/pickle';
import { expectedReaders, READERS } from './readerTestUtil';

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const u32 = (n: number): string => String.fromCharCode(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
const run = (s: string, opts: Partial<Parameters<typeof runPickle>[1]> = {}): ReturnType<typeof runPickle> =>
  runPickle(enc(s), { file: 'mem.pkl', ...opts });

function throwsCode(fn: () => unknown, code: string, includes: string, offset?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelLensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" should include "${includes}"`);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return true;
  });
}

/** Python's value as JSON the way the generator wrote it (bytes as hex, big ints as strings). */
function normalise(v: PyValue): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof PyDict) {
    const o: Record<string, unknown> = {};
    v.keys.forEach((k, i) => (o[String(k)] = normalise(v.values[i]!)));
    return o;
  }
  if (v instanceof PyTuple || v instanceof PyList) return v.items.map(normalise);
  if (v !== null && typeof v === 'object' && 'items' in v) return (v as { items: PyValue[] }).items.map(normalise);
  return v;
}

test('protocols 0-5 written by CPython decode to the same value', () => {
  const exp = expectedReaders().pickleValue;
  for (let p = 0; p <= 5; p++) {
    const data = readFileSync(resolve(READERS, 'pickles', `proto${p}.pkl`));
    const r = runPickle(new Uint8Array(data), { file: `proto${p}.pkl`, rejectTrailing: true });
    assert.ok(r.value instanceof PyDict);
    const got = normalise(r.value) as Record<string, unknown>;
    const want: Record<string, unknown> = { ...exp, bytes: exp['bytesHex'], ba: exp['baHex'] };
    delete want['bytesHex'];
    delete want['baHex'];
    assert.deepEqual(got, want, `protocol ${p}`);
    // Memo sharing survives: both keys hold the same list object.
    assert.equal(r.value.get('shared1'), r.value.get('shared2'));
    // Only allowlisted globals appear in these pickles.
    for (const g of r.globals) assert.equal(g.verdict, 'allowed', `${g.module}.${g.name} in protocol ${p}`);
    assert.ok(r.findings.every((f) => f.severity === 'info'));
  }
});

test('integers: LONG1/LONG4 two-complement, protocol-0 INT/LONG, booleans', () => {
  assert.equal(decodeLong(Uint8Array.from([0xff])), -1);
  assert.equal(decodeLong(Uint8Array.from([0x00, 0x80])), -32768);
  assert.equal(decodeLong(Uint8Array.from([0xff, 0x00])), 255);
  assert.equal(decodeLong(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 1])), 2n ** 64n);
  assert.equal(decodeLong(new Uint8Array(0)), 0);
  assert.equal(run('I01\n.').value, true);
  assert.equal(run('I00\n.').value, false);
  assert.equal(run('I-42\n.').value, -42);
  assert.equal(run('L123456789012345678901234567890L\n.').value, 123456789012345678901234567890n);
  assert.equal(run('\x80\x02\x8b\x02\x00\x00\x00\xff\x7f.').value, 32767);
  assert.equal(run('J\xff\xff\xff\xff.').value, -1);
  assert.equal(run('F1.5\n.').value, 1.5);
  assert.equal(run('Finf\n.').value, Infinity);
  assert.equal(run('G\x3f\xf8\x00\x00\x00\x00\x00\x00.').value, 1.5);
});

test('strings: STRING escapes, UNICODE raw-unicode-escape, SHORT_BINUNICODE utf-8', () => {
  assert.equal(run("S'a\\'b\\n\\x41'\n.").value, "a'b\nA");
  assert.equal(run('Vcaf\\u00e9 \\U0001F600\n.').value, 'café 😀');
  assert.equal(run('\x80\x04\x8c\x03\xe2\x9c\x93.').value, '✓');
});

test('globals are classified; REDUCE on a dangerous global yields an inert object and findings', () => {
  const r = run('\x80\x02cos\nsystem\nX\x04\x00\x00\x00echo\x85R.', { baseOffset: 100 });
  assert.ok(r.value instanceof PyObject);
  assert.equal(r.value.calleeName, 'os.system');
  assert.deepEqual(r.value.args, ['echo']);
  assert.equal(r.globals[0]!.verdict, 'danger');
  assert.equal(r.globals[0]!.offset, 102);
  const kinds = r.findings.map((f) => `${f.severity}/${f.kind}`);
  assert.deepEqual(kinds, ['danger/pickle-global', 'danger/pickle-call']);
  assert.ok(r.findings[1]!.message.includes("os.system('echo')"));
  assert.equal(r.findings[1]!.offset, 100 + 2 + 11 + 9 + 1);
});

test('STACK_GLOBAL with memo indirection resolves to the same dangerous global', () => {
  // "os" and "system" are memoised first, then fetched back with BINGET for STACK_GLOBAL.
  const r = run('\x80\x04]\x94(\x8c\x02os\x94\x8c\x06system\x94e0h\x01h\x02\x93\x8c\x02id\x85R.');
  assert.ok(r.value instanceof PyObject);
  assert.equal(r.value.calleeName, 'os.system');
  assert.ok(r.findings.some((f) => f.severity === 'danger' && f.kind === 'pickle-call'));
});

test('classification table', () => {
  const cases: Array<[string, string, string]> = [
    ['torch._utils', '_rebuild_tensor_v2', 'allowed'],
    ['torch', 'FloatStorage', 'allowed'],
    ['collections', 'OrderedDict', 'allowed'],
    ['__builtin__', 'set', 'allowed'],
    ['argparse', 'Namespace', 'allowed'],
    ['yacs.config', 'CfgNode', 'allowed'],
    ['numpy.core.multiarray', 'scalar', 'allowed'],
    ['posix', 'system', 'danger'],
    ['nt', 'system', 'danger'],
    ['subprocess', 'Popen', 'danger'],
    ['builtins', 'eval', 'danger'],
    ['builtins', 'getattr', 'danger'],
    ['__builtin__', '__import__', 'danger'],
    ['runpy', '_run_code', 'danger'],
    ['importlib', 'import_module', 'danger'],
    ['importlib.util', 'spec_from_file_location', 'danger'],
    ['types', 'CodeType', 'danger'],
    ['functools', 'partial', 'danger'],
    ['operator', 'attrgetter', 'danger'],
    ['torch', 'load', 'danger'],
    ['torch.storage', '_load_from_bytes', 'danger'],
    ['webbrowser', 'open', 'danger'],
    ['builtins', 'object.__reduce__', 'danger'],
    ['models_mae', 'MaskedAutoencoderViT', 'unknown'],
    ['torch.nn.modules.linear', 'Linear', 'unknown'],
  ];
  for (const [m, n, want] of cases) assert.equal(classifyGlobal(m, n), want, `${m}.${n}`);
});

test('persistent ids go through the hook; tensors rebuild inertly', () => {
  const pid = "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06t";
  const pkl = `\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(${pid}QK\x01K\x02K\x02\x86K\x02K\x01\x86\x89ccollections\nOrderedDict\n)RtR.`;
  const seen: PyValue[] = [];
  const r = run(pkl, {
    persistentLoad: (p) => {
      seen.push(p);
      return new PyStorage('FloatStorage', 'F32', '0', 'cpu', 6, 0);
    },
  });
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof PyTuple);
  assert.ok((seen[0] as PyTuple).items[1] instanceof PyGlobal);
  assert.ok(r.value instanceof PyTensor);
  assert.equal(r.value.storageOffset, 1);
  assert.deepEqual(r.value.shape, [2, 2]);
  assert.deepEqual(r.value.stride, [2, 1]);
  // Without a hook the id stays an inert placeholder.
  const r2 = run('\x80\x02X\x01\x00\x00\x00xQ.');
  assert.equal(r2.value?.constructor.name, 'PyPersistent');
  // Protocol 0 PERSID.
  const r3 = run('Pabc\n.', { persistentLoad: (p) => `got:${String(p)}` });
  assert.equal(r3.value, 'got:abc');
});

test('argparse.Namespace via NEWOBJ+BUILD and copyreg._reconstructor become config data', () => {
  const r = run('\x80\x02cargparse\nNamespace\n)\x81}(X\x02\x00\x00\x00lrG?\xb9\x99\x99\x99\x99\x99\x9aX\x05\x00\x00\x00depthK\x0cub.');
  assert.ok(r.value instanceof PyObject && r.value.allowed);
  assert.deepEqual(pyToJson(r.value), { lr: 0.1, depth: 12 });
  assert.equal(pyRepr(r.value), 'Namespace(lr=0.1, depth=12)');
  const r0 = run("ccopy_reg\n_reconstructor\n(cargparse\nNamespace\nc__builtin__\nobject\nNtR(dS'x'\nI1\nsb.");
  assert.deepEqual(pyToJson(r0.value), { x: 1 });
});

test('numpy scalars and dtypes decode inertly', () => {
  // numpy.core.multiarray.scalar(dtype('f8'), b'\x00\x00\x00\x00\x00\xe0T@') == 83.5
  const f8 = "cnumpy\ndtype\n(X\x02\x00\x00\x00f8K\x00K\x01tR(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb";
  const r = run(`\x80\x02cnumpy.core.multiarray\nscalar\n(${f8}C\x08\x00\x00\x00\x00\x00\xe0T@tR.`);
  assert.equal(r.value, 83.5);
});

test('__proto__ keys stay data in converted configs', () => {
  const r = run('\x80\x02}X\t\x00\x00\x00__proto__}X\x01\x00\x00\x00pK\x01ss.');
  const j = pyToJson(r.value) as Record<string, unknown>;
  assert.ok(Object.prototype.hasOwnProperty.call(j, '__proto__'));
  assert.equal(Object.getPrototypeOf(j), Object.prototype);
  assert.equal(({} as Record<string, unknown>)['p'], undefined);
});

test('cyclic values render and convert without recursion trouble', () => {
  // l = []; l.append(l)
  const r = run('\x80\x02]q\x00h\x00a.');
  assert.ok(r.value instanceof PyList);
  assert.equal(r.value.items[0], r.value);
  assert.equal(pyRepr(r.value), '[…]');
  assert.deepEqual(pyToJson(r.value), ['…']);
});

test('caps and malformed input give typed errors with offsets', () => {
  throwsCode(() => run('\x80\x02X\xff\xff\xff\xffabc.'), 'truncated', 'claims 4294967295 bytes', 2);
  throwsCode(() => run('\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xffab.'), 'truncated', 'claims 18446744073709551615');
  throwsCode(() => run('\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00N.'), 'truncated', 'FRAME claims');
  throwsCode(() => run(`\x80\x02${'('.repeat(100000)}N${'t'.repeat(100000)}.`), 'too-large', 'nested MARKs', 1002);
  throwsCode(() => run(`\x80\x02${']'.repeat(100000)}${'a'.repeat(99999)}.`), 'too-large', 'nested deeper');
  throwsCode(() => run('\x80\x02N'), 'truncated', 'before STOP', 3);
  throwsCode(() => run('\x80\x02NN.'), 'corrupt', 'STOP with 2 stack items');
  throwsCode(() => run('\x80\x02.'), 'corrupt', 'empty stack');
  throwsCode(() => run('\x80\x06N.'), 'unsupported', 'protocol 6');
  throwsCode(() => run('\x80\x02a.'), 'corrupt', 'stack underflow');
  throwsCode(() => run('\x80\x02Ns.'), 'corrupt', 'stack underflow');
  throwsCode(() => run('\x80\x02NK\x01K\x02s.'), 'corrupt', 'SETITEM on a None');
  throwsCode(() => run('\x80\x02t.'), 'corrupt', 'no MARK');
  throwsCode(() => run('\x80\x02cos\nsystem'), 'truncated', 'newline');
  throwsCode(() => run('\x80\x02N\x97.'), 'unsupported', 'out-of-band');
  throwsCode(() => run('\x80\x02NN.', { rejectTrailing: true }), 'corrupt', 'STOP with 2');
  throwsCode(() => run('\x80\x02N.xx', { rejectTrailing: true }), 'corrupt', '2 unexpected bytes after STOP', 4);
  throwsCode(() => run('\x80\x02' + 'N0'.repeat(100) + 'N.', { maxOps: 50 }), 'too-large', 'more than 50 opcodes');
  throwsCode(() => run('\x80\x02' + 'N'.repeat(20) + '.', { maxStack: 10 }), 'too-large', 'stack exceeds 10');
  throwsCode(() => run('\x80\x02N' + 'r' + u32(0) + 'r' + u32(1) + 'r' + u32(2) + '.', { maxMemo: 2 }), 'too-large', 'memo exceeds 2');
  // A 4 GB claim fails before any allocation, and fast.
  const t0 = performance.now();
  throwsCode(() => run('\x80\x03B\xff\xff\xff\xff.'), 'truncated', 'BINBYTES claims');
  assert.ok(performance.now() - t0 < 50);
});

test('other opcodes: sets, frozensets, NEWOBJ_EX, EXT codes, OBJ, POP_MARK, DUP, bytearray8', () => {
  const r = run('\x80\x04\x8f(K\x01K\x02\x90.');
  assert.deepEqual(normalise(r.value), [1, 2]);
  const fz = run('\x80\x04(K\x03\x91.');
  assert.deepEqual(normalise(fz.value), [3]);
  const nx = run('\x80\x04cfoo\nBar\n)}\x92.');
  assert.ok(nx.value instanceof PyObject);
  assert.equal(nx.value.calleeName, 'foo.Bar');
  assert.ok(nx.findings.some((f) => f.severity === 'warning' && f.kind === 'pickle-call'));
  const ext = run('\x80\x02\x82\x05)R.');
  assert.ok(ext.value instanceof PyObject);
  // An extension-registry callable is outside the allowlist and called: DANGER by the call rule.
  assert.ok(ext.findings.some((f) => f.kind === 'pickle-global' && f.severity === 'danger'));
  const obj = run('(cfoo\nBar\nK\x01o.');
  assert.ok(obj.value instanceof PyObject);
  assert.deepEqual(obj.value.args, [1]);
  assert.equal(run('(K\x01K\x021N.').value, null);
  const dup = run(']2\x86.');
  assert.ok(dup.value instanceof PyTuple);
  assert.equal(dup.value.items[0], dup.value.items[1]);
  const ba = run('\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00hi\x98.');
  assert.deepEqual(normalise(ba.value), '6869');
});

test('a memo-shared DAG (2^60 paths) renders and converts in bounded time', () => {
  // x = []; 60 times: x = (x, x)
  const r = run(`\x80\x02]${'2\x86'.repeat(60)}.`);
  const t0 = performance.now();
  const s = pyRepr(r.value, 200);
  const j = JSON.stringify(pyToJson(r.value));
  assert.ok(s.length <= 200);
  assert.ok(j.length < 5_000_000);
  assert.ok(performance.now() - t0 < 2000);
});
