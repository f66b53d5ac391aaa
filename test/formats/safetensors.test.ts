import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm, writeFile, mkdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileByteSource, MemoryByteSource } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openCheckpoint, openSource } from '../../src/formats/openCheckpoint';
import { firstInvalidUtf8, readSafetensors, readSafetensorsHeader, resolveInside } from '../../src/formats/safetensors';
import { parseStrictJson, JsonSyntaxError } from '../../src/formats/strictJson';
import { readTensorF32 } from '../../src/formats/tensorData';
import { CountingSource, expectedReaders, num, READERS } from './readerTestUtil';

function stFile(header: Record<string, unknown> | string, data: Uint8Array): Uint8Array {
  let h = typeof header === 'string' ? header : JSON.stringify(header);
  while (h.length % 8) h += ' ';
  const hb = new TextEncoder().encode(h);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

async function rejects(p: Promise<unknown>, code: string, includes: string): Promise<ModelLensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ModelLensError, `expected ModelLensError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" should include "${includes}"`);
    return e;
  }
  assert.fail('expected a rejection');
}

test('mixed.safetensors: every dtype, metadata, values equal torch', async () => {
  const exp = expectedReaders().files['mixed.safetensors']!;
  const ck = await openCheckpoint(resolve(READERS, 'mixed.safetensors'));
  assert.equal(ck.format, 'safetensors');
  assert.deepEqual({ ...ck.metadata }, exp.metadata);
  assert.deepEqual(ck.tensors.map((t) => t.name), Object.keys(exp.tensors));
  for (const t of ck.tensors) {
    const e = exp.tensors[t.name]!;
    assert.equal(t.dtype, e.dtype, t.name);
    assert.deepEqual(t.shape, e.shape, t.name);
    const v = await readTensorF32(t);
    assert.equal(v.length, e.values.length);
    e.values.forEach((x, i) => assert.equal(v[i], Math.fround(num(x)), `${t.name}[${i}]`));
  }
  // "__proto__" is an ordinary tensor name and did not touch any prototype.
  const proto = ck.tensors.find((t) => t.name === '__proto__');
  assert.ok(proto);
  assert.equal(({} as Record<string, unknown>)['dtype'], undefined);
});

test('sharded safetensors through the index', async () => {
  const exp = expectedReaders().files['sharded/model.safetensors.index.json']!;
  const ck = await openCheckpoint(resolve(READERS, 'sharded', 'model.safetensors.index.json'));
  assert.equal(ck.format, 'safetensors-sharded');
  assert.deepEqual(ck.tensors.map((t) => t.name).sort(), Object.keys(exp.tensors).sort());
  for (const t of ck.tensors) {
    assert.ok(t.location.file.endsWith('.safetensors'));
    const v = await readTensorF32(t);
    exp.tensors[t.name]!.values.forEach((x, i) => assert.equal(v[i], Math.fround(num(x))));
  }
  assert.equal(ck.metadata['total_size'], '28');
});

