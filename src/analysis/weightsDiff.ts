// Weights diff of two checkpoints of one family ("which layers moved during fine-tuning"): keys missing from
// or unexpected in B, shape and dtype mismatches, and per block the relative change ‖B − A‖ / ‖A‖ over the
// tensors both have with the same shape. Tensors are read in lockstep by byte ranges of a few MB, so memory
// stays flat whatever the checkpoint size; sums are float64.
import { basename } from 'node:path';
import { FileByteSource, type ByteSource } from '../formats/byteSource';
import type { Checkpoint, TensorInfo } from '../formats/checkpoint';
import { DTYPE_BYTES } from '../formats/checkpoint';
import { ModelLensError } from '../formats/errors';
import { openCheckpoint } from '../formats/openCheckpoint';
import { readTensorF32 } from '../formats/tensorData';

export const WEIGHTS_DIFF_SCHEMA = 'model-lens/weights-diff@1';

export interface TensorChange {
  name: string;
  block: string;
  /** ‖B − A‖ / ‖A‖ (Frobenius); null when ‖A‖ = 0. */
  relativeChange: number | null;
  normA: number;
  normDiff: number;
}

export interface BlockChange {
  block: string;
  /** sqrt(Σ‖B − A‖²) / sqrt(Σ‖A‖²) over the block's compared tensors; null when ‖A‖ = 0. */
  relativeChange: number | null;
  tensors: number;
}

export interface WeightsDiffResult {
  schema: typeof WEIGHTS_DIFF_SCHEMA;
  a: { file: string; format: string; tensors: number };
  b: { file: string; format: string; tensors: number };
  /** In A, not in B. */
  missing: string[];
  /** In B, not in A. */
  unexpected: string[];
  shapeMismatch: Array<{ name: string; a: number[]; b: number[] }>;
  /** Same shape, different dtype: still compared (values decoded to float64). */
  dtypeMismatch: Array<{ name: string; a: string; b: string }>;
  /** In block order, then A's tensor order. */
  tensors: TensorChange[];
  blocks: BlockChange[];
  timing: { totalMs: number; bytesRead: number };
}

/** Elements per lockstep read (4 MiB of float32 per side). */
const CHUNK_ELEMENTS = 1 << 20;

/**
 * The block a tensor belongs to: its name up to the first numbered segment (`blocks.3`, `encoder.layer.3`,
 * `encoder.layers.encoder_layer_3`), else its first segment (`patch_embed`, `cls_token`).
 */
export function blockOf(name: string): string {
  const parts = name.split('.');
  const i = parts.findIndex((p) => /^\d+$/.test(p) || /_\d+$/.test(p));
  return i >= 0 ? parts.slice(0, i + 1).join('.') : (parts[0] ?? name);
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function contiguous(t: TensorInfo): boolean {
  if (!t.strides) return true;
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.strides[i] !== expect) return false;
    expect *= t.shape[i] as number;
  }
  return true;
}

/** Elements [from, from + count) of a contiguous tensor as a tensor of its own. */
function slice(t: TensorInfo, from: number, count: number): TensorInfo {
  const es = DTYPE_BYTES[t.dtype];
  return { name: t.name, dtype: t.dtype, shape: [count], location: { file: t.location.file, offset: t.location.offset + from * es, length: count * es } };
}

class Sources {
  private readonly open = new Map<string, Promise<FileByteSource>>();
  bytes = 0;

