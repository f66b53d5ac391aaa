// Serves many small reads at increasing offsets (legacy-format storage headers) from one larger
// read-ahead window, so thousands of tiny storages cost a few reads instead of thousands. After a
// long jump (a large storage in between) it reads just what was asked, not tensor bytes.
import type { ByteSource } from './byteSource';

export class WindowReader {
  private window: Uint8Array = new Uint8Array(0);
  private start = 0;
  private lastEnd = 0;
  constructor(
    private readonly src: ByteSource,
    private readonly windowBytes = 64 * 1024,
  ) {}

  /** Exactly `length` bytes at `offset` (the ByteSource's own errors apply past the end). */
  async read(offset: number, length: number): Promise<Uint8Array> {
    const jumped = offset - this.lastEnd > this.windowBytes / 4;
    this.lastEnd = offset + length;
    if (offset >= this.start && offset + length <= this.start + this.window.length) {
      return this.window.subarray(offset - this.start, offset - this.start + length);
    }
    if (jumped || length >= this.windowBytes || offset + length > this.src.size) return this.src.read(offset, length);
    const len = Math.max(length, Math.min(this.windowBytes, this.src.size - offset));
    this.window = await this.src.read(offset, len);
    this.start = offset;
    return this.window.subarray(0, length);
  }
}
