import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FileByteSource, MemoryByteSource } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openSource } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import { readTorchZip } from '../../src/formats/torchCheckpoint';
import { entryDataOffset, openZip, readEntry } from '../../src/formats/zip';
import { buildZip, CountingSource, crc32, latin, READERS } from './readerTestUtil';

/** data.pkl for {'w': Tensor(FloatStorage key '0', numel n, shape [n])}. */
function tensorPickle(n: number): Uint8Array {
  const i32 = (v: number): string => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const s = (t: string): string => `X${i32(t.length)}${t}`;
  return latin(
    `\x80\x02}${s('w')}ctorch._utils\n_rebuild_tensor_v2\n((${s('storage')}ctorch\nFloatStorage\n${s('0')}${s('cpu')}J${i32(n)}tQK\x00J${i32(n)}\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.`,
  );
}

function f32(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

async function rejectsCode(p: Promise<unknown>, code: string, includes: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ModelLensError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(includes), `"${e.message}" should include "${includes}"`);
    return true;
  });
}

test('reads a real torch.save archive: entries, stored data, CRC', async () => {
  const src = await FileByteSource.open(resolve(READERS, 'views_fp32.pth'));
  try {
    const zip = await openZip(src);
    const names = [...zip.entries.keys()];
    assert.ok(names.some((n) => n.endsWith('/data.pkl')));
    assert.ok(names.some((n) => n.endsWith('/version')));
    const pkl = zip.entries.get(names.find((n) => n.endsWith('/data.pkl'))!)!;
    const { data } = await readEntry(zip, pkl, 1 << 20);
    assert.equal(data[0], 0x80);
    assert.equal(data[data.length - 1], 0x2e);
  } finally {
    await src.close();
  }
});

test('any folder prefix, a comment, and a deflated data.pkl', async () => {
  const bytes = buildZip(
    [
      { name: 'my-run_ep3/data.pkl', data: tensorPickle(3), method: 8 },
      { name: 'my-run_ep3/data/0', data: f32([1, 2, 3]) },
    ],
    { comment: 'hello' },
  );
  const src = new MemoryByteSource('m.pth', bytes);
  const ck = await readTorchZip(src);
  assert.equal(ck.tensors.length, 1);
  assert.deepEqual(Array.from(await readTensorF32(ck.tensors[0]!, { source: src })), [1, 2, 3]);
  // torch.load looks records up in the first path segment only: a deeper data.pkl is not its record.
  const deep = new MemoryByteSource('d.pth', buildZip([{ name: 'deep/er/data.pkl', data: tensorPickle(2) }, { name: 'deep/er/data/0', data: f32([5, 6]) }]));
  await rejectsCode(readTorchZip(deep), 'unknown-format', 'without deep/data.pkl');
  // Root-level data.pkl (no folder): torch.load refuses it ("not in a subdirectory"), and so do we.
  const flat = new MemoryByteSource('f.pth', buildZip([{ name: 'data.pkl', data: tensorPickle(2) }, { name: 'data/0', data: f32([5, 6]) }]));
  await rejectsCode(readTorchZip(flat), 'corrupt', 'not inside a folder');
});

test('structural problems give typed errors', async () => {
  const good = [
    { name: 'a/data.pkl', data: tensorPickle(2) },
    { name: 'a/data/0', data: f32([1, 2]) },
  ];
  const z = buildZip(good);
  await rejectsCode(openZip(new MemoryByteSource('x', z.subarray(0, z.length - 10))), 'truncated', 'end-of-central-directory');
  await rejectsCode(openZip(new MemoryByteSource('x', Buffer.concat([z, latin('junk')]))), 'corrupt', 'after the zip end record');
  await rejectsCode(openZip(new MemoryByteSource('x', new Uint8Array(10))), 'truncated', 'at least 22');
  await rejectsCode(
    openZip(new MemoryByteSource('x', buildZip([{ name: 'a', data: latin('1') }, { name: 'a', data: latin('2') }]))),
    'corrupt',
    'duplicate zip entry',
  );
  await rejectsCode(openZip(new MemoryByteSource('x', buildZip([{ name: 'a', data: latin('1'), flags: 1 }]))), 'unsupported', 'encrypted');
  const badCrc = buildZip([{ name: 'a/data.pkl', data: tensorPickle(2), badCrc: true }, good[1]!]);
  await rejectsCode(readTorchZip(new MemoryByteSource('x', badCrc)), 'corrupt', 'CRC mismatch');
  const deflatedStorage = buildZip([good[0]!, { name: 'a/data/0', data: f32([1, 2]), method: 8 }]);
  await rejectsCode(readTorchZip(new MemoryByteSource('x', deflatedStorage)), 'unsupported', 'compressed');
  // Central directory offset pointing past the file.
  const broken = new Uint8Array(z);
  new DataView(broken.buffer).setUint32(broken.length - 6, 0x7fffffff, true);
  await rejectsCode(openZip(new MemoryByteSource('x', broken)), 'truncated', 'central directory');
  // A record whose local header is not where the directory says.
  const zip = await openZip(new MemoryByteSource('x', z));
  const e = zip.entries.get('a/data/0')!;
  await rejectsCode(entryDataOffset(zip, { ...e, localHeaderOffset: 1 }), 'corrupt', 'local header signature');
});

