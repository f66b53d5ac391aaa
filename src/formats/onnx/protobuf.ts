// Over 500 lines on purpose: the checked wire-format reader and the writer the graph builders use are
// one codec; splitting them would duplicate the varint and length rules.
// Minimal protobuf wire-format reader and writer for ONNX. Hand-written so that every length, varint
// and nesting level read from an untrusted file is checked before use, and so that multi-GB payloads
// (raw tensor data) can be skipped by offset instead of materialized.
import { ModelLensError } from '../errors';
import type { ByteSource } from '../byteSource';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_START_GROUP = 3;
export const WIRE_END_GROUP = 4;
export const WIRE_FIXED32 = 5;

/** Nested messages deeper than this are refused (ONNX graphs nest subgraphs a few levels at most). */
export const MAX_PROTO_DEPTH = 64;

export interface FieldTag {
  field: number;
  wire: number;
  /** Absolute file offset of the tag's first byte. */
  offset: number;
}

const TWO_32 = 4294967296;

/** Splits a 10-byte varint into two 32-bit halves; shared by the in-memory and streaming readers. */
function decodeVarint64(buf: Uint8Array, pos: number, end: number, file: string, absPos: number): { lo: number; hi: number; next: number } {
  let lo = 0;
  let hi = 0;
  let shift = 0;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) throw new ModelLensError('truncated', file, 'varint runs past the end of its message', absPos);
    const b = buf[pos + i]!;
    const bits = b & 0x7f;
    if (shift < 28) lo |= bits << shift;
    else if (shift === 28) {
      lo |= (bits & 0x0f) << 28;
      hi |= bits >>> 4;
    } else hi |= bits << (shift - 32);
    if ((b & 0x80) === 0) {
      if (i === 9 && b > 1) throw new ModelLensError('corrupt', file, 'varint exceeds 64 bits', absPos);
      return { lo: lo >>> 0, hi: hi >>> 0, next: pos + i + 1 };
    }
    shift += 7;
  }
  throw new ModelLensError('corrupt', file, 'varint longer than 10 bytes', absPos);
}

function unsignedFrom(lo: number, hi: number, file: string, absPos: number): number {
  const v = hi * TWO_32 + lo;
  if (hi >= 0x200000) throw new ModelLensError('corrupt', file, `64-bit value ${BigInt(hi) * 4294967296n + BigInt(lo)} exceeds 2^53`, absPos);
  return v;
}

function signedFrom(lo: number, hi: number, file: string, absPos: number): number {
  if (hi & 0x80000000) {
    // two's complement negative int64
    const nhi = ~hi >>> 0;
    const nlo = ~lo >>> 0;
    const mag = nhi * TWO_32 + nlo + 1;
    if (nhi >= 0x200000) throw new ModelLensError('corrupt', file, 'negative 64-bit value below -2^53', absPos);
    return -mag;
  }
  return unsignedFrom(lo, hi, file, absPos);
}

/**
 * Reads one message held in memory. `base` is the absolute file offset of `buf[0]`, so every error
 * and every recorded payload offset refers to the file.
 */
