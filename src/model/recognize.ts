// Architecture recognition: from tensor names, shapes and any config that came with a checkpoint, say
// what model it is (the `model` object of the result schemas) and, for analyzable ViTs, produce the
// VitSpec the graph builder consumes. Pure: no I/O except loadSidecarConfig/attachSidecarConfig.

import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Checkpoint, DType, TensorInfo } from '../formats/checkpoint';
import type { HeadsSource, ModelFamily, ModelSummary, VitBlockWeights, VitSpec } from './modelTypes';

export interface RecognizeOptions {
  /** User's `--heads` / setting; wins over every other source. */
  headsOverride?: number;
}

export interface Recognition {
  summary: ModelSummary;
  /** Present only when the model can be rebuilt for analysis (summary.notAnalyzable explains otherwise). */
  spec?: VitSpec;
}

export const IMAGENET_MEAN_RGB: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD_RGB: [number, number, number] = [0.229, 0.224, 0.225];

/** LayerNorm eps each library uses when the checkpoint does not say. */
export const FAMILY_LN_EPS: Readonly<Record<ModelFamily, number>> = {
  'timm-vit': 1e-6, deit: 1e-6, 'deit-distilled': 1e-6, mae: 1e-6, beit: 1e-6, simmim: 1e-6,
  'hf-vit': 1e-12, 'torchvision-vit': 1e-6, swin: 1e-5, 'onnx-graph': 1e-6, unknown: 1e-6,
};

/** Heads of the standard ViT sizes (ViT-Ti/S/B/L/H, DeiT, MAE, BEiT, ViT-g). */
export const SIZE_HEADS: Readonly<Record<string, number>> = {
  tiny: 3, small: 6, base: 12, large: 16, huge: 16, giant: 16, gigantic: 16,
};
const LETTER_HEADS: Readonly<Record<string, number>> = { t: 3, s: 6, b: 12, l: 16, h: 16, g: 16 };
/** Heads of the standard widths; a name whose size word contradicts a standard width is not believed. */
const STANDARD_WIDTH_HEADS: Readonly<Record<number, number>> = { 192: 3, 384: 6, 768: 12, 1024: 16, 1280: 16 };

const FLOAT_DTYPES: ReadonlySet<DType> = new Set<DType>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);
/** Sidecar JSON files are small; anything larger is not a model config. */
const MAX_SIDECAR_BYTES = 4 * 1024 * 1024;

// ------------------------------------------------------------------------------------------- sidecar

/**
 * Reads `config.json` (and `preprocessor_config.json` for image_mean/image_std) from the folder of a
 * HuggingFace weights file. Returns undefined when there is none or it does not look like a model config;
 * a broken file is ignored rather than failing the inspection of the weights.
 */
export async function loadSidecarConfig(weightsPath: string): Promise<Record<string, unknown> | undefined> {
  const dir = dirname(weightsPath);
  const config = await readJsonObject(join(dir, 'config.json'));
  if (!config || !looksLikeHfConfig(config)) return undefined;
  const out: Record<string, unknown> = { ...config };
  const pre = await readJsonObject(join(dir, 'preprocessor_config.json'));
  if (pre) {
    for (const key of ['image_mean', 'image_std', 'size', 'crop_size'] as const) {
      if (out[key] === undefined && pre[key] !== undefined) out[key] = pre[key];
    }
  }
  return out;
}

/** `ckpt` with its HF sidecar config merged in (fields already in ckpt.config win). */
export async function attachSidecarConfig(ckpt: Checkpoint): Promise<Checkpoint> {
  if (ckpt.format === 'onnx') return ckpt;
  const side = await loadSidecarConfig(ckpt.file);
  if (!side) return ckpt;
  return { ...ckpt, config: { ...side, ...(ckpt.config ?? {}) } };
}

async function readJsonObject(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_SIDECAR_BYTES) return undefined;
    const v: unknown = JSON.parse(await readFile(path, 'utf8'));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function looksLikeHfConfig(c: Record<string, unknown>): boolean {
  return typeof c['model_type'] === 'string' || Array.isArray(c['architectures']) || typeof c['hidden_size'] === 'number';
}

// ------------------------------------------------------------------------------------------ helpers

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numel(t: TensorInfo): number {
  let n = 1;
  for (const d of t.shape) n *= d;
  return n;
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function intSqrt(n: number): number | undefined {
  if (!Number.isInteger(n) || n < 0) return undefined;
  const r = Math.round(Math.sqrt(n));
  return r * r === n ? r : undefined;
}

/** One value found somewhere inside a config, with its key path (lower-cased). */
interface ConfigEntry {
  path: string[];
  value: unknown;
}

const MAX_CONFIG_ENTRIES = 20000;

/** Flattens a config (HF JSON, argparse Namespace, yacs CfgNode, nested dicts) into leaf entries. */
function flattenConfig(config: Record<string, unknown> | undefined): ConfigEntry[] {
  const out: ConfigEntry[] = [];
  const walk = (v: unknown, path: string[], depth: number): void => {
    if (out.length >= MAX_CONFIG_ENTRIES || depth > 8) return;
    if (isRecord(v)) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k.toLowerCase()], depth + 1);
    } else {
      out.push({ path, value: v });
    }
  };
  walk(config, [], 0);
  return out;
}

class ConfigView {
  readonly entries: ConfigEntry[];
  /** True for a HuggingFace-style config (sidecar config.json); false for args/cfg stored in a checkpoint. */
  readonly isHf: boolean;

  constructor(readonly raw: Record<string, unknown> | undefined) {
    this.entries = flattenConfig(raw);
    this.isHf = raw !== undefined && (looksLikeHfConfig(raw) || typeof raw['num_attention_heads'] === 'number');
  }

