import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { MemoryByteSource } from '../../src/formats/byteSource';
import type { TensorInfo } from '../../src/formats/checkpoint';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { decodeInto, readTensorF32, tensorStats } from '../../src/formats/tensorData';
import { CountingSource, expectedReaders, num, READERS } from './readerTestUtil';

/** Straightforward two-pass float64 reference, written independently of the streaming code. */
function reference(values: number[], bins: number): { min: number; max: number; mean: number; std: number; zeros: number; nan: number; inf: number; counts: number[] } {
  const fin = values.filter((v) => Number.isFinite(v));
  const min = Math.min(...fin);
  const max = Math.max(...fin);
  const mean = fin.reduce((a, b) => a + b, 0) / fin.length;
  const std = Math.sqrt(fin.reduce((a, b) => a + (b - mean) ** 2, 0) / (fin.length - 1));
  const counts = new Array<number>(bins).fill(0);
  // Bin i holds edge_i <= v < edge_{i+1} with edge_i = min + i*(max-min)/bins; the last bin is closed.
  const width = (max - min) / bins;
  for (const v of fin) {
    let b = 0;
    for (let i = bins - 1; i >= 0 && width > 0; i--) {
      if (v >= min + i * width) {
        b = i;
        break;
      }
    }
    counts[b]!++;
  }
  return { min, max, mean, std, zeros: values.filter((v) => v === 0).length, nan: values.filter(Number.isNaN).length, inf: values.filter((v) => v === Infinity || v === -Infinity).length, counts };
}

const close = (a: number, b: number, rel = 1e-12): boolean => Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));

test('stats of every fixture tensor match a float64 two-pass reference, in any chunking', async () => {
  const files = expectedReaders().files;
  for (const name of ['views_fp32.pth', 'fp16.pth', 'bf16.pth', 'mixed.safetensors']) {
    const ck = await openCheckpoint(resolve(READERS, name));
    for (const t of ck.tensors) {
      const vals = files[name]!.tensors[t.name]!.values.map(num);
      if (vals.length === 0) continue;
      // The reader decodes in float64 (no float32 rounding for stats): compare with the exact values.
      const ref = reference(vals, 16);
      for (const chunkBytes of [undefined, 8, 24]) {
        const s = await tensorStats(t, { bins: 16, ...(chunkBytes ? { chunkBytes, gatherSpanBytes: 0 } : {}) });
        const tag = `${name}:${t.name} chunk=${chunkBytes}`;
        assert.equal(s.count, vals.length, tag);
        assert.equal(s.nanCount, ref.nan, tag);
        assert.equal(s.infCount, ref.inf, tag);
        assert.equal(s.zeroFraction, ref.zeros / vals.length, tag);
        if (vals.some(Number.isFinite)) {
          // === so that -0 and 0 compare equal (both are the minimum of [0, -0]).
          assert.ok(s.min === ref.min, `${tag} min ${s.min} vs ${ref.min}`);
          assert.ok(s.max === ref.max, `${tag} max ${s.max} vs ${ref.max}`);
          assert.ok(close(s.mean, ref.mean), `${tag} mean ${s.mean} vs ${ref.mean}`);
          if (vals.filter(Number.isFinite).length > 1) assert.ok(close(s.std, ref.std, 1e-9), `${tag} std ${s.std} vs ${ref.std}`);
          assert.deepEqual(s.histogram.counts, ref.counts, tag);
          assert.equal(s.histogram.edges.length, 17);
          assert.ok(s.histogram.edges[0] === ref.min);
          assert.ok(s.histogram.edges[16] === ref.max);
        }
      }
    }
  }
});

test('strided views read the same through the whole-span gather and the windowed path', async () => {
  const ck = await openCheckpoint(resolve(READERS, 'views_fp32.pth'));
  const want = expectedReaders().files['views_fp32.pth']!.tensors;
  for (const name of ['w_t', 'w_cols']) {
    const t = ck.tensors.find((x) => x.name === name)!;
    const a = await readTensorF32(t);
    const b = await readTensorF32(t, { gatherSpanBytes: 0, chunkBytes: 8 });
    assert.deepEqual(Array.from(b), Array.from(a));
    assert.deepEqual(Array.from(a), want[name]!.values.map((v) => Math.fround(num(v))));
  }
});

test('contiguous reads are chunked: never more than chunkBytes per read', async () => {
  const data = new Uint8Array(new Float32Array(Array.from({ length: 1000 }, (_, i) => i - 500)).buffer);
  const src = new CountingSource(new MemoryByteSource('m', data));
  const t: TensorInfo = { name: 't', dtype: 'F32', shape: [10, 100], location: { file: 'm', offset: 0, length: 4000 } };
  const v = await readTensorF32(t, { source: src, chunkBytes: 256 });
  assert.equal(v[0], -500);
  assert.equal(v[999], 499);
  assert.equal(src.reads, Math.ceil(4000 / 256));
  assert.equal(src.bytesRead, 4000);
  const s = await tensorStats(t, { source: src, chunkBytes: 256 });
  assert.equal(s.mean, -0.5);
  assert.equal(s.zeroFraction, 1 / 1000);
});

test('decodeInto: integer, bool and half conversions', () => {
  const out = new Float64Array(4);
  decodeInto('I64', new Uint8Array(new BigInt64Array([-5n, 2n ** 40n]).buffer), 0, 2, out, 0);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [-5, 2 ** 40]);
  decodeInto('BOOL', Uint8Array.from([0, 1, 2, 0]), 0, 4, out, 0);
  assert.deepEqual(Array.from(out), [0, 1, 1, 0]);
  decodeInto('F16', Uint8Array.from([0x00, 0x3c, 0x01, 0x00, 0xff, 0x7b, 0x00, 0xfc]), 0, 4, out, 0);
  assert.deepEqual(Array.from(out), [1, 2 ** -24, 65504, -Infinity]);
  decodeInto('BF16', Uint8Array.from([0x80, 0x3f, 0xc0, 0xc0]), 0, 2, out, 0);
  assert.deepEqual(Array.from(out.subarray(0, 2)), [1, -6]);
});

test('refuses to materialise absurd tensors', async () => {
  const t: TensorInfo = { name: 'huge', dtype: 'F32', shape: [1 << 20, 1 << 20], location: { file: 'm', offset: 0, length: 4 } };
  await assert.rejects(readTensorF32(t, { source: new MemoryByteSource('m', new Uint8Array(4)) }), /too-large|elements/);
});

test('expanded (stride-0) views claiming billions of elements are refused, not streamed', async () => {
  const t: TensorInfo = { name: 'x', dtype: 'F32', shape: [1_000_000, 1_000_000], strides: [0, 0], location: { file: 'm', offset: 0, length: 4 } };
  const t0 = performance.now();
  await assert.rejects(tensorStats(t, { source: new MemoryByteSource('m', new Uint8Array(4)) }), /refusing to stream/);
  assert.ok(performance.now() - t0 < 100);
  // A modest expanded view is fine: 3x4 of one value.
  const small: TensorInfo = { name: 'y', dtype: 'F32', shape: [3, 4], strides: [0, 0], location: { file: 'm', offset: 0, length: 4 } };
  const v = await readTensorF32(small, { source: new MemoryByteSource('m', new Uint8Array(new Float32Array([2.5]).buffer)) });
  assert.deepEqual(Array.from(v), new Array(12).fill(2.5));
});