export class ProtoReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
    readonly base = 0,
    start = 0,
    end = buf.length,
    readonly depth = 0,
  ) {
    if (depth > MAX_PROTO_DEPTH) throw new ModelLensError('corrupt', file, `messages nested deeper than ${MAX_PROTO_DEPTH}`, base + start);
    this.pos = start;
    this.end = end;
  }

  get absPos(): number {
    return this.base + this.pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  readTag(): FieldTag {
    const offset = this.absPos;
    const raw = this.readVarint();
    const field = Math.floor(raw / 8);
    const wire = raw % 8;
    if (field === 0 || field > 536870911) throw new ModelLensError('corrupt', this.file, `invalid field number ${field}`, offset);
    if (wire > 5) throw new ModelLensError('corrupt', this.file, `invalid wire type ${wire}`, offset);
    return { field, wire, offset };
  }

  private varint64(): { lo: number; hi: number } {
    const at = this.absPos;
    const r = decodeVarint64(this.buf, this.pos, this.end, this.file, at);
    this.pos = r.next;
    return r;
  }

  /** Unsigned varint as a number; values above 2^53 are an error. */
  readVarint(): number {
    const at = this.absPos;
    const { lo, hi } = this.varint64();
    return unsignedFrom(lo, hi, this.file, at);
  }

  /** int64/int32 varint (two's complement) as a number; |v| > 2^53 is an error. */
  readInt64(): number {
    const at = this.absPos;
    const { lo, hi } = this.varint64();
    return signedFrom(lo, hi, this.file, at);
  }

  readBool(): boolean {
    return this.readVarint() !== 0;
  }

  readFixed32(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0, true);
    this.pos += 4;
    return v;
  }

  readFloat(): number {
    this.need(4);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  readDouble(): number {
    this.need(8);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  readFixed64(): number {
    this.need(8);
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    const at = this.absPos;
    this.pos += 8;
    return unsignedFrom(dv.getUint32(0, true), dv.getUint32(4, true), this.file, at);
  }

  /** Length prefix of a length-delimited field, checked against the bytes left in this message. */
  readLength(): number {
    const at = this.absPos;
    const len = this.readVarint();
    if (len > this.end - this.pos) {
      throw new ModelLensError('truncated', this.file, `length-delimited field claims ${len} bytes but only ${this.end - this.pos} remain in its message`, at);
    }
    return len;
  }

  /** Payload of a length-delimited field (a view, not a copy). */
  readBytes(): Uint8Array {
    const len = this.readLength();
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** Absolute offset and length of a length-delimited payload, skipped without reading it. */
  readSpan(): { offset: number; length: number } {
    const len = this.readLength();
    const offset = this.absPos;
    this.pos += len;
    return { offset, length: len };
  }

  readString(): string {
    const at = this.absPos;
    const b = this.readBytes();
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      throw new ModelLensError('corrupt', this.file, 'string field is not valid UTF-8', at);
    }
  }

  /** A reader over an embedded message; the parent is advanced past it. */
  readMessage(): ProtoReader {
    const len = this.readLength();
    const r = new ProtoReader(this.buf, this.file, this.base, this.pos, this.pos + len, this.depth + 1);
    this.pos += len;
    return r;
  }

  /** Packed or unpacked repeated varints (int64 semantics), appended to `out`. */
  readRepeatedInt64(wire: number, out: number[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.readInt64());
      return;
    }
    if (wire !== WIRE_LEN) throw new ModelLensError('corrupt', this.file, `repeated int64 with wire type ${wire}`, this.absPos);
    const sub = this.readMessage();
    while (!sub.done()) out.push(sub.readInt64());
  }

  /** Packed or unpacked repeated floats, appended to `out`. */
  readRepeatedFloat(wire: number, out: number[]): void {
    if (wire === WIRE_FIXED32) {
      out.push(this.readFloat());
      return;
    }
    if (wire !== WIRE_LEN) throw new ModelLensError('corrupt', this.file, `repeated float with wire type ${wire}`, this.absPos);
    const sub = this.readMessage();
    if ((sub.end - sub.pos) % 4 !== 0) throw new ModelLensError('corrupt', this.file, 'packed float field length is not a multiple of 4', sub.absPos);
    while (!sub.done()) out.push(sub.readFloat());
  }

  /** Skips a field of any wire type (groups included, depth-capped). */
  skip(wire: number, field = 0): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.need(8);
        this.pos += 8;
        return;
      case WIRE_FIXED32:
        this.need(4);
        this.pos += 4;
        return;
      case WIRE_LEN:
        {
          const len = this.readLength();
          this.pos += len;
        }
        return;
      case WIRE_START_GROUP: {
        let depth = 1;
        while (depth > 0) {
          if (depth > MAX_PROTO_DEPTH) throw new ModelLensError('corrupt', this.file, 'groups nested too deeply', this.absPos);
          if (this.done()) throw new ModelLensError('truncated', this.file, `group (field ${field}) not closed`, this.absPos);
          const t = this.readTag();
          if (t.wire === WIRE_START_GROUP) depth++;
          else if (t.wire === WIRE_END_GROUP) depth--;
          else this.skip(t.wire, t.field);
        }
        return;
      }
      default:
        throw new ModelLensError('corrupt', this.file, `unexpected wire type ${wire}`, this.absPos);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new ModelLensError('truncated', this.file, `needs ${n} bytes but ${this.end - this.pos} remain in the message`, this.absPos);
  }
}

/**
 * Walks the fields of a message that lies in a file without loading it: tags and small values are
 * read through a chunk buffer, large payloads are skipped by offset.
 */
export class ProtoStream {
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  pos: number;

  constructor(
    readonly src: ByteSource,
    start: number,
    readonly end: number,
    readonly depth = 0,
    private readonly chunkSize = 1 << 16,
    inherited?: { chunk: Uint8Array; chunkStart: number },
  ) {
    if (inherited) {
      this.chunk = inherited.chunk;
      this.chunkStart = inherited.chunkStart;
    }
    if (depth > MAX_PROTO_DEPTH) throw new ModelLensError('corrupt', src.path, `messages nested deeper than ${MAX_PROTO_DEPTH}`, start);
    if (end > src.size) throw new ModelLensError('truncated', src.path, `message ends at ${end} but the file has ${src.size} bytes`, start);
    this.pos = start;
  }