  /** Entries whose last key is one of `keys`, shallowest first; paths containing `prefer` sort ahead. */
  find(keys: readonly string[], prefer?: string): ConfigEntry[] {
    const hits = this.entries.filter((e) => keys.includes(e.path[e.path.length - 1] ?? ''));
    return hits.sort((a, b) => {
      if (prefer) {
        const pa = a.path.includes(prefer) ? 0 : 1;
        const pb = b.path.includes(prefer) ? 0 : 1;
        if (pa !== pb) return pa - pb;
      }
      return a.path.length - b.path.length;
    });
  }

  numbers(keys: readonly string[], prefer?: string): number[] {
    return this.find(keys, prefer).map((e) => e.value).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  }

  strings(keys: readonly string[]): string[] {
    return this.find(keys).map((e) => e.value).filter((v): v is string => typeof v === 'string' && v.length > 0 && v.length < 300);
  }

  triple(keys: readonly string[]): [number, number, number] | undefined {
    for (const e of this.find(keys)) {
      const v = e.value;
      if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        return [v[0] as number, v[1] as number, v[2] as number];
      }
    }
    return undefined;
  }

  /** Input size as [h, w] from image_size / input_size / img_size / IMG_SIZE (a number or a pair). */
  imageSize(): [number, number] | undefined {
    for (const e of this.find(['image_size', 'img_size', 'input_size', 'imagesize'])) {
      const v = e.value;
      if (isPositiveInt(v)) return [v, v];
      if (Array.isArray(v)) {
        const nums = v.filter(isPositiveInt);
        if (nums.length === 2 && v.length === 2) return [nums[0] as number, nums[1] as number];
        if (nums.length === 3 && v.length === 3) return [nums[1] as number, nums[2] as number]; // (C, H, W)
      }
    }
    return undefined;
  }
}

/** Heads implied by a model name such as `vit_base_patch16_224`, `deit_small`, `mae_vit_large`, `vit_b_16`. */
export function headsFromModelName(name: string): { heads: number; word: string } | undefined {
  const s = name.toLowerCase();
  const m = /(?:^|[^a-z])(tiny|small|base|large|huge|giant|gigantic)(?:[^a-z]|$)/.exec(s);
  if (m && m[1]) return { heads: SIZE_HEADS[m[1]] as number, word: m[1] };
  const t = /(?:^|[^a-z])vit[-_]?([tsblhg])(?:[-_/]?\d|[^a-z]|$)/.exec(s);
  if (t && t[1]) return { heads: LETTER_HEADS[t[1]] as number, word: `vit-${t[1]}` };
  return undefined;
}

const GENERIC_STEMS = /^(model|pytorch_model|checkpoint|ckpt|weights|best|last|latest|final|model_final|model-\d+-of-\d+|model\.safetensors\.index)$/i;

function fileStem(file: string): string {
  const b = basename(file);
  return b.replace(/\.(safetensors|pth|pt|ckpt|bin|onnx)$/i, '').replace(/\.(fp16|bf16|fp32|f16|f32)$/i, '');
}

// ----------------------------------------------------------------------------------------- summary

interface TensorStats {
  params: number;
  dtype: string;
  dtypes: Record<string, number>;
}

function tensorStats(tensors: readonly TensorInfo[]): TensorStats {
  let params = 0;
  const dtypes: Record<string, number> = {};
  const floatElems = new Map<string, number>();
  const allElems = new Map<string, number>();
  for (const t of tensors) {
    const n = numel(t);
    dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
    allElems.set(t.dtype, (allElems.get(t.dtype) ?? 0) + n);
    if (FLOAT_DTYPES.has(t.dtype)) {
      params += n;
      floatElems.set(t.dtype, (floatElems.get(t.dtype) ?? 0) + n);
    }
  }
  const pick = floatElems.size > 0 ? floatElems : allElems;
  let dtype = '';
  let best = -1;
  for (const [k, v] of pick) {
    if (v > best) {
      best = v;
      dtype = k;
    }
  }
  return { params, dtype: dtype || 'none', dtypes };
}

/** What recognition fills in before params/dtypes are counted: the summary's architecture fields. */
type Draft = Pick<ModelSummary, 'family' | 'layers' | 'heads' | 'headsSource' | 'dim' | 'patchSize' | 'imageSize' | 'specialTokens' | 'notAnalyzable'> & {
  details: Record<string, unknown>;
  spec?: VitSpec;
};

function emptyDraft(family: ModelFamily): Draft {
  return { family, layers: null, heads: null, headsSource: 'unknown', dim: null, patchSize: null, imageSize: null, specialTokens: null, details: {} };
}

/** Recognizes the architecture of `ckpt`; never throws on odd tensors, it says what it could not tell. */
export function recognize(ckpt: Checkpoint, opts: RecognizeOptions = {}): Recognition {
  const stats = tensorStats(ckpt.tensors);
  const ctx = new Ctx(ckpt, opts);
  let d: Draft;
  if (ckpt.format === 'onnx') d = recognizeOnnx(ctx);
  else d = recognizeHf(ctx) ?? recognizeTorchvision(ctx) ?? recognizeSwin(ctx) ?? recognizeTimmLike(ctx) ?? unknownDraft(ctx);
  const summary: ModelSummary = {
    file: ckpt.file,
    format: ckpt.format,
    family: d.family,
    layers: d.layers,
    heads: d.heads,
    headsSource: d.headsSource,
    dim: d.dim,
    patchSize: d.patchSize,
    imageSize: d.imageSize,
    specialTokens: d.specialTokens,
    params: stats.params,
    dtype: stats.dtype,
    dtypes: stats.dtypes,
  };
  if (Object.keys(d.details).length > 0) summary.details = d.details;
  if (d.notAnalyzable !== undefined) summary.notAnalyzable = d.notAnalyzable;
  return d.spec && d.notAnalyzable === undefined ? { summary, spec: d.spec } : { summary };
}

