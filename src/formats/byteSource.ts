// Readers never load a whole checkpoint: they pull byte ranges through this interface.
import { closeSync, constants as fsConstants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { ModelLensError } from './errors';

// Opening a FIFO for reading blocks until a writer appears (and ties up one of Node's I/O threads);
// opening a device can have side effects. Paths are stat'ed (links followed) before they are opened,
// and opened non-blocking so that a path swapped for a pipe in between still cannot hang.
const O_NONBLOCK = (fsConstants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0;
const OPEN_FLAGS = fsConstants.O_RDONLY | O_NONBLOCK;

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function notRegular(path: string, st: Stats): ModelLensError {
  return new ModelLensError('io', path, `is ${kindOf(st)}, not a regular file; only regular files are read`);
}

function openError(path: string, e: unknown): ModelLensError {
  const code = (e as NodeJS.ErrnoException).code;
  return new ModelLensError(code === 'ENOENT' ? 'not-found' : 'io', path, code === 'ENOENT' ? 'file not found' : `cannot open: ${code ?? String(e)}`);
}

/** Throws a typed error unless `path` (after following links) is a regular file; returns its stats. */
export async function assertRegularFile(path: string): Promise<Stats> {
  let st: Stats;
  try {
    st = await stat(path);
  } catch (e) {
    throw openError(path, e);
  }
  if (!st.isFile()) throw notRegular(path, st);
  return st;
}

/** Reads a whole regular file of at most `maxBytes` synchronously; pipes, devices and sockets are refused unopened. */
export function readRegularFileSync(path: string, maxBytes: number): Uint8Array {
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw notRegular(path, st);
    fd = openSync(path, OPEN_FLAGS);
  } catch (e) {
    throw e instanceof ModelLensError ? e : openError(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw notRegular(path, st);
    if (st.size > maxBytes) throw new ModelLensError('too-large', path, `is ${st.size} bytes, over the ${maxBytes}-byte cap`);
    const buf = new Uint8Array(st.size);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, done);
      if (n === 0) throw new ModelLensError('truncated', path, `file shrank while reading (${done} of ${buf.length} bytes)`, done);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

export interface ByteSource {
  /** Path (or label) used in error messages. */
  readonly path: string;
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`; throws `truncated` if they do not exist. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Largest single read any reader may request; bigger spans must be streamed in chunks. */
export const MAX_SINGLE_READ = 1 << 30;

export class FileByteSource implements ByteSource {
  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<FileByteSource> {
    await assertRegularFile(path);
    let handle: FileHandle;
    try {
      handle = await open(path, OPEN_FLAGS);
    } catch (e) {
      throw openError(path, e);
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw notRegular(path, st);
    }
    return new FileByteSource(path, st.size, handle);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new ModelLensError('truncated', this.path, `file ended while reading ${length} bytes`, offset + done);
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

export class MemoryByteSource implements ByteSource {
  readonly size: number;
  constructor(
    readonly path: string,
    private readonly data: Uint8Array,
  ) {
    this.size = data.byteLength;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return this.data.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new ModelLensError('corrupt', src.path, `invalid byte range (offset ${offset}, length ${length})`);
  }
  if (length > MAX_SINGLE_READ) throw new ModelLensError('too-large', src.path, `refusing a single read of ${length} bytes`, offset);
  if (offset + length > src.size) {
    throw new ModelLensError('truncated', src.path, `needs bytes ${offset}..${offset + length} but the file has ${src.size}`, offset);
  }
}
