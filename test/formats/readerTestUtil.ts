// Shared helpers for the reader tests: fixture paths, expected values, and a ByteSource that counts
// what the readers actually read.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as zlib from 'node:zlib';
import type { ByteSource } from '../../src/formats/byteSource';

/** Repository root (tests run bundled from out/test/core). */
export const ROOT = resolve(__dirname, '..', '..', '..');
export const READERS = resolve(ROOT, 'test', 'fixtures', 'readers');
export const BAD = resolve(ROOT, 'test', 'fixtures', 'bad');

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: Array<number | string>;
  strided: boolean;
}
export interface ExpectedFile {
  format: string;
  tensors: Record<string, ExpectedTensor>;
  selectedVariant?: string;
  variants?: string[];
  emaTensors?: Record<string, ExpectedTensor>;
  config?: Record<string, unknown>;
  extras?: Record<string, string>;
  metadata?: Record<string, string>;
  strippedPrefix?: string;
}
export interface ExpectedReaders {
  files: Record<string, ExpectedFile>;
  pickleValue: Record<string, unknown>;
}

export function expectedReaders(): ExpectedReaders {
  return JSON.parse(readFileSync(resolve(READERS, 'expected.json'), 'utf8')) as ExpectedReaders;
}

/** JSON-safe expected values back to numbers. */
export function num(v: number | string): number {
  if (typeof v === 'number') return v;
  return v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v);
}

/** Wraps a source and records every read. */
export class CountingSource implements ByteSource {
  bytesRead = 0;
  reads = 0;
  constructor(private readonly inner: ByteSource) {}
  get path(): string {
    return this.inner.path;
  }
  get size(): number {
    return this.inner.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    this.bytesRead += length;
    return this.inner.read(offset, length);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export const crc32 = (d: Uint8Array): number => (zlib as unknown as { crc32: (d: Uint8Array) => number }).crc32(d) >>> 0;
export const latin = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export interface Ent {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  flags?: number;
  badCrc?: boolean;
}

/** A minimal zip writer for tests (independent of the reader). */
export function buildZip(entries: Ent[], opts: { comment?: string; prefixJunk?: number } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let off = 0;
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    const body = e.method === 8 ? new Uint8Array(zlib.deflateRawSync(e.data)) : e.data;
    const crc = e.badCrc ? (crc32(e.data) ^ 1) >>> 0 : crc32(e.data);
    const loc = new Uint8Array(30 + name.length);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, e.flags ?? 0, true);
    lv.setUint16(8, e.method ?? 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    loc.set(name, 30);
    const cen = new Uint8Array(46 + name.length);
    const cv = new DataView(cen.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, e.flags ?? 0, true);
    cv.setUint16(10, e.method ?? 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, off, true);
    cen.set(name, 46);
    parts.push(loc, body);
    central.push(cen);
    off += loc.length + body.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const comment = latin(opts.comment ?? '');
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, off, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  return Buffer.concat([...parts, ...central, eocd]);
}