class Ctx {
  readonly byName = new Map<string, TensorInfo>();
  readonly names: string[];
  readonly cfg: ConfigView;

  constructor(readonly ckpt: Checkpoint, readonly opts: RecognizeOptions) {
    for (const t of ckpt.tensors) this.byName.set(t.name, t);
    this.names = ckpt.tensors.map((t) => t.name);
    this.cfg = new ConfigView(ckpt.config);
  }

  get(name: string): TensorInfo | undefined {
    return this.byName.get(name);
  }

  shape(name: string): number[] | undefined {
    return this.byName.get(name)?.shape;
  }

  /** Prefixes p with `p + suffix` present; shortest first (a `model.` beats a `model_ema.` copy). */
  prefixesFor(suffix: string): string[] {
    const out: string[] = [];
    for (const n of this.names) if (n.endsWith(suffix)) out.push(n.slice(0, n.length - suffix.length));
    return out.filter((p) => p === '' || p.endsWith('.')).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  }

  /** Number of consecutive indices i from 0 with some tensor starting with `${head}${i}.`. */
  countIndexed(head: string): number {
    const seen = new Set<number>();
    for (const n of this.names) {
      if (!n.startsWith(head)) continue;
      const rest = n.slice(head.length);
      const dot = rest.indexOf('.');
      if (dot <= 0) continue;
      const idx = rest.slice(0, dot);
      if (/^\d+$/.test(idx)) seen.add(Number(idx));
    }
    let i = 0;
    while (seen.has(i)) i++;
    return i;
  }

  /** Candidate model names: config/args names, then the file name, then the folder for generic file names. */
  modelNames(): string[] {
    const out = this.cfg.strings(['model', 'arch', 'model_name', 'architecture', 'name', 'type', '_name_or_path', 'variant']);
    for (const e of this.ckpt.extras) {
      const m = /\bmodel\s*=\s*['"]([^'"]{1,200})['"]/.exec(e.value);
      if (m && m[1]) out.push(m[1]);
    }
    const stem = fileStem(this.ckpt.file);
    if (!GENERIC_STEMS.test(stem)) out.push(stem);
    else out.push(basename(dirname(this.ckpt.file)));
    return out;
  }

  /** Heads stated in the checkpoint's args/cfg or a config, with the source that applies. */
  configHeads(prefer?: string): { heads: number; source: HeadsSource } | undefined {
    const keys = ['num_attention_heads', 'num_heads', 'heads', 'n_heads', 'nheads'];
    const hits = this.cfg.numbers(keys, prefer).filter(isPositiveInt);
    if (hits.length > 0) return { heads: hits[0] as number, source: this.cfg.isHf ? 'config' : 'checkpoint-args' };
    for (const e of this.ckpt.extras) {
      const m = /\b(?:num_heads|num_attention_heads)\s*[=:]\s*(\d{1,4})\b/i.exec(e.value);
      if (m && m[1]) return { heads: Number(m[1]), source: 'checkpoint-args' };
    }
    // safetensors `__metadata__` is a string map; writers that record the head count put it there.
    for (const key of keys) {
      const v = this.ckpt.metadata[key];
      if (v !== undefined && /^\d{1,4}$/.test(v.trim()) && isPositiveInt(Number(v))) return { heads: Number(v), source: 'checkpoint-args' };
    }
    return undefined;
  }
}

/**
 * Heads by precedence: override > config > checkpoint args/cfg > weights > model name > dim/64 > unknown.
 * A candidate that does not divide the embedding dim is skipped (and said so in details).
 */
function resolveHeads(ctx: Ctx, dim: number | null, weightsHeads: number | undefined, family: ModelFamily, details: Record<string, unknown>, prefer?: string): { heads: number | null; source: HeadsSource; invalid?: string } {
  const notes: string[] = [];
  const ok = (h: number): boolean => dim === null || dim % h === 0;
  const o = ctx.opts.headsOverride;
  if (o !== undefined) {
    if (!isPositiveInt(o)) return { heads: null, source: 'override', invalid: `heads override ${String(o)} is not a positive integer` };
    if (!ok(o)) return { heads: o, source: 'override', invalid: `heads override ${o} does not divide the embedding dim ${String(dim)}` };
    if (weightsHeads !== undefined && weightsHeads !== o) details['headsInWeights'] = weightsHeads;
    return { heads: o, source: 'override' };
  }
  const c = ctx.configHeads(prefer);
  if (c) {
    if (ok(c.heads) && (weightsHeads === undefined || weightsHeads === c.heads)) return { heads: c.heads, source: c.source };
    notes.push(`${c.source} says ${c.heads} heads, which ${ok(c.heads) ? `contradicts the ${String(weightsHeads)} in the weights` : `does not divide dim ${String(dim)}`}`);
  }
  if (weightsHeads !== undefined && ok(weightsHeads)) {
    if (notes.length) details['headsNotes'] = notes;
    return { heads: weightsHeads, source: 'weights' };
  }
  if (family !== 'swin') {
    for (const name of ctx.modelNames()) {
      const m = headsFromModelName(name);
      if (!m) continue;
      const standard = dim === null ? undefined : STANDARD_WIDTH_HEADS[dim];
      if (standard !== undefined && standard !== m.heads) {
        notes.push(`model name "${name}" says ${m.word} (${m.heads} heads), but dim ${String(dim)} is the standard width of a ${standard}-head ViT`);
        continue;
      }
      if (ok(m.heads)) {
        details['headsFromName'] = name;
        if (notes.length) details['headsNotes'] = notes;
        return { heads: m.heads, source: 'model-name' };
      }
      notes.push(`model name "${name}" implies ${m.heads} heads, which does not divide dim ${String(dim)}`);
    }
  }
  if (notes.length) details['headsNotes'] = notes;
  if (dim !== null && dim % 64 === 0) return { heads: dim / 64, source: 'dim/64' };
  return { heads: null, source: 'unknown' };
}

