// Reads tensor values by ranged, chunked reads and converts any supported dtype to float32/float64.
// Handles strided (non-contiguous) views. Statistics stream over the data with bounded memory and
// float64 accumulation.
import { FileByteSource, type ByteSource } from './byteSource';
import { ModelLensError } from './errors';
import { DTYPE_BYTES, type DType, type TensorInfo } from './checkpoint';

/** Bytes per ranged read while streaming. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Largest tensor readTensorF32 will materialise (1 GiB of float32). */
export const MAX_F32_ELEMENTS = 256 * 1024 * 1024;
/** Most elements any tensor may stream (stats). */
export const MAX_STREAM_ELEMENTS = 2 ** 32;
/** A strided view whose span is at most this is read in one go and gathered in memory. */
const MAX_GATHER_SPAN = 256 * 1024 * 1024;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;
function halfTable(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const f = h & 0x3ff;
    t[h] = e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
  }
  return (f16Table = t);
}

let e4m3Table: Float32Array | undefined;
let e5m2Table: Float32Array | undefined;
/** float8_e4m3fn: bias 7, no infinities, S.1111.111 is NaN (max finite 448). */
function e4m3(): Float32Array {
  if (e4m3Table) return e4m3Table;
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const s = b & 0x80 ? -1 : 1;
    const e = (b >> 3) & 0xf;
    const m = b & 7;
    t[b] = e === 15 && m === 7 ? NaN : e === 0 ? s * (m / 8) * 2 ** -6 : s * (1 + m / 8) * 2 ** (e - 7);
  }
  return (e4m3Table = t);
}
/** float8_e5m2: the top byte of an IEEE half. */
function e5m2(): Float32Array {
  if (e5m2Table) return e5m2Table;
  const h = halfTable();
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = h[b << 8]!;
  return (e5m2Table = t);
}

/**
 * Decodes `count` little-endian elements of `dtype` from `bytes` at element index `from` into `out` at `at`.
 * I64 values beyond 2^53 lose precision (as any float conversion would).
 */
export function decodeInto(dtype: DType, bytes: Uint8Array, from: number, count: number, out: Float32Array | Float64Array, at: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const es = DTYPE_BYTES[dtype];
  let o = from * es;
  switch (dtype) {
    case 'F32':
      if ((bytes.byteOffset + o) % 4 === 0 && LITTLE_ENDIAN) {
        out.set(new Float32Array(bytes.buffer, bytes.byteOffset + o, count), at);
        return;
      }
      for (let i = 0; i < count; i++, o += 4) out[at + i] = dv.getFloat32(o, true);
      return;
    case 'F64':
      for (let i = 0; i < count; i++, o += 8) out[at + i] = dv.getFloat64(o, true);
      return;
    case 'F16': {
      const t = halfTable();
      for (let i = 0; i < count; i++, o += 2) out[at + i] = t[dv.getUint16(o, true)]!;
      return;
    }
    case 'BF16': {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < count; i++, o += 2) {
        u[0] = (bytes[o]! | (bytes[o + 1]! << 8)) << 16;
        out[at + i] = f[0]!;
      }
      return;
    }
    case 'F8_E4M3': {
      const t = e4m3();
      for (let i = 0; i < count; i++) out[at + i] = t[bytes[o + i]!]!;
      return;
    }
    case 'F8_E5M2': {
      const t = e5m2();
      for (let i = 0; i < count; i++) out[at + i] = t[bytes[o + i]!]!;
      return;
    }
    case 'I64':
      for (let i = 0; i < count; i++, o += 8) out[at + i] = Number(dv.getBigInt64(o, true));
      return;
    case 'I32':
      for (let i = 0; i < count; i++, o += 4) out[at + i] = dv.getInt32(o, true);
      return;
    case 'I16':
      for (let i = 0; i < count; i++, o += 2) out[at + i] = dv.getInt16(o, true);
      return;
    case 'I8':
      for (let i = 0; i < count; i++) out[at + i] = dv.getInt8(o + i);
      return;
    case 'U8':
      for (let i = 0; i < count; i++) out[at + i] = bytes[o + i]!;
      return;
    case 'BOOL':
      for (let i = 0; i < count; i++) out[at + i] = bytes[o + i]! !== 0 ? 1 : 0;
      return;
  }
}

function numelOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isContiguous(t: TensorInfo): boolean {
  if (!t.strides) return true;
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.strides[i] !== expect) return false;
    expect *= t.shape[i]!;
  }
  return true;
}

export interface ReadOptions {
  /** Read through this source instead of opening `t.location.file` (it is not closed). */
  source?: ByteSource;
  /** Bytes per ranged read (default CHUNK_BYTES). */
  chunkBytes?: number;
  /** Strided views spanning at most this many bytes are read whole and gathered (default 256 MiB). */
  gatherSpanBytes?: number;
}

