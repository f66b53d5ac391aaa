// A read-only zip reader over a ByteSource: finds the central directory from the end (zip64-aware),
// lists entries, and reads small entries (stored, or deflated through node:zlib). Tensor data in
// torch.save archives is stored uncompressed, so callers address it by absolute file offset.
import { inflateRawSync } from 'node:zlib';
import * as zlib from 'node:zlib';
import type { ByteSource } from './byteSource';
import { ModelLensError } from './errors';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  flags: number;
  /** Offset of the local file header. */
  localHeaderOffset: number;
  /** Offset of the entry's central directory record (for error messages). */
  centralOffset: number;
}

export interface ZipArchive {
  source: ByteSource;
  entries: Map<string, ZipEntry>;
  /** Start of the central directory; entry data must end before it. */
  centralDirOffset: number;
  zip64: boolean;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const MAX_COMMENT = 0xffff;
const MAX_CENTRAL_DIR = 256 * 1024 * 1024;
const MAX_ENTRIES = 2_000_000;

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
}
function u64(b: Uint8Array, o: number): number {
  const v = u32(b, o) + u32(b, o + 4) * 0x100000000;
  // Beyond 2^53 no real file exists; report it as a bad value rather than lose precision silently.
  return u32(b, o + 4) >= 0x200000 ? Number.MAX_SAFE_INTEGER + 1 : v;
}

/** True when the first bytes look like a zip (local header or empty-archive end record). */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6));
}

/** Reads the central directory. Throws ModelLensError (file, offset, problem) on any inconsistency. */
export async function openZip(src: ByteSource): Promise<ZipArchive> {
  const file = src.path;
  if (src.size < 22) throw new ModelLensError('truncated', file, `zip needs at least 22 bytes, file has ${src.size}`, 0);
  const tailLen = Math.min(src.size, 22 + MAX_COMMENT);
  const tailStart = src.size - tailLen;
  const tail = await src.read(tailStart, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === EOCD_SIG) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new ModelLensError('truncated', file, 'no zip end-of-central-directory record in the last 64 KiB (truncated or not a zip)', tailStart);
  }
  const eocdAbs = tailStart + eocd;
  const commentLen = u16(tail, eocd + 20);
  const endOfRecord = eocdAbs + 22 + commentLen;
  if (endOfRecord > src.size) {
    throw new ModelLensError('truncated', file, `zip end record's comment runs ${endOfRecord - src.size} bytes past the end of the file`, eocdAbs);
  }
  if (endOfRecord < src.size) {
    throw new ModelLensError('corrupt', file, `${src.size - endOfRecord} unexpected bytes after the zip end record`, endOfRecord);
  }
  const disk = u16(tail, eocd + 4);
  const cdDisk = u16(tail, eocd + 6);
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  let zip64 = false;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || disk === 0xffff) {
    const locAt = eocdAbs - 20;
    if (locAt < 0) throw new ModelLensError('corrupt', file, 'zip64 markers without a zip64 locator', eocdAbs);
    const loc = await src.read(locAt, 20);
    if (u32(loc, 0) !== EOCD64_LOCATOR_SIG) throw new ModelLensError('corrupt', file, 'zip64 markers without a zip64 locator', locAt);
    const recAt = u64(loc, 8);
    if (recAt + 56 > locAt) throw new ModelLensError('corrupt', file, `zip64 end record offset ${recAt} is out of bounds`, locAt + 8);
    const rec = await src.read(recAt, 56);
    if (u32(rec, 0) !== EOCD64_SIG) throw new ModelLensError('corrupt', file, 'bad zip64 end record signature', recAt);
    count = u64(rec, 32);
    cdSize = u64(rec, 40);
    cdOffset = u64(rec, 48);
    zip64 = true;
  } else if (disk !== 0 || cdDisk !== 0) {
    throw new ModelLensError('unsupported', file, 'multi-disk (split) zip archives are not supported', eocdAbs);
  }
  const cdLimit = zip64 ? eocdAbs - 20 - 56 : eocdAbs;
  if (!Number.isSafeInteger(cdOffset + cdSize) || cdOffset + cdSize > cdLimit) {
    throw new ModelLensError('truncated', file, `central directory (offset ${cdOffset}, ${cdSize} bytes) extends past the end record at ${cdLimit}`, eocdAbs);
  }
  if (cdSize > MAX_CENTRAL_DIR) throw new ModelLensError('too-large', file, `central directory of ${cdSize} bytes`, cdOffset);
  if (count > MAX_ENTRIES) throw new ModelLensError('too-large', file, `zip claims ${count} entries`, eocdAbs);
  if (count * 46 > cdSize) throw new ModelLensError('corrupt', file, `zip claims ${count} entries but the central directory has ${cdSize} bytes`, eocdAbs);
  const cd = await src.read(cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  const nameDecoder = new TextDecoder('utf-8');
  let p = 0;
  for (let i = 0; i < count; i++) {
    const at = cdOffset + p;
    if (p + 46 > cd.length) throw new ModelLensError('truncated', file, `central directory ends inside record ${i} of ${count}`, at);
    if (u32(cd, p) !== CEN_SIG) throw new ModelLensError('corrupt', file, `bad central directory signature for record ${i}`, at);
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let csize = u32(cd, p + 20);
    let usize = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen2 = u16(cd, p + 32);
    let lho = u32(cd, p + 42);
    const recLen = 46 + nameLen + extraLen + commentLen2;
    if (p + recLen > cd.length) throw new ModelLensError('truncated', file, `central directory ends inside record ${i} of ${count}`, at);
    const name = nameDecoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // zip64 extended information: only the fields that are saturated in the fixed record are present.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = u16(cd, e);
      const len = u16(cd, e + 2);
      if (e + 4 + len > extraEnd) throw new ModelLensError('corrupt', file, `extra field of "${name}" overruns its record`, cdOffset + e);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new ModelLensError('corrupt', file, `zip64 extra field of "${name}" is too short`, cdOffset + e);
          const v = u64(cd, q);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (csize === 0xffffffff) csize = take();
        if (lho === 0xffffffff) lho = take();
      }
      e += 4 + len;
    }
    if (flags & 1) throw new ModelLensError('unsupported', file, `zip entry "${name}" is encrypted`, at);
    if (!Number.isSafeInteger(lho + csize) || lho + 30 + csize > cdOffset) {
      throw new ModelLensError('corrupt', file, `zip entry "${name}" (${csize} bytes at ${lho}) overlaps the central directory or the end of the file`, at);
    }
    if (entries.has(name)) throw new ModelLensError('corrupt', file, `duplicate zip entry "${name}"`, at);
    entries.set(name, { name, method, compressedSize: csize, uncompressedSize: usize, crc32: crc, flags, localHeaderOffset: lho, centralOffset: at });
    p += recLen;
  }
  return { source: src, entries, centralDirOffset: cdOffset, zip64 };
}

