// Shared helpers for the reader tests: fixture paths, expected values, and a ByteSource that counts
// what the readers actually read.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ByteSource } from '../../src/core/byteSource';

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
