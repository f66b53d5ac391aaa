// Readers never load a whole checkpoint: they pull byte ranges through this interface.
import { open, type FileHandle } from 'node:fs/promises';
import { ModelLensError } from './errors';

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
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelLensError(code === 'ENOENT' ? 'not-found' : 'io', path, code === 'ENOENT' ? 'file not found' : `cannot open: ${code ?? String(e)}`);
    }
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw new ModelLensError('io', path, 'not a regular file');
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