/**
 * Visits the tensor's elements in logical (row-major) order in blocks: `sink(values, count)` gets a
 * Float64Array whose first `count` entries are the next elements. Memory stays within a few chunks.
 */
export async function streamTensor(
  t: TensorInfo,
  sink: (values: Float64Array, count: number) => void,
  opts: ReadOptions = {},
): Promise<void> {
  const numel = numelOf(t.shape);
  const es = DTYPE_BYTES[t.dtype];
  // Stride-0 (expanded) views can claim vastly more elements than bytes; refuse absurd ones instead of
  // streaming for hours.
  const spanElems = Math.max(1, t.location.length / es);
  if (!Number.isSafeInteger(numel) || numel > MAX_STREAM_ELEMENTS || (numel > 1 << 28 && numel > 1024 * spanElems)) {
    throw new ModelLensError('too-large', t.location.file, `tensor "${t.name}" has ${numel} elements over ${t.location.length} bytes; refusing to stream it`, t.location.offset);
  }
  if (numel === 0) return;
  const chunk = Math.max(es, Math.floor((opts.chunkBytes ?? CHUNK_BYTES) / es) * es);
  const src = opts.source ?? (await FileByteSource.open(t.location.file));
  try {
    if (isContiguous(t)) {
      const total = numel * es;
      if (total > t.location.length) {
        throw new ModelLensError('corrupt', t.location.file, `tensor "${t.name}" needs ${total} bytes but spans ${t.location.length}`, t.location.offset);
      }
      const buf = new Float64Array(Math.min(chunk, total) / es);
      for (let done = 0; done < total; done += chunk) {
        const len = Math.min(chunk, total - done);
        const bytes = await src.read(t.location.offset + done, len);
        decodeInto(t.dtype, bytes, 0, len / es, buf, 0);
        sink(buf, len / es);
      }
      return;
    }
    await streamStrided(t, src, sink, chunk, opts.gatherSpanBytes ?? MAX_GATHER_SPAN);
  } finally {
    if (!opts.source) await src.close();
  }
}

async function streamStrided(t: TensorInfo, src: ByteSource, sink: (v: Float64Array, n: number) => void, chunk: number, gatherSpan: number): Promise<void> {
  const es = DTYPE_BYTES[t.dtype];
  const shape = t.shape;
  const strides = t.strides!;
  const nd = shape.length;
  // Check that the farthest element lies inside the recorded span (the reader validated it too).
  let last = 0;
  for (let i = 0; i < nd; i++) last += (shape[i]! - 1) * strides[i]!;
  if ((last + 1) * es > t.location.length) {
    throw new ModelLensError('corrupt', t.location.file, `strided tensor "${t.name}" reaches past its span`, t.location.offset);
  }
  const span = t.location.length;
  let window: Uint8Array | undefined;
  let wStart = 0;
  if (span <= gatherSpan) {
    window = await readSpan(src, t.location.offset, span, chunk);
    wStart = 0;
  }
  const getWindow = async (elemOffset: number): Promise<void> => {
    const byte = elemOffset * es;
    if (window && byte >= wStart && byte + es <= wStart + window.length) return;
    const len = Math.min(chunk, span - byte);
    window = await src.read(t.location.offset + byte, len);
    wStart = byte;
  };
  const outBuf = new Float64Array(Math.max(1, Math.min(chunk / es, numelOf(shape))));
  let outN = 0;
  const idx = new Array<number>(nd).fill(0);
  const inner = shape[nd - 1]!;
  const innerStride = strides[nd - 1]!;
  const total = numelOf(shape);
  let base = 0;
  for (let done = 0; done < total; ) {
    for (let j = 0; j < inner; j++) {
      const e = base + j * innerStride;
      const eb = e * es;
      if (!window || eb < wStart || eb + es > wStart + window.length) await getWindow(e);
      decodeInto(t.dtype, window!, (e * es - wStart) / es, 1, outBuf, outN++);
      if (outN === outBuf.length) {
        sink(outBuf, outN);
        outN = 0;
      }
    }
    done += inner;
    // Advance the outer multi-index.
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= idx[d]! * strides[d]!;
      idx[d] = 0;
    }
  }
  if (outN > 0) sink(outBuf, outN);
}

async function readSpan(src: ByteSource, offset: number, len: number, chunk: number): Promise<Uint8Array> {
  const out = new Uint8Array(len);
  for (let done = 0; done < len; done += chunk) {
    const n = Math.min(chunk, len - done);
    out.set(await src.read(offset + done, n), done);
  }
  return out;
}