test('header checks: each reference-implementation rule', async () => {
  const f32 = (n: number): Uint8Array => new Uint8Array(4 * n);
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const h = await readSafetensorsHeader(new MemoryByteSource('ok', stFile(ok, f32(2))));
  assert.equal(h.tensors[0]!.location.offset, h.dataStart);
  await rejects(readSafetensors(new MemoryByteSource('x', stFile(ok, f32(3)))), 'corrupt', 'trailing');
  await rejects(readSafetensors(new MemoryByteSource('x', stFile(ok, f32(1)))), 'truncated', 'data section');
  await rejects(readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, f32(2)))), 'corrupt', 'invalid data_offsets');
  await rejects(readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 8] } }, f32(2)))), 'corrupt', 'non-negative');
  await rejects(readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, f32(2)))), 'corrupt', 'non-negative');
  await rejects(readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'f32', shape: [2], data_offsets: [0, 8] } }, f32(2)))), 'unsupported', 'unknown dtype');
  // Offsets start at 0.
  await rejects(
    readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)))),
    'corrupt',
    'gap',
  );
  // Order in the JSON does not matter, coverage does.
  const rev = { b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
  const hr = await readSafetensorsHeader(new MemoryByteSource('rev', stFile(rev, f32(2))));
  assert.deepEqual(hr.tensors.map((t) => t.name), ['b', 'a']);
  // Overflow must not wrap: 2^32 * 2^32 elements of 1 byte is 2^64, not 0.
  await rejects(
    readSafetensors(new MemoryByteSource('x', stFile({ a: { dtype: 'U8', shape: [4294967296, 4294967296], data_offsets: [0, 0] } }, f32(0)))),
    'corrupt',
    'overflows',
  );
  // Integers beyond 2^53 are compared exactly: 2^53+1 elements vs a span of 2^53.
  const e = await rejects(
    readSafetensors(new MemoryByteSource('x', stFile('{"a":{"dtype":"U8","shape":[9007199254740993],"data_offsets":[0,9007199254740992]}}', f32(0)))),
    'corrupt',
    '9007199254740993',
  );
  assert.equal(e.offset, 8);
  // A zero-length file / a 7-byte file.
  await rejects(readSafetensors(new MemoryByteSource('x', new Uint8Array(7))), 'truncated', '8-byte');
});

test('strict JSON: duplicates, __proto__, big integers, depth, positions', () => {
  assert.throws(() => parseStrictJson('{"a":1,"a":2}'), (e: unknown) => e instanceof JsonSyntaxError && e.position === 7);
  assert.throws(() => parseStrictJson('{"x":{"a":1,"b":{"a":2},"a":3}}'), /duplicate key "a"/);
  const v = parseStrictJson('{"__proto__":{"polluted":true},"n":18446744073709551615,"f":1.5e3,"s":"\\u00e9\\n"}');
  assert.ok(v instanceof Map);
  assert.ok(v.get('__proto__') instanceof Map);
  assert.equal(v.get('n'), 18446744073709551615n);
  assert.equal(v.get('f'), 1500);
  assert.equal(v.get('s'), 'é\n');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.throws(() => parseStrictJson('['.repeat(100000)), /nesting deeper/);
  assert.throws(() => parseStrictJson('{"a":1} x'), /after the JSON value/);
  assert.throws(() => parseStrictJson('{"a":01}'), JsonSyntaxError);
  assert.throws(() => parseStrictJson('{"a":"\u0001"}'), /control character/);
  assert.deepEqual(parseStrictJson('  [1, [2, {}], "x", null, true, false]  '), [1, [2, new Map()], 'x', null, true, false]);
});

test('UTF-8 validation finds the first bad byte', () => {
  const enc = new TextEncoder();
  assert.equal(firstInvalidUtf8(enc.encode('ascii é ✓ 😀')), -1);
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0xc0, 0x80])), 1); // overlong
  assert.equal(firstInvalidUtf8(Uint8Array.from([0x41, 0x42, 0xed, 0xa0, 0x80])), 2); // surrogate
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xe2, 0x9c])), 0); // truncated sequence
  assert.equal(firstInvalidUtf8(Uint8Array.from([0xf4, 0x90, 0x80, 0x80])), 0); // > U+10FFFF
});

test('F8_E4M3 (fn) and F8_E5M2 decode to the published values', async () => {
  const e4 = Uint8Array.from([0x38, 0xb8, 0x7e, 0x01, 0x7f, 0x00, 0x80, 0x08]);
  const e5 = Uint8Array.from([0x3c, 0x7b, 0x7c, 0xfc, 0x01, 0x7e]);
  const file = stFile(
    { e4: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] }, e5: { dtype: 'F8_E5M2', shape: [6], data_offsets: [8, 14] } },
    Uint8Array.from([...e4, ...e5]),
  );
  const src = new MemoryByteSource('f8', file);
  const ck = await readSafetensors(src);
  const a = await readTensorF32(ck.tensors[0]!, { source: src });
  assert.deepEqual(Array.from(a.subarray(0, 4)), [1, -1, 448, 2 ** -9]);
  assert.ok(Number.isNaN(a[4]));
  assert.deepEqual(Array.from(a.subarray(5)), [0, -0, 2 ** -6]);
  const b = await readTensorF32(ck.tensors[1]!, { source: src });
  assert.deepEqual(Array.from(b.subarray(0, 5)), [1, 57344, Infinity, -Infinity, 2 ** -16]);
  assert.ok(Number.isNaN(b[5]));
});