function normalization(ctx: Ctx): { mean: [number, number, number]; std: [number, number, number]; source: 'config' | 'imagenet-default' } {
  const mean = ctx.cfg.triple(['image_mean', 'mean', 'pixel_mean']);
  const std = ctx.cfg.triple(['image_std', 'std', 'pixel_std']);
  if (mean && std && std.every((s) => s > 0)) {
    // Some configs store mean/std in 0..255 units (detectron-style); the pipeline divides by 255 first.
    if (mean.some((v) => v > 1.5)) {
      return { mean: mean.map((v) => v / 255) as [number, number, number], std: std.map((v) => v / 255) as [number, number, number], source: 'config' };
    }
    return { mean, std, source: 'config' };
  }
  return { mean: [...IMAGENET_MEAN_RGB], std: [...IMAGENET_STD_RGB], source: 'imagenet-default' };
}

function lnEps(ctx: Ctx, family: ModelFamily): { eps: number; source: 'config' | 'family-default' } {
  const e = ctx.cfg.numbers(['layer_norm_eps', 'layernorm_eps', 'ln_eps', 'norm_eps']).find((v) => v > 0 && v < 1);
  return e !== undefined ? { eps: e, source: 'config' } : { eps: FAMILY_LN_EPS[family], source: 'family-default' };
}

/** Grid from a token count: the config's image size when it fits, else a square grid, else undefined. */
function gridFor(ctx: Ctx, n: number, patch: [number, number], details: Record<string, unknown>): [number, number] | undefined {
  const cfgSize = ctx.cfg.imageSize();
  if (cfgSize && cfgSize[0] % patch[0] === 0 && cfgSize[1] % patch[1] === 0 && (cfgSize[0] / patch[0]) * (cfgSize[1] / patch[1]) === n) {
    return [cfgSize[0] / patch[0], cfgSize[1] / patch[1]];
  }
  const g = intSqrt(n);
  if (g !== undefined) {
    if (cfgSize) details['imageSizeNote'] = `config image size ${cfgSize.join('x')} does not match ${n} patch tokens; used a ${g}x${g} grid`;
    return [g, g];
  }
  details['imageSizeNote'] = `${n} patch tokens do not form a square grid and no config gives the input size`;
  return undefined;
}

function shapeIs(ctx: Ctx, name: string | undefined, shape: readonly number[]): string | undefined {
  if (name === undefined) return undefined;
  const s = ctx.shape(name);
  if (!s) return `missing tensor ${name}`;
  const squeezed = s.length === shape.length ? s : s.filter((x, i) => !(x === 1 && i < s.length - shape.length));
  if (squeezed.length !== shape.length || squeezed.some((x, i) => x !== shape[i])) return `${name} has shape [${s.join(', ')}], expected [${shape.join(', ')}]`;
  return undefined;
}

/** Checks every block tensor's shape; returns the first problem. */
function checkBlocks(ctx: Ctx, blocks: VitBlockWeights[], d: number, mlp: number, heads: number): string | undefined {
  for (const b of blocks) {
    const checks: Array<[string | undefined, number[]]> = [
      [b.ln1W, [d]], [b.ln1B, [d]], [b.ln2W, [d]], [b.ln2B, [d]],
      [b.qkvW, [3 * d, d]], [b.qkvB, [3 * d]],
      [b.qW, [d, d]], [b.kW, [d, d]], [b.vW, [d, d]], [b.qB, [d]], [b.kB, [d]], [b.vB, [d]],
      [b.projW, [d, d]], [b.projB, [d]], [b.fc1W, [mlp, d]], [b.fc1B, [mlp]], [b.fc2W, [d, mlp]], [b.fc2B, [d]],
      [b.gamma1, [d]], [b.gamma2, [d]],
    ];
    for (const [n, s] of checks) {
      const p = shapeIs(ctx, n, s);
      if (p) return p;
    }
    if (b.relPosTable) {
      const s = ctx.shape(b.relPosTable);
      if (!s || s.length !== 2 || s[1] !== heads) return `${b.relPosTable} has shape [${s?.join(', ') ?? ''}], expected [*, ${heads}]`;
    }
  }
  return undefined;
}

/** Block tensors that the recognized layout does not explain (e.g. qk-norm, SwiGLU): the forward would differ. */
function unexplained(ctx: Ctx, blockHead: string, layers: number, known: readonly string[]): string[] {
  const knownSet = new Set(known);
  const out: string[] = [];
  for (const n of ctx.names) {
    if (!n.startsWith(blockHead)) continue;
    const rest = n.slice(blockHead.length);
    const dot = rest.indexOf('.');
    if (dot <= 0) continue;
    const idx = rest.slice(0, dot);
    if (!/^\d+$/.test(idx) || Number(idx) >= layers) continue;
    if (!knownSet.has(rest.slice(dot + 1))) out.push(n);
  }
  return out;
}

// ------------------------------------------------------------------------------------------- families