/** All elements as float32 in logical row-major order. */
export async function readTensorF32(t: TensorInfo, opts: ReadOptions = {}): Promise<Float32Array> {
  const numel = numelOf(t.shape);
  if (!Number.isSafeInteger(numel) || numel > MAX_F32_ELEMENTS) {
    throw new ModelLensError('too-large', t.location.file, `tensor "${t.name}" has ${numel} elements (limit ${MAX_F32_ELEMENTS})`, t.location.offset);
  }
  let out: Float32Array;
  try {
    out = new Float32Array(numel);
  } catch {
    throw new ModelLensError('too-large', t.location.file, `cannot allocate ${numel} float32 values for tensor "${t.name}"`, t.location.offset);
  }
  let at = 0;
  await streamTensor(
    t,
    (v, n) => {
      out.set(n === v.length ? v : v.subarray(0, n), at);
      at += n;
    },
    opts,
  );
  return out;
}

export interface TensorStats {
  count: number;
  /** Over finite values; NaN when there are none. */
  min: number;
  max: number;
  mean: number;
  /** Sample standard deviation (Bessel-corrected, like torch.std) over finite values. */
  std: number;
  /** Fraction of all elements that are exactly zero. */
  zeroFraction: number;
  nanCount: number;
  infCount: number;
  /**
   * `bins` equal-width bins over [min, max] of the finite values; edges has bins+1 entries, bin i holds
   * edges[i] <= x < edges[i+1] (the last bin is closed). Constant data all lands in bin 0.
   */
  histogram: { edges: number[]; counts: number[] };
}

/** Streams the tensor twice (moments, then histogram) with bounded memory. */
export async function tensorStats(t: TensorInfo, opts: ReadOptions & { bins?: number } = {}): Promise<TensorStats> {
  const bins = Math.max(1, Math.min(1024, opts.bins ?? 64));
  const own = opts.source === undefined;
  const src = opts.source ?? (await FileByteSource.open(t.location.file));
  try {
    let count = 0;
    let finite = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    let zeros = 0;
    let nan = 0;
    let inf = 0;
    // Hot loops keep their accumulators in locals (captured mutable variables are slow in V8) and
    // merge per-block mean/M2 with Chan et al.'s formula to keep float64 precision.
    await streamTensor(
      t,
      (v, n) => {
        let bn = 0;
        let bsum = 0;
        let bmin = min;
        let bmax = max;
        let bz = 0;
        let bnan = 0;
        for (let i = 0; i < n; i++) {
          const x = v[i]!;
          if (x === 0) bz++;
          if (x - x === 0) {
            bn++;
            bsum += x;
            if (x < bmin) bmin = x;
            if (x > bmax) bmax = x;
          } else if (x !== x) bnan++;
        }
        count += n;
        zeros += bz;
        nan += bnan;
        inf += n - bn - bnan;
        min = bmin;
        max = bmax;
        if (bn === 0) return;
        const bmean = bsum / bn;
        let bm2 = 0;
        for (let i = 0; i < n; i++) {
          const d = v[i]! - bmean;
          if (d - d === 0) bm2 += d * d;
        }
        const tot = finite + bn;
        const delta = bmean - mean;
        mean += (delta * bn) / tot;
        m2 += bm2 + (delta * delta * finite * bn) / tot;
        finite = tot;
      },
      { ...opts, source: src },
    );
    const counts = new Array<number>(bins).fill(0);
    let edges: number[] = [];
    if (finite > 0) {
      const lo = min;
      const hi = max;
      const width = (hi - lo) / bins;
      edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? hi : lo + i * width));
      const acc = new Float64Array(bins);
      const edgeArr = Float64Array.from(edges);
      const scale = width > 0 ? 1 / width : 0;
      await streamTensor(
        t,
        (v, n) => {
          for (let i = 0; i < n; i++) {
            const x = v[i]!;
            if (x - x !== 0) continue;
            let b = Math.floor((x - lo) * scale);
            if (b >= bins) b = bins - 1;
            else if (b < 0) b = 0;
            // Agree exactly with the reported edges: bin b holds edges[b] <= x < edges[b+1].
            if (scale === 0) b = 0;
            else if (b < bins - 1 && x >= edgeArr[b + 1]!) b++;
            else if (b > 0 && x < edgeArr[b]!) b--;
            acc[b]!++;
          }
        },
        { ...opts, source: src },
      );
      for (let i = 0; i < bins; i++) counts[i] = acc[i]!;
    }
    return {
      count,
      min: finite ? min : NaN,
      max: finite ? max : NaN,
      mean: finite ? mean : NaN,
      std: finite > 1 ? Math.sqrt(m2 / (finite - 1)) : finite === 1 ? 0 : NaN,
      zeroFraction: count ? zeros / count : 0,
      nanCount: nan,
      infCount: inf,
      histogram: { edges, counts },
    };
  } finally {
    if (own) await src.close();
  }
}