test('shard paths must stay inside the model folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ml-shards-'));
  try {
    await mkdir(join(dir, 'm'));
    await writeFile(join(dir, 'm', 'a.safetensors'), stFile({}, new Uint8Array(0)));
    await writeFile(join(dir, 'outside.safetensors'), stFile({}, new Uint8Array(0)));
    await symlink(join(dir, 'outside.safetensors'), join(dir, 'm', 'link.safetensors'));
    const m = join(dir, 'm');
    assert.equal(await resolveInside(m, 'a.safetensors', 'idx'), join(m, 'a.safetensors'));
    await rejects(resolveInside(m, '../outside.safetensors', 'idx'), 'unsafe-path', 'leaves');
    await rejects(resolveInside(m, 'sub/../../outside.safetensors', 'idx'), 'unsafe-path', 'leaves');
    await rejects(resolveInside(m, join(dir, 'outside.safetensors'), 'idx'), 'unsafe-path', 'absolute');
    await rejects(resolveInside(m, 'C:\\x.safetensors', 'idx'), 'unsafe-path', 'absolute');
    await rejects(resolveInside(m, 'link.safetensors', 'idx'), 'unsafe-path', 'link');
    await rejects(resolveInside(m, 'missing.safetensors', 'idx'), 'not-found', 'not found');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a sparse 6 GB safetensors opens by reading only its header', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ml-big-'));
  const path = join(dir, 'big.safetensors');
  try {
    const dataBytes = 6 * 1024 ** 3;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    // 1000 tensors like a large model, the last one absorbing the remainder.
    const n = 1000;
    const each = Math.floor(dataBytes / n / 4) * 4;
    let off = 0;
    for (let i = 0; i < n; i++) {
      const len = i === n - 1 ? dataBytes - off : each;
      header[`blocks.${i}.weight`] = { dtype: 'F32', shape: [len / 4], data_offsets: [off, off + len] };
      off += len;
    }
    const head = stFile(header, new Uint8Array(0));
    const fh = await open(path, 'w');
    await fh.write(head, 0, head.length, 0);
    await fh.truncate(head.length + dataBytes); // sparse: no data blocks are written
    await fh.close();
    const src = new CountingSource(await FileByteSource.open(path));
    const t0 = performance.now();
    const ck = await openSource(src);
    const ms = performance.now() - t0;
    await src.close();
    assert.equal(ck.tensors.length, n);
    assert.equal(ck.sizeBytes, head.length + dataBytes);
    assert.ok(src.bytesRead <= head.length + 4096, `read ${src.bytesRead} bytes of a ${ck.sizeBytes}-byte file`);
    assert.ok(ms < 2000, `took ${ms} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('random bytes named .safetensors: "not a safetensors file" and why, before any header-length complaint', async () => {
  // Deterministic noise (xorshift), as an interrupted download of something else would look.
  const bytes = new Uint8Array(4096);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  bytes[8] = 0x00; // whatever the noise had, not '{'
  const dir = await mkdtemp(join(tmpdir(), 'ml-st-noise-'));
  try {
    const file = join(dir, 'model.safetensors');
    await writeFile(file, bytes);
    const e = await rejects(openCheckpoint(file), 'unknown-format', 'not a safetensors file');
    assert.equal(e.offset, 0);
    assert.match(e.problem, /^not a safetensors file: .* byte 8 is 0x00, not "\{"$/);
    assert.doesNotMatch(e.problem, /too large|exceeds/i);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // A real header whose length is wrong is still reported as the length problem (fixtures in bad/).
  const h = stFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4));
  new DataView(h.buffer).setBigUint64(0, 5000n, true);
  await rejects(readSafetensors(new MemoryByteSource('x', h)), 'truncated', 'past the end');
});