  get(file: string): Promise<ByteSource> {
    let s = this.open.get(file);
    if (!s) {
      s = FileByteSource.open(file);
      this.open.set(file, s);
    }
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.open.values()) await s.then((x) => x.close(), () => undefined);
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A contiguous slice as float32: F32 bytes are used as they are (no decode), other dtypes are decoded. */
async function chunkF32(t: TensorInfo, sources: Sources): Promise<Float32Array> {
  const src = await sources.get(t.location.file);
  if (t.dtype !== 'F32' || !LITTLE_ENDIAN) return readTensorF32(t, { source: src });
  const bytes = await src.read(t.location.offset, t.location.length);
  return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Float32Array(bytes.slice().buffer);
}

/** Σ(b − a)² and Σa² of two same-shape tensors, read side by side a chunk at a time. */
async function sumsOf(a: TensorInfo, b: TensorInfo, sources: Sources, chunk: number, signal?: AbortSignal): Promise<{ diff2: number; a2: number }> {
  let diff2 = 0;
  let a2 = 0;
  const add = (x: Float32Array, y: Float32Array): void => {
    for (let i = 0; i < x.length; i++) {
      const ai = x[i] as number;
      const d = (y[i] as number) - ai;
      diff2 += d * d;
      a2 += ai * ai;
    }
  };
  const n = numel(a.shape);
  if (!contiguous(a) || !contiguous(b)) {
    add(await readTensorF32(a, { source: await sources.get(a.location.file) }), await readTensorF32(b, { source: await sources.get(b.location.file) }));
    sources.bytes += a.location.length + b.location.length;
    return { diff2, a2 };
  }
  for (let from = 0; from < n; from += chunk) {
    if (signal?.aborted) throw new ModelLensError('cancelled', a.location.file, 'weights diff cancelled');
    const count = Math.min(chunk, n - from);
    const sa = slice(a, from, count);
    const sb = slice(b, from, count);
    const [x, y] = await Promise.all([chunkF32(sa, sources), chunkF32(sb, sources)]);
    sources.bytes += sa.location.length + sb.location.length;
    add(x, y);
  }
  return { diff2, a2 };
}

function keyDiff(a: Checkpoint, b: Checkpoint): Pick<WeightsDiffResult, 'missing' | 'unexpected' | 'shapeMismatch' | 'dtypeMismatch'> & { pairs: Array<[TensorInfo, TensorInfo]> } {
  const inB = new Map(b.tensors.map((t) => [t.name, t]));
  const inA = new Set(a.tensors.map((t) => t.name));
  const out = { missing: [] as string[], unexpected: b.tensors.filter((t) => !inA.has(t.name)).map((t) => t.name), shapeMismatch: [] as WeightsDiffResult['shapeMismatch'], dtypeMismatch: [] as WeightsDiffResult['dtypeMismatch'], pairs: [] as Array<[TensorInfo, TensorInfo]> };
  for (const ta of a.tensors) {
    const tb = inB.get(ta.name);
    if (!tb) out.missing.push(ta.name);
    else if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) out.shapeMismatch.push({ name: ta.name, a: ta.shape, b: tb.shape });
    else {
      if (ta.dtype !== tb.dtype) out.dtypeMismatch.push({ name: ta.name, a: ta.dtype, b: tb.dtype });
      out.pairs.push([ta, tb]);
    }
  }
  return out;
}