  get file(): string {
    return this.src.path;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** Makes at least min(n, end-pos) bytes from pos available in the chunk buffer. */
  private async fill(n: number): Promise<void> {
    const have = this.chunkStart + this.chunk.length - this.pos;
    if (this.pos >= this.chunkStart && have >= Math.min(n, this.end - this.pos)) return;
    const len = Math.min(Math.max(n, this.chunkSize), this.end - this.pos);
    this.chunk = await this.src.read(this.pos, len);
    this.chunkStart = this.pos;
  }

  private async varint64(): Promise<{ lo: number; hi: number }> {
    await this.fill(10);
    const rel = this.pos - this.chunkStart;
    const r = decodeVarint64(this.chunk, rel, Math.min(this.chunk.length, this.end - this.chunkStart), this.file, this.pos);
    this.pos += r.next - rel;
    return r;
  }

  async readTag(): Promise<FieldTag> {
    const offset = this.pos;
    const raw = await this.readVarint();
    const field = Math.floor(raw / 8);
    const wire = raw % 8;
    if (field === 0 || field > 536870911) throw new ModelLensError('corrupt', this.file, `invalid field number ${field}`, offset);
    if (wire > 5) throw new ModelLensError('corrupt', this.file, `invalid wire type ${wire}`, offset);
    return { field, wire, offset };
  }

  async readVarint(): Promise<number> {
    const at = this.pos;
    const { lo, hi } = await this.varint64();
    return unsignedFrom(lo, hi, this.file, at);
  }

  async readInt64(): Promise<number> {
    const at = this.pos;
    const { lo, hi } = await this.varint64();
    return signedFrom(lo, hi, this.file, at);
  }

  async readLength(): Promise<number> {
    const at = this.pos;
    const len = await this.readVarint();
    if (len > this.end - this.pos) {
      throw new ModelLensError('truncated', this.file, `length-delimited field claims ${len} bytes but only ${this.end - this.pos} remain in its message`, at);
    }
    return len;
  }

  /** Offset and length of a length-delimited payload, skipped without reading it. */
  async readSpan(): Promise<{ offset: number; length: number }> {
    const length = await this.readLength();
    const offset = this.pos;
    this.pos += length;
    return { offset, length };
  }

  /** Reads a length-delimited payload into memory as a ProtoReader; refuses payloads over `cap`. */
  async readMessage(cap: number): Promise<ProtoReader> {
    const at = this.pos;
    const { offset, length } = await this.readSpan();
    if (length > cap) throw new ModelLensError('too-large', this.file, `embedded message of ${length} bytes exceeds the ${cap}-byte limit`, at);
    const buf = await this.readRange(offset, length);
    return new ProtoReader(buf, this.file, offset, 0, length, this.depth + 1);
  }

  /** A stream over an embedded message; the parent is advanced past it. */
  async readSubStream(): Promise<ProtoStream> {
    const { offset, length } = await this.readSpan();
    return new ProtoStream(this.src, offset, offset + length, this.depth + 1, this.chunkSize, { chunk: this.chunk, chunkStart: this.chunkStart });
  }

  async readSmallBytes(cap: number): Promise<Uint8Array> {
    const at = this.pos;
    const { offset, length } = await this.readSpan();
    if (length > cap) throw new ModelLensError('too-large', this.file, `field of ${length} bytes exceeds the ${cap}-byte limit`, at);
    return this.readRange(offset, length);
  }

  private async readRange(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.chunkStart && offset + length <= this.chunkStart + this.chunk.length) {
      return this.chunk.subarray(offset - this.chunkStart, offset - this.chunkStart + length);
    }
    return this.src.read(offset, length);
  }

  async skip(wire: number, field = 0): Promise<void> {
    switch (wire) {
      case WIRE_VARINT:
        await this.varint64();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      case WIRE_LEN:
        await this.readSpan();
        return;
      case WIRE_START_GROUP: {
        let depth = 1;
        while (depth > 0) {
          if (depth > MAX_PROTO_DEPTH) throw new ModelLensError('corrupt', this.file, 'groups nested too deeply', this.pos);
          if (this.done()) throw new ModelLensError('truncated', this.file, `group (field ${field}) not closed`, this.pos);
          const t = await this.readTag();
          if (t.wire === WIRE_START_GROUP) depth++;
          else if (t.wire === WIRE_END_GROUP) depth--;
          else await this.skip(t.wire, t.field);
        }
        return;
      }
      default:
        throw new ModelLensError('corrupt', this.file, `unexpected wire type ${wire}`, this.pos);
    }
  }

