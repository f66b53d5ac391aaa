// A minimal zip reader for the VSIX checks (a VSIX is a zip): lists the central directory and
// extracts stored/deflated entries. Enough for what vsce writes; no zip64 (a VSIX is far below 4 GB).
import { closeSync, mkdirSync, openSync, readSync, fstatSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** One central-directory record. */
export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = readSync(fd, b, 0, length, offset);
  if (n !== length) throw new Error(`zip: short read at ${offset}`);
  return b;
}

/** Lists the entries of the zip at `file` from its central directory. */
export function listZip(file: string): ZipEntry[] {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 65_557);
    const tail = readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new Error(`zip: ${file} has no end-of-central-directory record`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    const cd = readAt(fd, cdOffset, cdSize);
    const out: ZipEntry[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error(`zip: bad central directory record ${i}`);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      out.push({
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localHeaderOffset: cd.readUInt32LE(p + 42),
        name: cd.toString('utf8', p + 46, p + 46 + nameLen),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Extracts every file entry of the zip under `destDir` (refusing names that escape it). */
export function extractZip(file: string, destDir: string): void {
  const entries = listZip(file);
  const root = resolve(destDir);
  const fd = openSync(file, 'r');
  try {
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      const target = resolve(root, e.name);
      if (!target.startsWith(root + sep)) throw new Error(`zip: entry ${e.name} escapes ${destDir}`);
      const lh = readAt(fd, e.localHeaderOffset, 30);
      if (lh.readUInt32LE(0) !== 0x04034b50) throw new Error(`zip: bad local header for ${e.name}`);
      const dataStart = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      const raw = e.compressedSize > 0 ? readAt(fd, dataStart, e.compressedSize) : Buffer.alloc(0);
      let data: Buffer;
      if (e.method === 0) data = raw;
      else if (e.method === 8) data = inflateRawSync(raw);
      else throw new Error(`zip: ${e.name} uses compression method ${e.method}`);
      if (data.length !== e.size) throw new Error(`zip: ${e.name} inflated to ${data.length} bytes, expected ${e.size}`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(join(target), data);
    }
  } finally {
    closeSync(fd);
  }
}
