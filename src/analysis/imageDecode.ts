// Pure-JS image decoding for probe folders: PNG here (node:zlib for inflate), JPEG through jpeg-js.
// Probe folders are user data, so every decoder input is bounds-checked and capped; a bad image becomes a
// ModelLensError that the probe loader turns into a "skipped" warning.
import { inflateSync } from 'node:zlib';
import * as jpeg from 'jpeg-js';
import { ModelLensError } from '../formats/errors';

/** 8-bit RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Largest image we decode (pixels); a probe larger than ~8K×8K is almost certainly not a probe. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIG.every((v, i) => b[i] === v);
}

export function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decodes a PNG or JPEG by its magic bytes (the extension is not trusted). */
export function decodeImage(bytes: Uint8Array, file: string): RgbImage {
  if (isPng(bytes)) return decodePng(bytes, file);
  if (isJpeg(bytes)) return decodeJpeg(bytes, file);
  throw new ModelLensError('unknown-format', file, 'not a PNG or JPEG image', 0);
}

export function decodeJpeg(bytes: Uint8Array, file: string): RgbImage {
  let out: { width: number; height: number; data: Uint8Array };
  try {
    out = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: MAX_IMAGE_PIXELS / (1024 * 1024),
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new ModelLensError('corrupt', file, `JPEG: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (out.width * out.height * 3 !== out.data.length) {
    throw new ModelLensError('corrupt', file, 'JPEG decoder returned an unexpected pixel buffer');
  }
  return { width: out.width, height: out.height, data: out.data };
}

const readU32 = (b: Uint8Array, o: number): number => (((b[o] as number) << 24) >>> 0) + ((b[o + 1] as number) << 16) + ((b[o + 2] as number) << 8) + (b[o + 3] as number);

// Adam7 passes: x0, y0, dx, dy.
const ADAM7: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2],
];

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const ALLOWED_DEPTHS: Readonly<Record<number, readonly number[]>> = {
  0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16],
};

export function decodePng(bytes: Uint8Array, file: string): RgbImage {
  if (!isPng(bytes)) throw new ModelLensError('unknown-format', file, 'not a PNG (bad signature)', 0);
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  let sawEnd = false;
  while (pos < bytes.length) {
    if (pos + 8 > bytes.length) throw new ModelLensError('truncated', file, 'PNG chunk header cut off', pos);
    const len = readU32(bytes, pos);
    // Chunk types are four ASCII letters; anything else is shown as '?' so messages stay printable.
    const type = Array.from(bytes.subarray(pos + 4, pos + 8), (c) => ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? String.fromCharCode(c) : '?')).join('');
    const start = pos + 8;
    if (len > bytes.length - start - 4) throw new ModelLensError('truncated', file, `PNG chunk ${type} claims ${len} bytes, past the end of the file`, pos);
    const body = bytes.subarray(start, start + len);
    if (type === 'IHDR') {
      if (len !== 13) throw new ModelLensError('corrupt', file, `PNG IHDR has length ${len}, expected 13`, pos);
      width = readU32(body, 0);
      height = readU32(body, 4);
      depth = body[8] as number;
      colorType = body[9] as number;
      interlace = body[12] as number;
      if (width === 0 || height === 0) throw new ModelLensError('corrupt', file, 'PNG has zero width or height', pos);
      if (width * height > MAX_IMAGE_PIXELS) {
        throw new ModelLensError('too-large', file, `PNG is ${width}x${height}, over the ${MAX_IMAGE_PIXELS}-pixel cap for probe images`, pos);
      }
      if (!(colorType in CHANNELS) || !(ALLOWED_DEPTHS[colorType] ?? []).includes(depth)) {
        throw new ModelLensError('unsupported', file, `PNG color type ${colorType} with bit depth ${depth} is not valid`, pos);
      }
      if (body[10] !== 0 || body[11] !== 0 || interlace > 1) throw new ModelLensError('unsupported', file, 'PNG uses an unknown compression/filter/interlace method', pos);
    } else if (type === 'PLTE') {
      if (len % 3 !== 0 || len === 0 || len > 768) throw new ModelLensError('corrupt', file, `PNG palette has invalid length ${len}`, pos);
      palette = body;
    } else if (type === 'IDAT') {
      if (width === 0) throw new ModelLensError('corrupt', file, 'PNG IDAT before IHDR', pos);
      idat.push(body);
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos = start + len + 4; // skip CRC
  }
  if (width === 0) throw new ModelLensError('corrupt', file, 'PNG has no IHDR', 8);
  if (idat.length === 0) throw new ModelLensError('truncated', file, 'PNG has no image data', pos);
  if (colorType === 3 && !palette) throw new ModelLensError('corrupt', file, 'palette PNG without PLTE', pos);
  void sawEnd; // a missing IEND is tolerated when the image data is complete, as most decoders do

  const channels = CHANNELS[colorType] as number;
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const passes = interlace === 1 ? ADAM7 : [[0, 0, 1, 1] as const];
  const passDims = passes.map(([x0, y0, dx, dy]) => {
    const w = width > x0 ? Math.ceil((width - x0) / dx) : 0;
    const h = height > y0 ? Math.ceil((height - y0) / dy) : 0;
    return { w, h, stride: Math.ceil((w * bitsPerPixel) / 8) };
  });
  const expected = passDims.reduce((s, p) => s + (p.w > 0 && p.h > 0 ? p.h * (p.stride + 1) : 0), 0);
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (e) {
    throw new ModelLensError('corrupt', file, `PNG image data does not inflate: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (raw.length < expected) throw new ModelLensError('truncated', file, `PNG image data has ${raw.length} bytes, expected ${expected}`);

  const out = new Uint8Array(width * height * 3);
  let off = 0;
  passes.forEach(([x0, y0, dx, dy], p) => {
    const { w, h, stride } = passDims[p] as { w: number; h: number; stride: number };
    if (w === 0 || h === 0) return;
    let prev: Uint8Array = new Uint8Array(stride);
    for (let y = 0; y < h; y++) {
      const filter = raw[off] as number;
      const line = new Uint8Array(raw.buffer, raw.byteOffset + off + 1, stride);
      unfilter(filter, line, prev, bpp, file);
      off += stride + 1;
      for (let x = 0; x < w; x++) {
        writePixel(out, ((y0 + y * dy) * width + x0 + x * dx) * 3, line, x, colorType, depth, palette, file);
      }
      prev = line;
    }
  });
  return { width, height, data: out };
}

function unfilter(filter: number, line: Uint8Array, prev: Uint8Array, bpp: number, file: string): void {
  const n = line.length;
  switch (filter) {
    case 0:
      return;
    case 1:
      for (let i = bpp; i < n; i++) line[i] = ((line[i] as number) + (line[i - bpp] as number)) & 255;
      return;
    case 2:
      for (let i = 0; i < n; i++) line[i] = ((line[i] as number) + (prev[i] as number)) & 255;
      return;
    case 3:
      for (let i = 0; i < n; i++) {
        const left = i >= bpp ? (line[i - bpp] as number) : 0;
        line[i] = ((line[i] as number) + ((left + (prev[i] as number)) >> 1)) & 255;
      }
      return;
    case 4:
      for (let i = 0; i < n; i++) {
        const a = i >= bpp ? (line[i - bpp] as number) : 0;
        const b = prev[i] as number;
        const c = i >= bpp ? (prev[i - bpp] as number) : 0;
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        const pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        line[i] = ((line[i] as number) + pred) & 255;
      }
      return;
    default:
      throw new ModelLensError('corrupt', file, `PNG row uses unknown filter type ${filter}`);
  }
}

/** Sample `index` (in units of channel values) of a packed row, scaled to 0..255 the way PIL's RGB conversion does. */
function sample(line: Uint8Array, index: number, depth: number, scale: boolean): number {
  if (depth === 8) return line[index] as number;
  if (depth === 16) return line[index * 2] as number; // high byte, as PIL's 16→8-bit conversion
  const perByte = 8 / depth;
  const byte = line[Math.floor(index / perByte)] as number;
  const shift = 8 - depth * ((index % perByte) + 1);
  const v = (byte >> shift) & ((1 << depth) - 1);
  return scale ? Math.round((v * 255) / ((1 << depth) - 1)) : v;
}

function writePixel(out: Uint8Array, o: number, line: Uint8Array, x: number, colorType: number, depth: number, palette: Uint8Array | undefined, file: string): void {
  switch (colorType) {
    case 0: {
      const g = sample(line, x, depth, true);
      out[o] = g; out[o + 1] = g; out[o + 2] = g;
      return;
    }
    case 2:
      out[o] = sample(line, x * 3, depth, false); out[o + 1] = sample(line, x * 3 + 1, depth, false); out[o + 2] = sample(line, x * 3 + 2, depth, false);
      return;
    case 3: {
      const idx = sample(line, x, depth, false);
      const pal = palette as Uint8Array;
      if (idx * 3 + 2 >= pal.length) throw new ModelLensError('corrupt', file, `PNG palette index ${idx} out of range`);
      out[o] = pal[idx * 3] as number; out[o + 1] = pal[idx * 3 + 1] as number; out[o + 2] = pal[idx * 3 + 2] as number;
      return;
    }
    case 4: {
      // Alpha is dropped, not composited: the same as PIL's convert('RGB').
      const g = sample(line, x * 2, depth, false);
      out[o] = g; out[o + 1] = g; out[o + 2] = g;
      return;
    }
    default:
      out[o] = sample(line, x * 4, depth, false); out[o + 1] = sample(line, x * 4 + 1, depth, false); out[o + 2] = sample(line, x * 4 + 2, depth, false);
  }
}