/**
 * Absolute offset of an entry's first data byte, read from its local header (whose extra field may
 * differ from the central one: torch pads it to align tensor data).
 */
export async function entryDataOffset(zip: ZipArchive, entry: ZipEntry, prefetched?: Uint8Array): Promise<number> {
  const src = zip.source;
  const loc = prefetched ?? (await src.read(entry.localHeaderOffset, 30));
  if (u32(loc, 0) !== LOC_SIG) throw new ModelLensError('corrupt', src.path, `bad local header signature for "${entry.name}"`, entry.localHeaderOffset);
  const start = entry.localHeaderOffset + 30 + u16(loc, 26) + u16(loc, 28);
  if (start + entry.compressedSize > zip.centralDirOffset) {
    throw new ModelLensError('corrupt', src.path, `data of "${entry.name}" runs into the central directory`, entry.localHeaderOffset);
  }
  return start;
}

/** Reads a whole entry (for small records such as data.pkl), verifying size and CRC. */
export async function readEntry(zip: ZipArchive, entry: ZipEntry, maxBytes: number): Promise<{ data: Uint8Array; offset: number }> {
  const src = zip.source;
  if (entry.uncompressedSize > maxBytes || entry.compressedSize > maxBytes) {
    throw new ModelLensError('too-large', src.path, `zip entry "${entry.name}" has ${entry.uncompressedSize} bytes (limit ${maxBytes})`, entry.centralOffset);
  }
  const start = await entryDataOffset(zip, entry);
  const raw = await src.read(start, entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.uncompressedSize) {
      throw new ModelLensError('corrupt', src.path, `stored entry "${entry.name}" has different compressed/uncompressed sizes`, entry.centralOffset);
    }
    data = raw;
  } else if (entry.method === 8) {
    try {
      // One output chunk one byte larger than the declared size: the result is that chunk itself,
      // not a concatenation of many (which would hold the inflated bytes twice at the peak), and a
      // stream that inflates to more than declared stops at the limit.
      const size = Math.max(1, entry.uncompressedSize);
      data = inflateRawSync(raw, { maxOutputLength: size, chunkSize: Math.max(64, size + 1) });
    } catch (e) {
      throw new ModelLensError('corrupt', src.path, `cannot inflate "${entry.name}": ${(e as Error).message}`, start);
    }
    if (data.length !== entry.uncompressedSize) {
      throw new ModelLensError('corrupt', src.path, `"${entry.name}" inflates to ${data.length} bytes, directory says ${entry.uncompressedSize}`, start);
    }
  } else {
    throw new ModelLensError('unsupported', src.path, `zip entry "${entry.name}" uses compression method ${entry.method}`, entry.centralOffset);
  }
  const crcFn = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (typeof crcFn === 'function' && crcFn(data) >>> 0 !== entry.crc32 >>> 0) {
    throw new ModelLensError('corrupt', src.path, `CRC mismatch in "${entry.name}"`, start);
  }
  return { data, offset: start };
}

/**
 * Data offsets of many entries with few reads: local headers lying within `gap` bytes of each other
 * are fetched by one read (thousands of tiny tensors), distant ones by a 30-byte read each.
 */
export async function entryDataOffsets(zip: ZipArchive, entries: ZipEntry[], gap = 64 * 1024): Promise<Map<string, number>> {
  const sorted = [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset);
  const out = new Map<string, number>();
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i]!.localHeaderOffset;
    let j = i + 1;
    while (j < sorted.length && sorted[j]!.localHeaderOffset + 30 - first <= gap) j++;
    const end = Math.min(sorted[j - 1]!.localHeaderOffset + 30, zip.source.size);
    const block = await zip.source.read(first, end - first);
    for (let k = i; k < j; k++) {
      const e = sorted[k]!;
      const at = e.localHeaderOffset - first;
      out.set(e.name, await entryDataOffset(zip, e, at + 30 <= block.length ? block.subarray(at, at + 30) : undefined));
    }
    i = j;
  }
  return out;
}