  private advance(n: number): void {
    if (this.end - this.pos < n) throw new ModelLensError('truncated', this.file, `needs ${n} bytes but ${this.end - this.pos} remain in the message`, this.pos);
    this.pos += n;
  }
}

const textEncoder = new TextEncoder();

/**
 * Builds a message as a list of parts so that large payloads (tensor data) are referenced, not
 * copied, until `finish()` copies everything once into the final buffer.
 */
export class ProtoWriter {
  private parts: Uint8Array[] = [];
  private scratch = new Uint8Array(256);
  private used = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  private ensure(n: number): void {
    if (this.used + n <= this.scratch.length) return;
    this.flush();
    if (n > this.scratch.length) this.scratch = new Uint8Array(Math.max(n, 256));
  }

  private flush(): void {
    if (this.used === 0) return;
    this.parts.push(this.scratch.subarray(0, this.used));
    this.scratch = new Uint8Array(Math.max(256, Math.min(this.scratch.length * 2, 1 << 16)));
    this.used = 0;
  }

  /** Raw varint; negative numbers are written as 10-byte two's complement (int64 semantics). */
  rawVarint(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`varint value ${v} is not a safe integer`);
    this.ensure(10);
    let lo: number;
    let hi: number;
    if (v >= 0) {
      lo = v % TWO_32;
      hi = Math.floor(v / TWO_32);
    } else {
      const m = -v;
      let mlo = m % TWO_32;
      let mhi = Math.floor(m / TWO_32);
      mlo = ~mlo >>> 0;
      mhi = ~mhi >>> 0;
      mlo += 1;
      if (mlo === TWO_32) {
        mlo = 0;
        mhi = (mhi + 1) >>> 0;
      }
      lo = mlo;
      hi = mhi;
    }
    const s = this.scratch;
    const start = this.used;
    while (hi > 0 || lo > 0x7f) {
      s[this.used++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi = hi >>> 7;
    }
    s[this.used++] = lo;
    this.total += this.used - start;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.rawVarint(field * 8 + wire);
  }

  int64(field: number, v: number): this {
    return this.tag(field, WIRE_VARINT).rawVarint(v);
  }

  float(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32);
    this.ensure(4);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 4).setFloat32(0, v, true);
    this.used += 4;
    this.total += 4;
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, WIRE_FIXED64);
    this.ensure(8);
    new DataView(this.scratch.buffer, this.scratch.byteOffset + this.used, 8).setFloat64(0, v, true);
    this.used += 8;
    this.total += 8;
    return this;
  }

  /** A length-delimited field whose payload is referenced (not copied) until `finish()`. */
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN).rawVarint(data.length);
    if (data.length <= 1024) {
      this.ensure(data.length);
      this.scratch.set(data, this.used);
      this.used += data.length;
    } else {
      this.flush();
      this.parts.push(data);
    }
    this.total += data.length;
    return this;
  }

  /** Appends already-encoded fields (copied verbatim from another message) without a tag. */
  raw(data: Uint8Array): this {
    if (data.length <= 1024) {
      this.ensure(data.length);
      this.scratch.set(data, this.used);
      this.used += data.length;
    } else {
      this.flush();
      this.parts.push(data);
    }
    this.total += data.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, textEncoder.encode(s));
  }

  message(field: number, sub: ProtoWriter): this {
    this.tag(field, WIRE_LEN).rawVarint(sub.length);
    if (sub.length <= 1024) {
      const b = sub.finish();
      this.ensure(b.length);
      this.scratch.set(b, this.used);
      this.used += b.length;
      this.total += b.length;
      return this;
    }
    this.flush();
    sub.flush();
    for (const p of sub.parts) this.parts.push(p);
    this.total += sub.length;
    return this;
  }

  packedInt64(field: number, vs: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of vs) w.rawVarint(v);
    return this.bytes(field, w.finish());
  }

  packedFloat(field: number, vs: ArrayLike<number>): this {
    const b = new Uint8Array(vs.length * 4);
    const dv = new DataView(b.buffer);
    for (let i = 0; i < vs.length; i++) dv.setFloat32(i * 4, vs[i]!, true);
    return this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * Per-graph caps on repeated ONNX fields. The largest exported graphs hold tens of thousands of
 * nodes; millions of empty nodes cost only two bytes each in a file but a microsecond or more each
 * to read, so a graph past these counts is refused early as too large.
 */
export const ONNX_GRAPH_LIMITS: OnnxGraphLimits = { nodes: 200_000, initializers: 200_000, valueInfos: 200_000, fields: 1_000_000 };
export interface OnnxGraphLimits {
  nodes: number;
  initializers: number;
  valueInfos: number;
  fields: number;
}