/** Weights diff of `fileA` (reference) and `fileB`. Non-float tensors (counters, indices) are compared too. */
export async function weightsDiff(fileA: string, fileB: string, opts: { signal?: AbortSignal; variantA?: string; variantB?: string; onProgress?: (done: number, total: number) => void; chunkElements?: number } = {}): Promise<WeightsDiffResult> {
  const t0 = performance.now();
  const a = await openCheckpoint(fileA, opts.variantA !== undefined ? { variant: opts.variantA } : undefined);
  const b = await openCheckpoint(fileB, opts.variantB !== undefined ? { variant: opts.variantB } : undefined);
  const keys = keyDiff(a, b);
  const sources = new Sources();
  const tensors: TensorChange[] = [];
  const blocks = new Map<string, { diff2: number; a2: number; tensors: number }>();
  try {
    for (const [i, [ta, tb]] of keys.pairs.entries()) {
      const { diff2, a2 } = await sumsOf(ta, tb, sources, Math.max(1, opts.chunkElements ?? CHUNK_ELEMENTS), opts.signal);
      const block = blockOf(ta.name);
      tensors.push({ name: ta.name, block, relativeChange: a2 > 0 ? Math.sqrt(diff2 / a2) : null, normA: Math.sqrt(a2), normDiff: Math.sqrt(diff2) });
      const s = blocks.get(block) ?? { diff2: 0, a2: 0, tensors: 0 };
      blocks.set(block, { diff2: s.diff2 + diff2, a2: s.a2 + a2, tensors: s.tensors + 1 });
      opts.onProgress?.(i + 1, keys.pairs.length);
    }
  } finally {
    await sources.close();
  }
  const order = blockOrder([...blocks.keys()]);
  const rank = new Map(order.map((k, i) => [k, i]));
  tensors.sort((x, y) => (rank.get(x.block) ?? 0) - (rank.get(y.block) ?? 0));
  return {
    schema: WEIGHTS_DIFF_SCHEMA,
    a: { file: a.file, format: a.format, tensors: a.tensors.length },
    b: { file: b.file, format: b.format, tensors: b.tensors.length },
    missing: keys.missing,
    unexpected: keys.unexpected,
    shapeMismatch: keys.shapeMismatch,
    dtypeMismatch: keys.dtypeMismatch,
    tensors,
    blocks: order.map((block) => {
      const s = blocks.get(block) as { diff2: number; a2: number; tensors: number };
      return { block, relativeChange: s.a2 > 0 ? Math.sqrt(s.diff2 / s.a2) : null, tensors: s.tensors };
    }),
    timing: { totalMs: performance.now() - t0, bytesRead: sources.bytes },
  };
}

/**
 * Blocks in model order: groups in order of first appearance in A (embeddings, blocks, final norm in a
 * pickle's order), numbered blocks of a group by number (safetensors sorts `blocks.10` before `blocks.2`).
 */
function blockOrder(firstSeen: readonly string[]): string[] {
  const split = (b: string): [string, number] => {
    const m = /^(.*?)(\d+)$/.exec(b);
    return m ? [m[1] as string, Number(m[2])] : [b, -1];
  };
  const groupRank = new Map<string, number>();
  for (const b of firstSeen) if (!groupRank.has(split(b)[0])) groupRank.set(split(b)[0], groupRank.size);
  return [...firstSeen].sort((x, y) => {
    const [gx, nx] = split(x);
    const [gy, ny] = split(y);
    return (groupRank.get(gx) ?? 0) - (groupRank.get(gy) ?? 0) || nx - ny;
  });
}

/** Short text of a diff for the CLI: key differences, then a bar per block. */
export function formatWeightsDiff(d: WeightsDiffResult): string {
  const out = [`A          ${d.a.file} (${d.a.format}, ${d.a.tensors} tensors)`, `B          ${d.b.file} (${d.b.format}, ${d.b.tensors} tensors)`];
  const list = (title: string, items: string[]): void => {
    if (items.length) out.push(`${title} ${items.length}: ${items.slice(0, 8).join(', ')}${items.length > 8 ? ', …' : ''}`);
  };
  list('Missing in B   ', d.missing);
  list('Unexpected in B', d.unexpected);
  list('Shape mismatch ', d.shapeMismatch.map((m) => `${m.name} [${m.a.join(',')}] vs [${m.b.join(',')}]`));
  list('Dtype mismatch ', d.dtypeMismatch.map((m) => `${m.name} ${m.a} vs ${m.b}`));
  out.push('', 'Relative change ‖B − A‖ / ‖A‖ per block');
  const max = Math.max(1e-12, ...d.blocks.map((b) => b.relativeChange ?? 0));
  const width = Math.max(...d.blocks.map((b) => b.block.length));
  for (const b of d.blocks) {
    const v = b.relativeChange;
    out.push(`  ${b.block.padEnd(width)}  ${v === null ? '     —' : v.toExponential(2).padStart(9)}  ${'█'.repeat(v === null ? 0 : Math.round((v / max) * 40))}`);
  }
  out.push('', `Time       ${(d.timing.totalMs / 1000).toFixed(2)} s, ${(d.timing.bytesRead / 2 ** 20).toFixed(1)} MiB read (${basename(d.a.file)} vs ${basename(d.b.file)})`);
  return out.join('\n');
}
