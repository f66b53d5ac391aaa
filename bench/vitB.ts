// A ViT-B/16-sized model with random weights (timm layout: fused qkv, CLS token, learned position
// embedding), for the benchmark and the engine tests. Weights are generated on demand, deterministic.
import type { ModelSummary, VitSpec, VitBlockWeights } from '../src/model/modelTypes';

export interface RandomVit {
  spec: VitSpec;
  summary: ModelSummary;
  weights: (name: string) => Promise<Float32Array>;
  params: number;
}

/**
 * The families the bench compares with timm's ViT at the same width: `clip` (OpenAI CLIP visual tower:
 * QuickGELU, ln_pre after the position embedding, no patch bias, CLIP mean/std) and `dinov2` (LayerScale
 * γ in every block; patch 14 gives 257 tokens at 224 px, 4 registers with `registers`).
 */
export type RandomVitFlavour = 'timm' | 'clip' | 'dinov2';

export function randomVit(opts: { layers?: number; dim?: number; heads?: number; patch?: number; image?: number; mlpRatio?: number; seed?: number; std?: number; flavour?: RandomVitFlavour; registers?: number } = {}): RandomVit {
  const layers = opts.layers ?? 12;
  const dim = opts.dim ?? 768;
  const heads = opts.heads ?? 12;
  const patch = opts.patch ?? 16;
  const image = opts.image ?? 224;
  const mlp = dim * (opts.mlpRatio ?? 4);
  const n = (image / patch) ** 2;
  const sizes = new Map<string, { len: number; kind: 'rand' | 'ones' | 'zeros' }>();
  const add = (name: string, len: number, kind: 'rand' | 'ones' | 'zeros' = 'rand'): string => {
    sizes.set(name, { len, kind });
    return name;
  };
  const flavour = opts.flavour ?? 'timm';
  const registers = flavour === 'dinov2' ? opts.registers ?? 0 : 0;
  const blocks: VitBlockWeights[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}.`;
    const layerScale = flavour === 'dinov2' ? { gamma1: add(`${p}ls1.gamma`, dim), gamma2: add(`${p}ls2.gamma`, dim) } : {};
    blocks.push({
      ...layerScale,
      ln1W: add(`${p}norm1.weight`, dim, 'ones'), ln1B: add(`${p}norm1.bias`, dim, 'zeros'),
      qkvW: add(`${p}attn.qkv.weight`, 3 * dim * dim), qkvB: add(`${p}attn.qkv.bias`, 3 * dim, 'zeros'),
      projW: add(`${p}attn.proj.weight`, dim * dim), projB: add(`${p}attn.proj.bias`, dim, 'zeros'),
      ln2W: add(`${p}norm2.weight`, dim, 'ones'), ln2B: add(`${p}norm2.bias`, dim, 'zeros'),
      fc1W: add(`${p}mlp.fc1.weight`, mlp * dim), fc1B: add(`${p}mlp.fc1.bias`, mlp, 'zeros'),
      fc2W: add(`${p}mlp.fc2.weight`, dim * mlp), fc2B: add(`${p}mlp.fc2.bias`, dim, 'zeros'),
    });
  }
  const clip = flavour === 'clip';
  const spec: VitSpec = {
    family: clip ? 'clip' : flavour === 'dinov2' ? 'dinov2' : 'timm-vit', layers, heads, dim, mlpDim: mlp, inChans: 3,
    patchSize: [patch, patch], imageSize: [image, image], specialTokens: 1 + registers, lnEps: clip ? 1e-5 : 1e-6,
    mean: clip ? [0.48145466, 0.4578275, 0.40821073] : [0.485, 0.456, 0.406], std: clip ? [0.26862954, 0.26130258, 0.27577711] : [0.229, 0.224, 0.225],
    ...(clip ? { activation: 'quick_gelu' as const } : {}),
    weights: {
      patchW: add('patch_embed.proj.weight', dim * 3 * patch * patch),
      ...(clip ? { preNormW: add('ln_pre.weight', dim, 'ones'), preNormB: add('ln_pre.bias', dim, 'zeros') } : { patchB: add('patch_embed.proj.bias', dim, 'zeros') }),
      clsToken: add('cls_token', dim),
      posEmbed: add('pos_embed', (n + 1) * dim),
      ...(registers > 0 ? { registerTokens: add('register_tokens', registers * dim) } : {}),
      blocks,
    },
  };
  let params = 0;
  for (const v of sizes.values()) params += v.len;
  const seed = opts.seed ?? 1;
  const weights = async (name: string): Promise<Float32Array> => {
    const s = sizes.get(name);
    if (!s) throw new Error(`no weight ${name}`);
    const out = new Float32Array(s.len);
    if (s.kind === 'ones') out.fill(1);
    if (s.kind !== 'rand') return out;
    // xorshift32 seeded by the name; uniform with the given std (default 0.02, timm's init scale).
    fillUniform(out, nameState(seed, name), opts.std ?? 0.02);
    return out;
  };
  const summary: ModelSummary = {
    file: `(random ${flavour} ViT ${layers}x${dim}, ${heads} heads, patch ${patch}, ${image} px)`, format: 'in-memory', family: spec.family,
    layers, heads, headsSource: 'override', dim, patchSize: [patch, patch], imageSize: [image, image], specialTokens: spec.specialTokens,
    params, dtype: 'F32', dtypes: { F32: params },
  };
  return { spec, summary, weights, params };
}

/** Multiply-accumulates ×2 of one forward pass of a timm ViT at one image (reductions excluded). */
export function vitFlopsPerImage(spec: VitSpec): number {
  const n = (spec.imageSize[0] / spec.patchSize[0]) * (spec.imageSize[1] / spec.patchSize[1]);
  const t = n + spec.specialTokens;
  const d = spec.dim;
  const perLayer = 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d + 2 * 2 * t * d * spec.mlpDim;
  return spec.layers * perLayer + 2 * n * d * spec.inChans * spec.patchSize[0] * spec.patchSize[1];
}

/** Fills `out` with xorshift32 uniform values of standard deviation `std`, from a non-zero 32-bit state. */
export function fillUniform(out: Float32Array, state: number, std: number): void {
  let x = state;
  const half = std * Math.sqrt(3);
  const a = (2 * half) / 4294967296;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = (x >>> 0) * a - half;
  }
}

/** A deterministic 32-bit state from a seed and a tensor name. */
export function nameState(seed: number, name: string): number {
  let x = seed * 2654435761;
  for (let i = 0; i < name.length; i++) x = Math.imul(x ^ name.charCodeAt(i), 16777619);
  return (x >>> 0) || 1;
}