function unknownDraft(ctx: Ctx): Draft {
  const d = emptyDraft('unknown');
  d.notAnalyzable = 'architecture not recognized (not a ViT layout Model Lens knows)';
  if (ctx.opts.headsOverride !== undefined) d.headsSource = 'override';
  return d;
}

function recognizeOnnx(ctx: Ctx): Draft {
  const d = emptyDraft('onnx-graph');
  const ops = ctx.ckpt.onnx?.opCounts;
  if (ops) {
    const softmax = ops['Softmax'] ?? 0;
    d.details['softmaxNodes'] = softmax;
    const fused = Object.keys(ops).filter((k) => /attention/i.test(k));
    if (softmax > 0) {
      d.layers = softmax;
      d.details['layersNote'] = 'counted from Softmax nodes (one per eager attention)';
    } else {
      d.notAnalyzable = fused.length
        ? `attention is fused (${fused.join(', ')}): its probabilities are not in the graph; re-export with eager attention (e.g. attn_implementation="eager", or timm with fused_attn disabled) so each attention has a Softmax`
        : 'no Softmax node: no eager attention to instrument; re-export with eager attention';
    }
  }
  const o = ctx.opts.headsOverride;
  if (o !== undefined && isPositiveInt(o)) {
    d.heads = o;
    d.headsSource = 'override';
  }
  return d;
}

function finishVit(ctx: Ctx, d: Draft, a: {
  family: ModelFamily; prefix: string; blockHead: string; patchW: string; patchB?: string; clsToken?: string; distToken?: string;
  posEmbed?: string; blocks: VitBlockWeights[]; known: readonly string[]; weightsHeads?: number; n?: number; headsPrefer?: string;
  sharedRelPosTable?: string; sharedRelPosIndex?: string; unsupported?: string[];
}): Draft {
  const pw = ctx.shape(a.patchW);
  if (!pw || pw.length !== 4) {
    d.notAnalyzable = `patch embedding ${a.patchW} is not a 4-D convolution weight`;
    return d;
  }
  const dim = pw[0] as number;
  const inChans = pw[1] as number;
  const patch: [number, number] = [pw[2] as number, pw[3] as number];
  d.dim = dim;
  d.patchSize = patch;
  d.layers = a.blocks.length;
  d.specialTokens = (a.clsToken ? 1 : 0) + (a.distToken ? 1 : 0);
  if (a.prefix) d.details['prefix'] = a.prefix;
  // Tokens on the grid: from the absolute position embedding, else from the relative position index/table.
  let n = a.n;
  if (a.posEmbed) {
    const ps = ctx.shape(a.posEmbed) ?? [];
    const t = ps.length >= 2 ? (ps[ps.length - 2] as number) : 0;
    if (ps[ps.length - 1] !== dim) {
      d.notAnalyzable = `${a.posEmbed} has shape [${ps.join(', ')}], its last dim is not the embedding dim ${dim}`;
    }
    n = t - d.specialTokens;
    if (n <= 0 || (intSqrt(n) === undefined && intSqrt(t) !== undefined && d.specialTokens > 0)) {
      d.notAnalyzable = `position embedding has ${t} tokens: it seems not to include the ${d.specialTokens} special token(s), which is not supported yet`;
    }
  }
  let grid: [number, number] | undefined;
  if (n !== undefined && n > 0) grid = gridFor(ctx, n, patch, d.details);
  else if (!a.posEmbed) {
    const size = ctx.cfg.imageSize();
    if (size && size[0] % patch[0] === 0 && size[1] % patch[1] === 0) grid = [size[0] / patch[0], size[1] / patch[1]];
  }
  if (grid) d.imageSize = [grid[0] * patch[0], grid[1] * patch[1]];
  const fc1 = a.blocks[0] ? ctx.shape(a.blocks[0].fc1W) : undefined;
  const mlpDim = fc1 && fc1.length === 2 ? (fc1[0] as number) : 0;
  const hr = resolveHeads(ctx, dim, a.weightsHeads, a.family, d.details, a.headsPrefer);
  d.heads = hr.heads;
  d.headsSource = hr.source;
  const qkvBias = a.blocks[0] ? (a.blocks[0].qkvB !== undefined || a.blocks[0].qB !== undefined) : false;
  d.details['mlpDim'] = mlpDim;
  d.details['qkvBias'] = qkvBias;
  d.details['layerScale'] = a.blocks[0]?.gamma1 !== undefined;
  if (a.sharedRelPosTable) d.details['relativePositionBias'] = 'shared';
  else if (a.blocks[0]?.relPosTable) d.details['relativePositionBias'] = 'per-layer';
  if (d.notAnalyzable !== undefined) return d;
  const extra = unexplained(ctx, a.blockHead, a.blocks.length, a.known);
  const unsupported = [...(a.unsupported ?? []), ...(extra.length ? [`unrecognized block tensors (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`] : [])];
  if (unsupported.length) {
    d.notAnalyzable = `not supported yet: ${unsupported.join('; ')}`;
    return d;
  }
  if (hr.invalid) {
    d.notAnalyzable = hr.invalid;
    return d;
  }
  if (d.heads === null) {
    d.notAnalyzable = `number of heads unknown (dim ${dim} is not a multiple of 64 and no config or model name says); set it with --heads or the modelLens heads setting`;
    return d;
  }
  if (!grid) {
    d.notAnalyzable = `input size unknown: ${String(d.details['imageSizeNote'] ?? 'no position embedding and no config')}`;
    return d;
  }
  if (a.blocks.length === 0) {
    d.notAnalyzable = 'no transformer blocks found';
    return d;
  }
  const bad = checkBlocks(ctx, a.blocks, dim, mlpDim, d.heads);
  if (bad) {
    d.notAnalyzable = bad;
    return d;
  }
  for (const t of [a.clsToken, a.distToken]) {
    const p = shapeIs(ctx, t, [1, dim]);
    if (p && shapeIs(ctx, t, [dim])) {
      d.notAnalyzable = p;
      return d;
    }
  }
  const norm = normalization(ctx);
  const eps = lnEps(ctx, a.family);
  const weights: VitSpec['weights'] = { patchW: a.patchW, blocks: a.blocks };
  if (a.patchB) weights.patchB = a.patchB;
  if (a.clsToken) weights.clsToken = a.clsToken;
  if (a.distToken) weights.distToken = a.distToken;
  if (a.posEmbed) weights.posEmbed = a.posEmbed;
  if (a.sharedRelPosTable) weights.sharedRelPosTable = a.sharedRelPosTable;
  if (a.sharedRelPosIndex) weights.sharedRelPosIndex = a.sharedRelPosIndex;
  d.spec = {
    family: a.family,
    layers: a.blocks.length,
    heads: d.heads,
    dim,
    mlpDim,
    inChans,
    patchSize: patch,
    imageSize: [grid[0] * patch[0], grid[1] * patch[1]],
    specialTokens: d.specialTokens,
    lnEps: eps.eps,
    lnEpsSource: eps.source,
    mean: norm.mean,
    std: norm.std,
    normalizationSource: norm.source,
    weights,
  };
  return d;
}

