// Wire-format reader/writer: round trips, every malformed-input path, and the streaming reader's
// chunk boundaries (tiny chunks force every value to straddle a refill).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoReader, ProtoStream, ProtoWriter, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT, MAX_PROTO_DEPTH } from '../../../src/formats/onnx/protobuf';
import { MemoryByteSource } from '../../../src/formats/byteSource';
import { ModelLensError } from '../../../src/formats/errors';

const INTS = [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, -1, -2, -(2 ** 31), -(2 ** 53 - 1)];

function isErr(code: string, offset?: number): (e: unknown) => boolean {
  return (e: unknown) => e instanceof ModelLensError && e.code === code && (offset === undefined || e.offset === offset);
}

test('varints, floats, strings and nested messages round trip', () => {
  const inner = new ProtoWriter().string(1, 'héllo').float(2, 1.5).double(3, -2.25);
  const w = new ProtoWriter();
  for (const v of INTS) w.int64(1, v);
  w.message(2, inner);
  w.packedInt64(3, [3, -4, 2 ** 40]);
  w.packedFloat(4, [0.5, -1, 3.25]);
  const big = new Uint8Array(5000).map((_, i) => i & 0xff);
  w.bytes(5, big);
  const buf = w.finish();
  assert.equal(buf.length, w.length);
  const r = new ProtoReader(buf, 'mem');
  const ints: number[] = [];
  let sub: ProtoReader | undefined;
  const packed: number[] = [];
  const floats: number[] = [];
  let blob: Uint8Array | undefined;
  while (!r.done()) {
    const t = r.readTag();
    if (t.field === 1) ints.push(r.readInt64());
    else if (t.field === 2) sub = r.readMessage();
    else if (t.field === 3) r.readRepeatedInt64(t.wire, packed);
    else if (t.field === 4) r.readRepeatedFloat(t.wire, floats);
    else if (t.field === 5) blob = r.readBytes();
  }
  assert.deepEqual(ints, INTS);
  assert.deepEqual(packed, [3, -4, 2 ** 40]);
  assert.deepEqual(floats, [0.5, -1, 3.25]);
  assert.deepEqual(blob, big);
  assert.ok(sub);
  assert.deepEqual(sub.readTag(), { field: 1, wire: WIRE_LEN, offset: sub.absPos - 1 });
  assert.equal(sub.readString(), 'héllo');
  assert.equal(sub.readTag().wire, WIRE_FIXED32);
  assert.equal(sub.readFloat(), 1.5);
  sub.readTag();
  assert.equal(sub.readDouble(), -2.25);
  assert.ok(sub.done());
});

test('malformed input gives typed errors with offsets', () => {
  // 11-byte varint
  assert.throws(() => new ProtoReader(new Uint8Array(11).fill(0xff), 'f').readVarint(), isErr('corrupt', 0));
  // varint running off the end
  assert.throws(() => new ProtoReader(Uint8Array.of(0x80, 0x80), 'f').readVarint(), isErr('truncated', 0));
  // 10th byte > 1 exceeds 64 bits
  assert.throws(() => new ProtoReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02), 'f').readVarint(), isErr('corrupt'));
  // unsigned value above 2^53 (2^60)
  const w = new ProtoWriter().rawVarint(2 ** 53 - 1).finish();
  assert.equal(new ProtoReader(w, 'f').readVarint(), 2 ** 53 - 1);
  assert.throws(() => new ProtoReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10), 'f').readVarint(), (e: unknown) => e instanceof ModelLensError && /exceeds 2\^53/.test(e.message));
  // length longer than the message, with the offset of the length prefix
  const bad = Uint8Array.of(0x0a, 0x05, 1, 2);
  const r = new ProtoReader(bad, 'f', 1000);
  r.readTag();
  assert.throws(() => r.readBytes(), isErr('truncated', 1001));
  // wire types 6 and 7 and field number 0
  assert.throws(() => new ProtoReader(Uint8Array.of(0x0e), 'f').readTag(), isErr('corrupt', 0));
  assert.throws(() => new ProtoReader(Uint8Array.of(0x02), 'f').readTag(), isErr('corrupt', 0));
  // fixed32 with 3 bytes left
  assert.throws(() => new ProtoReader(Uint8Array.of(1, 2, 3), 'f').readFloat(), isErr('truncated'));
  // unterminated group
  const grp = new ProtoReader(Uint8Array.of(0x0b, 0x10, 0x01), 'f');
  const t = grp.readTag();
  assert.throws(() => grp.skip(t.wire, t.field), isErr('truncated'));
  // invalid UTF-8 string
  assert.throws(() => new ProtoReader(Uint8Array.of(0x02, 0xc3, 0x28), 'f').readString(), isErr('corrupt'));
});

test('nesting deeper than the cap is refused', () => {
  let w = new ProtoWriter().int64(1, 7);
  for (let i = 0; i < MAX_PROTO_DEPTH + 5; i++) w = new ProtoWriter().message(1, w);
  const buf = w.finish();
  let r = new ProtoReader(buf, 'deep');
  assert.throws(() => {
    for (;;) {
      r.readTag();
      r = r.readMessage();
    }
  }, (e: unknown) => e instanceof ModelLensError && /nested deeper/.test(e.message));
});

test('streaming reader agrees with the in-memory reader across chunk boundaries', async () => {
  const inner = new ProtoWriter().string(1, 'x'.repeat(40)).int64(2, -(2 ** 40));
  const w = new ProtoWriter();
  for (const v of INTS) w.int64(1, v);
  w.message(2, inner);
  w.bytes(3, new Uint8Array(100).fill(7));
  w.float(4, 2.5);
  const buf = w.finish();
  for (const chunk of [1, 2, 3, 7, 64, 1 << 16]) {
    const s = new ProtoStream(new MemoryByteSource('m', buf), 0, buf.length, 0, chunk);
    const ints: number[] = [];
    let spanLen = -1;
    let subInt = 0;
    while (!s.done()) {
      const t = await s.readTag();
      if (t.field === 1) ints.push(await s.readInt64());
      else if (t.field === 2) {
        const sub = await s.readSubStream();
        while (!sub.done()) {
          const u = await sub.readTag();
          if (u.field === 2) subInt = await sub.readInt64();
          else await sub.skip(u.wire, u.field);
        }
      } else if (t.field === 3) spanLen = (await s.readSpan()).length;
      else await s.skip(t.wire, t.field);
    }
    assert.deepEqual(ints, INTS, `chunk ${chunk}`);
    assert.equal(spanLen, 100);
    assert.equal(subInt, -(2 ** 40));
  }
  // A stream whose end lies past the file is refused up front.
  assert.throws(() => new ProtoStream(new MemoryByteSource('m', buf), 0, buf.length + 1), isErr('truncated'));
  const s = new ProtoStream(new MemoryByteSource('m', Uint8Array.of(0x0a, 0x7f, 0)), 0, 3);
  await s.readTag();
  await assert.rejects(s.readSpan(), isErr('truncated', 1));
  assert.equal(WIRE_VARINT, 0);
});