test('a sparse 5 GB zip64 checkpoint opens by reading only headers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ml-zip64-'));
  const path = join(dir, 'big.pth');
  try {
    const n = 1_342_177_280; // float32 elements = 5 GiB
    const big = n * 4;
    const pkl = tensorPickle(n);
    const fh = await open(path, 'w');
    const write = async (b: Uint8Array, at: number): Promise<void> => {
      await fh.write(b, 0, b.length, at);
    };
    const enc = new TextEncoder();
    // Entry 1: archive/data.pkl, stored.
    const n1 = enc.encode('archive/data.pkl');
    const l1 = new Uint8Array(30 + n1.length);
    const v1 = new DataView(l1.buffer);
    v1.setUint32(0, 0x04034b50, true);
    v1.setUint16(4, 45, true);
    v1.setUint32(14, crc32(pkl), true);
    v1.setUint32(18, pkl.length, true);
    v1.setUint32(22, pkl.length, true);
    v1.setUint16(26, n1.length, true);
    l1.set(n1, 30);
    await write(l1, 0);
    await write(pkl, l1.length);
    // Entry 2: archive/data/0, 5 GiB stored, sizes in a zip64 local extra field; the data is a hole.
    const off2 = l1.length + pkl.length;
    const n2 = enc.encode('archive/data/0');
    const l2 = new Uint8Array(30 + n2.length + 20);
    const v2 = new DataView(l2.buffer);
    v2.setUint32(0, 0x04034b50, true);
    v2.setUint16(4, 45, true);
    v2.setUint32(18, 0xffffffff, true);
    v2.setUint32(22, 0xffffffff, true);
    v2.setUint16(26, n2.length, true);
    v2.setUint16(28, 20, true);
    l2.set(n2, 30);
    v2.setUint16(30 + n2.length, 1, true);
    v2.setUint16(32 + n2.length, 16, true);
    v2.setBigUint64(34 + n2.length, BigInt(big), true);
    v2.setBigUint64(42 + n2.length, BigInt(big), true);
    await write(l2, off2);
    const dataStart2 = off2 + l2.length;
    const cdOff = dataStart2 + big;
    // Central directory.
    const c1 = new Uint8Array(46 + n1.length);
    const cv1 = new DataView(c1.buffer);
    cv1.setUint32(0, 0x02014b50, true);
    cv1.setUint16(4, 45, true);
    cv1.setUint16(6, 45, true);
    cv1.setUint32(16, crc32(pkl), true);
    cv1.setUint32(20, pkl.length, true);
    cv1.setUint32(24, pkl.length, true);
    cv1.setUint16(28, n1.length, true);
    c1.set(n1, 46);
    const c2 = new Uint8Array(46 + n2.length + 28);
    const cv2 = new DataView(c2.buffer);
    cv2.setUint32(0, 0x02014b50, true);
    cv2.setUint16(4, 45, true);
    cv2.setUint16(6, 45, true);
    cv2.setUint32(20, 0xffffffff, true);
    cv2.setUint32(24, 0xffffffff, true);
    cv2.setUint16(28, n2.length, true);
    cv2.setUint16(30, 28, true);
    cv2.setUint32(42, 0xffffffff, true);
    c2.set(n2, 46);
    const x = 46 + n2.length;
    cv2.setUint16(x, 1, true);
    cv2.setUint16(x + 2, 24, true);
    cv2.setBigUint64(x + 4, BigInt(big), true); // uncompressed
    cv2.setBigUint64(x + 12, BigInt(big), true); // compressed
    cv2.setBigUint64(x + 20, BigInt(off2), true); // local header offset
    const cdSize = c1.length + c2.length;
    await write(c1, cdOff);
    await write(c2, cdOff + c1.length);
    const z64At = cdOff + cdSize;
    const z64 = new Uint8Array(56);
    const zv = new DataView(z64.buffer);
    zv.setUint32(0, 0x06064b50, true);
    zv.setBigUint64(4, 44n, true);
    zv.setUint16(12, 45, true);
    zv.setUint16(14, 45, true);
    zv.setBigUint64(24, 2n, true);
    zv.setBigUint64(32, 2n, true);
    zv.setBigUint64(40, BigInt(cdSize), true);
    zv.setBigUint64(48, BigInt(cdOff), true);
    await write(z64, z64At);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(z64At), true);
    lv.setUint32(16, 1, true);
    await write(loc, z64At + 56);
    const eocd = new Uint8Array(22);
    const ev = new DataView(eocd.buffer);
    ev.setUint32(0, 0x06054b50, true);
    ev.setUint16(8, 0xffff, true);
    ev.setUint16(10, 0xffff, true);
    ev.setUint32(12, 0xffffffff, true);
    ev.setUint32(16, 0xffffffff, true);
    await write(eocd, z64At + 76);
    await fh.close();

    const src = new CountingSource(await FileByteSource.open(path));
    const t0 = performance.now();
    const ck = await openSource(src);
    const ms = performance.now() - t0;
    await src.close();
    assert.ok(ck.sizeBytes > 5 * 1024 ** 3);
    assert.equal(ck.tensors.length, 1);
    assert.deepEqual(ck.tensors[0]!.shape, [n]);
    assert.equal(ck.tensors[0]!.location.offset, dataStart2);
    assert.equal(ck.tensors[0]!.location.length, big);
    assert.ok(src.bytesRead < 80_000, `read ${src.bytesRead} bytes`);
    assert.ok(ms < 2000, `took ${ms} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