function opt(ctx: Ctx, name: string): string | undefined {
  return ctx.get(name) ? name : undefined;
}

/** timm ViT / DeiT (distilled) / MAE / BEiT / SimMIM: `patch_embed.proj` + `blocks.N.`. */
function recognizeTimmLike(ctx: Ctx): Draft | undefined {
  const prefix = ctx.prefixesFor('patch_embed.proj.weight').find((p) => ctx.countIndexed(`${p}blocks.`) > 0);
  if (prefix === undefined) return undefined;
  const P = prefix;
  const blockHead = `${P}blocks.`;
  const layers = ctx.countIndexed(blockHead);
  const b0 = `${blockHead}0.`;
  const beitLike = ctx.get(`${b0}attn.q_bias`) !== undefined || ctx.get(`${b0}attn.relative_position_bias_table`) !== undefined
    || ctx.get(`${P}rel_pos_bias.relative_position_bias_table`) !== undefined || ctx.get(`${b0}gamma_1`) !== undefined;
  const names = ctx.modelNames().join(' ').toLowerCase();
  let family: ModelFamily;
  if (beitLike) {
    const simmimSignals = /simmim/.test(names) || (P === 'encoder.' && ctx.get('decoder.0.weight') !== undefined);
    family = simmimSignals ? 'simmim' : 'beit';
  } else if (ctx.names.some((n) => n.startsWith(`${P}decoder_`)) || /(^|[^a-z])mae([^a-z]|$)/.test(names)) {
    family = 'mae';
  } else if (ctx.get(`${P}dist_token`)) {
    family = 'deit-distilled';
  } else if (/deit/.test(names)) {
    family = 'deit';
  } else {
    family = 'timm-vit';
  }
  const d = emptyDraft(family);
  const blocks: VitBlockWeights[] = [];
  let weightsHeads: number | undefined;
  for (let i = 0; i < layers; i++) {
    const b = `${blockHead}${i}.`;
    const w: VitBlockWeights = {
      ln1W: `${b}norm1.weight`, ln1B: `${b}norm1.bias`,
      qkvW: `${b}attn.qkv.weight`,
      projW: `${b}attn.proj.weight`, projB: `${b}attn.proj.bias`,
      ln2W: `${b}norm2.weight`, ln2B: `${b}norm2.bias`,
      fc1W: `${b}mlp.fc1.weight`, fc1B: `${b}mlp.fc1.bias`,
      fc2W: `${b}mlp.fc2.weight`, fc2B: `${b}mlp.fc2.bias`,
    };
    const qkvB = opt(ctx, `${b}attn.qkv.bias`);
    if (qkvB) w.qkvB = qkvB;
    const qB = opt(ctx, `${b}attn.q_bias`);
    const vB = opt(ctx, `${b}attn.v_bias`);
    if (qB && vB && !qkvB) {
      w.qB = qB;
      w.vB = vB;
    }
    const g1 = opt(ctx, `${b}gamma_1`) ?? opt(ctx, `${b}ls1.gamma`);
    const g2 = opt(ctx, `${b}gamma_2`) ?? opt(ctx, `${b}ls2.gamma`);
    if (g1) w.gamma1 = g1;
    if (g2) w.gamma2 = g2;
    const rel = opt(ctx, `${b}attn.relative_position_bias_table`);
    if (rel) {
      w.relPosTable = rel;
      const idx = opt(ctx, `${b}attn.relative_position_index`);
      if (idx) w.relPosIndex = idx;
      const s = ctx.shape(rel);
      if (s && s.length === 2 && i === 0) weightsHeads = s[1];
    }
    blocks.push(w);
  }
  const shared = opt(ctx, `${P}rel_pos_bias.relative_position_bias_table`);
  const sharedIdx = opt(ctx, `${P}rel_pos_bias.relative_position_index`);
  if (shared) {
    const s = ctx.shape(shared);
    if (s && s.length === 2) weightsHeads = s[1];
  }
  // Token count when there is no absolute position embedding: from the relative position index or table.
  let n: number | undefined;
  const posEmbed = opt(ctx, `${P}pos_embed`);
  if (!posEmbed) {
    const idxName = blocks[0]?.relPosIndex ?? sharedIdx;
    const tableName = blocks[0]?.relPosTable ?? shared;
    const is = idxName ? ctx.shape(idxName) : undefined;
    if (is && is.length === 2 && is[0] === is[1]) n = (is[0] as number) - 1;
    else if (tableName) {
      const ts = ctx.shape(tableName);
      const w = ts ? intSqrt((ts[0] as number) - 3) : undefined;
      if (w !== undefined && w % 2 === 1) n = ((w + 1) / 2) ** 2;
    }
  }
  const unsupported: string[] = [];
  if (ctx.get(`${P}reg_token`)) unsupported.push('register tokens (reg_token)');
  if (ctx.get(`${P}norm_pre.weight`)) unsupported.push('pre-norm before the blocks (norm_pre)');
  if (ctx.get(`${P}patch_embed.norm.weight`)) unsupported.push('normalisation inside the patch embedding');
  if (family === 'mae') {
    const dec = ctx.ckpt.tensors.filter((t) => t.name.startsWith(`${P}decoder_`) || t.name === `${P}mask_token`);
    if (dec.length) {
      d.details['decoderTensors'] = dec.length;
      d.details['decoderParams'] = dec.reduce((s, t) => s + numel(t), 0);
      d.details['decoderNote'] = 'MAE decoder present; analysis uses the encoder only';
    }
  }
  const known = [
    'norm1.weight', 'norm1.bias', 'attn.qkv.weight', 'attn.qkv.bias', 'attn.proj.weight', 'attn.proj.bias',
    'norm2.weight', 'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias',
    'ls1.gamma', 'ls2.gamma', 'gamma_1', 'gamma_2', 'attn.q_bias', 'attn.v_bias',
    'attn.relative_position_bias_table', 'attn.relative_position_index',
  ];
  return finishVit(ctx, d, {
    family, prefix: P, blockHead, patchW: `${P}patch_embed.proj.weight`, patchB: opt(ctx, `${P}patch_embed.proj.bias`),
    clsToken: opt(ctx, `${P}cls_token`), distToken: opt(ctx, `${P}dist_token`), posEmbed, blocks, known, weightsHeads, n,
    headsPrefer: 'vit', sharedRelPosTable: shared, sharedRelPosIndex: sharedIdx, unsupported,
  });
}

/** HuggingFace ViTModel / ViTForImageClassification (separate query/key/value). */
function recognizeHf(ctx: Ctx): Draft | undefined {
  const anchor = 'embeddings.patch_embeddings.projection.weight';
  const prefix = ctx.prefixesFor(anchor).find((p) => ctx.countIndexed(`${p}encoder.layer.`) > 0);
  if (prefix === undefined) return undefined;
  const P = prefix;
  const blockHead = `${P}encoder.layer.`;
  const layers = ctx.countIndexed(blockHead);
  const blocks: VitBlockWeights[] = [];
  for (let i = 0; i < layers; i++) {
    const b = `${blockHead}${i}.`;
    const w: VitBlockWeights = {
      ln1W: `${b}layernorm_before.weight`, ln1B: `${b}layernorm_before.bias`,
      qW: `${b}attention.attention.query.weight`, kW: `${b}attention.attention.key.weight`, vW: `${b}attention.attention.value.weight`,
      projW: `${b}attention.output.dense.weight`, projB: `${b}attention.output.dense.bias`,
      ln2W: `${b}layernorm_after.weight`, ln2B: `${b}layernorm_after.bias`,
      fc1W: `${b}intermediate.dense.weight`, fc1B: `${b}intermediate.dense.bias`,
      fc2W: `${b}output.dense.weight`, fc2B: `${b}output.dense.bias`,
    };
    const qB = opt(ctx, `${b}attention.attention.query.bias`);
    const kB = opt(ctx, `${b}attention.attention.key.bias`);
    const vB = opt(ctx, `${b}attention.attention.value.bias`);
    if (qB) w.qB = qB;
    if (kB) w.kB = kB;
    if (vB) w.vB = vB;
    blocks.push(w);
  }
  const known = [
    'layernorm_before.weight', 'layernorm_before.bias', 'attention.attention.query.weight', 'attention.attention.query.bias',
    'attention.attention.key.weight', 'attention.attention.key.bias', 'attention.attention.value.weight',
    'attention.attention.value.bias', 'attention.output.dense.weight', 'attention.output.dense.bias',
    'layernorm_after.weight', 'layernorm_after.bias', 'intermediate.dense.weight', 'intermediate.dense.bias',
    'output.dense.weight', 'output.dense.bias',
  ];
  const d = emptyDraft('hf-vit');
  const unsupported: string[] = [];
  const modelType = ctx.cfg.raw?.['model_type'];
  if (typeof modelType === 'string' && modelType !== 'vit' && modelType !== 'vit_mae' && modelType !== 'deit') {
    unsupported.push(`HF model_type "${modelType}"`);
  }
  if (typeof modelType === 'string') d.details['modelType'] = modelType;
  return finishVit(ctx, d, {
    family: 'hf-vit', prefix: P, blockHead, patchW: `${P}${anchor}`, patchB: opt(ctx, `${P}embeddings.patch_embeddings.projection.bias`),
    clsToken: opt(ctx, `${P}embeddings.cls_token`), distToken: opt(ctx, `${P}embeddings.distillation_token`),
    posEmbed: opt(ctx, `${P}embeddings.position_embeddings`), blocks, known, unsupported,
  });
}

/** torchvision `vit_*`: `conv_proj`, `encoder.layers.encoder_layer_N`, MultiheadAttention in_proj. */
function recognizeTorchvision(ctx: Ctx): Draft | undefined {
  const prefix = ctx.prefixesFor('conv_proj.weight').find((p) => ctx.countIndexed(`${p}encoder.layers.encoder_layer_`) > 0);
  if (prefix === undefined) return undefined;
  const P = prefix;
  const blockHead = `${P}encoder.layers.encoder_layer_`;
  const layers = ctx.countIndexed(blockHead);
  const blocks: VitBlockWeights[] = [];
  for (let i = 0; i < layers; i++) {
    const b = `${blockHead}${i}.`;
    // Newer torchvision names the MLP linears mlp.0 / mlp.3; older releases mlp.linear_1 / mlp.linear_2.
    const old = ctx.get(`${b}mlp.linear_1.weight`) !== undefined;
    const l1 = old ? 'mlp.linear_1' : 'mlp.0';
    const l2 = old ? 'mlp.linear_2' : 'mlp.3';
    blocks.push({
      ln1W: `${b}ln_1.weight`, ln1B: `${b}ln_1.bias`,
      qkvW: `${b}self_attention.in_proj_weight`, qkvB: `${b}self_attention.in_proj_bias`,
      projW: `${b}self_attention.out_proj.weight`, projB: `${b}self_attention.out_proj.bias`,
      ln2W: `${b}ln_2.weight`, ln2B: `${b}ln_2.bias`,
      fc1W: `${b}${l1}.weight`, fc1B: `${b}${l1}.bias`, fc2W: `${b}${l2}.weight`, fc2B: `${b}${l2}.bias`,
    });
  }
  const known = [
    'ln_1.weight', 'ln_1.bias', 'self_attention.in_proj_weight', 'self_attention.in_proj_bias',
    'self_attention.out_proj.weight', 'self_attention.out_proj.bias', 'ln_2.weight', 'ln_2.bias',
    'mlp.0.weight', 'mlp.0.bias', 'mlp.3.weight', 'mlp.3.bias',
    'mlp.linear_1.weight', 'mlp.linear_1.bias', 'mlp.linear_2.weight', 'mlp.linear_2.bias',
  ];
  const d = emptyDraft('torchvision-vit');
  return finishVit(ctx, d, {
    family: 'torchvision-vit', prefix: P, blockHead, patchW: `${P}conv_proj.weight`, patchB: opt(ctx, `${P}conv_proj.bias`),
    clsToken: opt(ctx, `${P}class_token`), posEmbed: opt(ctx, `${P}encoder.pos_embedding`), blocks, known,
  });
}

/** Swin: recognized and summarized (stages, depths, heads per stage, window size); not analyzable yet. */
function recognizeSwin(ctx: Ctx): Draft | undefined {
  const prefix = ctx.prefixesFor('layers.0.blocks.0.attn.relative_position_bias_table')
    .find((p) => ctx.get(`${p}patch_embed.proj.weight`) !== undefined);
  if (prefix === undefined) return undefined;
  const P = prefix;
  const d = emptyDraft('swin');
  const stages = ctx.countIndexed(`${P}layers.`);
  const depths: number[] = [];
  const heads: number[] = [];
  const dims: number[] = [];
  let window: number | undefined;
  let windowMixed = false;
  for (let s = 0; s < stages; s++) {
    const depth = ctx.countIndexed(`${P}layers.${s}.blocks.`);
    depths.push(depth);
    const t = ctx.shape(`${P}layers.${s}.blocks.0.attn.relative_position_bias_table`);
    heads.push(t && t.length === 2 ? (t[1] as number) : 0);
    const q = ctx.shape(`${P}layers.${s}.blocks.0.attn.qkv.weight`) ?? ctx.shape(`${P}layers.${s}.blocks.0.norm1.weight`);
    dims.push(q ? (q[q.length - 1] as number) : 0);
    const r = t ? intSqrt(t[0] as number) : undefined;
    const w = r !== undefined && r % 2 === 1 ? (r + 1) / 2 : undefined;
    if (w !== undefined) {
      if (window !== undefined && window !== w) windowMixed = true;
      window ??= w;
    }
  }
  const pw = ctx.shape(`${P}patch_embed.proj.weight`);
  if (pw && pw.length === 4) {
    d.dim = pw[0] as number;
    d.patchSize = [pw[2] as number, pw[3] as number];
  }
  d.layers = depths.reduce((a, b) => a + b, 0);
  d.specialTokens = 0;
  d.headsSource = 'weights';
  // Input size from a shifted-window mask [nW, w², w²] of the first stage, else from the config.
  if (d.patchSize && window !== undefined) {
    for (let j = 0; j < (depths[0] ?? 0); j++) {
      const m = ctx.shape(`${P}layers.0.blocks.${j}.attn_mask`);
      if (m && m.length === 3) {
        const side = intSqrt(m[0] as number);
        if (side !== undefined) d.imageSize = [side * window * d.patchSize[0], side * window * d.patchSize[1]];
        break;
      }
    }
  }
  if (!d.imageSize) {
    const size = ctx.cfg.imageSize();
    if (size) d.imageSize = size;
  }
  const o = ctx.opts.headsOverride;
  if (o !== undefined) d.details['headsOverrideIgnored'] = 'Swin heads are read per stage from the weights';
  d.details = { ...d.details, stages, depths, heads, dims, windowSize: windowMixed ? 'mixed' : window ?? null };
  if (P) d.details['prefix'] = P;
  d.notAnalyzable = 'Swin (windowed attention over shifting windows) is recognized but not analyzable yet';
  return d;
}
