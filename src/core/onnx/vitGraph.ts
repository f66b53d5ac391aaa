// Rebuilds a pre-norm ViT forward pass from recognized weights as an ONNX model whose only outputs
// are the per-batch reductions of the analysis contract. Linear weights are transposed to [in,out]
// and constant factors (attention scale, layer scale, patch bias) are folded into the weights at
// build time, so the runtime sees the plain MatMul/LayerNormalization/Softmax pattern it optimizes.
import { ModelLensError } from '../errors';
import type { VitBlockWeights, VitSpec } from '../archTypes';
import { OnnxDataType, OnnxGraphBuilder, attrFloat, attrInt, attrInts } from './onnxBuilder';
import { OUTPUT_ATTN_DIST, OUTPUT_GRAM, OUTPUT_KL, addAttentionReductions, addContractOutputs, addGram, patchDistanceMatrix } from './reductions';

export const INPUT_PIXELS = 'pixel_values';

export interface AnalysisGraph {
  model: Uint8Array;
  inputName: 'pixel_values';
  outputNames: { attnDistSum: 'attn_dist_sum'; klSum: 'kl_sum'; gram: 'gram' };
  /** Number of nodes in the graph (for reports and tests). */
  nodeCount: number;
  /** Milliseconds spent building (weights callback included). */
  buildMs: number;
}

export interface ForwardGraph {
  model: Uint8Array;
  inputName: 'pixel_values';
  /** Per layer: softmax output [B,H,T,T]. */
  probNames: string[];
  /** Per layer: block output [B,T,D]. */
  blockNames: string[];
  nodeCount: number;
}

export interface VitGraphOptions {
  /** File named in errors (the checkpoint). */
  file?: string;
  /**
   * Centre block outputs over the batch before the Gram product (default true). HSIC/CKA are
   * unchanged (the unbiased estimator is shift-invariant); float32 accuracy is much better.
   * false gives the literal X Xᵀ.
   */
  centerGram?: boolean;
}

type WeightFn = (name: string) => Promise<Float32Array>;

interface Geometry {
  d: number;
  h: number;
  hd: number;
  grid: [number, number];
  n: number;
  s: number;
  t: number;
}

function geometry(spec: VitSpec, file: string): Geometry {
  const bad = (msg: string): never => {
    throw new ModelLensError('not-analyzable', file, msg);
  };
  const { dim: d, heads: h, patchSize, imageSize } = spec;
  if (!(d > 0 && h > 0 && Number.isInteger(d) && Number.isInteger(h))) bad(`invalid dim ${d} / heads ${h}`);
  if (d % h !== 0) bad(`embedding dim ${d} is not divisible by ${h} heads`);
  const [ph, pw] = patchSize;
  const [ih, iw] = imageSize;
  if (!(ph > 0 && pw > 0 && ih > 0 && iw > 0)) bad('invalid patch or image size');
  if (ih % ph !== 0 || iw % pw !== 0) bad(`image size ${ih}×${iw} is not a multiple of the patch size ${ph}×${pw}`);
  const grid: [number, number] = [ih / ph, iw / pw];
  const n = grid[0] * grid[1];
  const s = spec.specialTokens;
  return { d, h, hd: d / h, grid, n, s, t: n + s };
}

/** [out,in] (PyTorch Linear) rows r0..r0+rows-1 -> [in,rows] scaled by `scale` (and per-column `colScale`). */
function linearT(w: Float32Array, inDim: number, r0: number, rows: number, scale = 1, colScale?: Float32Array): Float32Array {
  const out = new Float32Array(inDim * rows);
  for (let r = 0; r < rows; r++) {
    const src = (r0 + r) * inDim;
    const f = scale * (colScale ? colScale[r]! : 1);
    for (let c = 0; c < inDim; c++) out[c * rows + r] = w[src + c]! * f;
  }
  return out;
}

function scaled(v: Float32Array, start: number, len: number, scale = 1, colScale?: Float32Array): Float32Array {
  const out = new Float32Array(len);
  for (let i = 0; i < len; i++) out[i] = v[start + i]! * scale * (colScale ? colScale[i]! : 1);
  return out;
}

/**
 * BEiT relative position index for a gh×gw window with one class token: patch pairs index the
 * (2gh−1)(2gw−1) relative offsets, then cls→token, token→cls and cls→cls use the last three rows.
 */
export function relativePositionIndex(grid: [number, number], specialTokens: number): Int32Array {
  const [gh, gw] = grid;
  const n = gh * gw;
  const numRel = (2 * gh - 1) * (2 * gw - 1);
  const t = n + specialTokens;
  const idx = new Int32Array(t * t);
  for (let a = 0; a < n; a++) {
    const ra = Math.floor(a / gw);
    const ca = a % gw;
    for (let b = 0; b < n; b++) {
      const dr = ra - Math.floor(b / gw) + gh - 1;
      const dc = ca - (b % gw) + gw - 1;
      idx[(a + specialTokens) * t + (b + specialTokens)] = dr * (2 * gw - 1) + dc;
    }
  }
  if (specialTokens === 1) {
    for (let j = 0; j < t; j++) idx[j] = numRel; // cls -> token
    for (let i = 0; i < t; i++) idx[i * t] = numRel + 1; // token -> cls
    idx[0] = numRel + 2;
  }
  return idx;
}

/**
 * Gathers the [H,T,T] bias from a BEiT table [numRel(+3), H], with the checkpoint's own
 * relative_position_index when it has one (else the index BEiT computes).
 */
function relativeBias(table: Float32Array, heads: number, grid: [number, number], s: number, file: string, name: string, ckptIndex?: Float32Array): Float32Array {
  const numRel = (2 * grid[0] - 1) * (2 * grid[1] - 1) + (s === 1 ? 3 : 0);
  if (s > 1) throw new ModelLensError('not-analyzable', file, `relative position bias with ${s} special tokens is not supported`);
  if (table.length !== numRel * heads) {
    throw new ModelLensError('not-analyzable', file, `${name} has ${table.length} values; a ${grid[0]}×${grid[1]} window with ${heads} heads needs ${numRel}×${heads} (the image size must match the pretraining window; table interpolation is not supported)`);
  }
  let idx: ArrayLike<number> = relativePositionIndex(grid, s);
  if (ckptIndex) {
    if (ckptIndex.length !== idx.length) {
      throw new ModelLensError('not-analyzable', file, `the relative_position_index beside ${name} has ${ckptIndex.length} entries; ${grid[0]}×${grid[1]} patches + ${s} need ${idx.length}`);
    }
    for (let k = 0; k < ckptIndex.length; k++) {
      const v = ckptIndex[k]!;
      if (!Number.isInteger(v) || v < 0 || v >= numRel) throw new ModelLensError('corrupt', file, `relative_position_index beside ${name} has entry ${v} outside the table (0..${numRel - 1})`);
    }
    idx = ckptIndex;
  }
  const tt = idx.length;
  const out = new Float32Array(heads * tt);
  for (let h = 0; h < heads; h++) for (let k = 0; k < tt; k++) out[h * tt + k] = table[idx[k]! * heads + h]!;
  return out;
}

async function fetchChecked(weights: WeightFn, name: string, expected: number, file: string): Promise<Float32Array> {
  const w = await weights(name);
  if (w.length !== expected) {
    throw new ModelLensError('not-analyzable', file, `tensor ${name} has ${w.length} elements; the recognized architecture needs ${expected}`);
  }
  return w;
}

interface BuiltForward {
  g: OnnxGraphBuilder;
  probs: string[];
  blocks: string[];
  geo: Geometry;
}

async function buildForward(spec: VitSpec, weights: WeightFn, file: string, afterSoftmax?: (g: OnnxGraphBuilder, probs: string) => void, afterBlock?: (g: OnnxGraphBuilder, x: string) => void): Promise<BuiltForward> {
  const geo = geometry(spec, file);
  const { d, h, hd, grid, n, s, t } = geo;
  const [ph, pw] = spec.patchSize;
  const c = spec.inChans;
  const W = spec.weights;
  if (spec.layers !== W.blocks.length) throw new ModelLensError('not-analyzable', file, `spec says ${spec.layers} layers but lists ${W.blocks.length} blocks`);
  const g = new OnnxGraphBuilder('model_lens_vit');
  const pixels = g.input(INPUT_PIXELS, OnnxDataType.FLOAT, ['batch', c, spec.imageSize[0], spec.imageSize[1]]);

  // Patch embedding; the conv bias and the patch part of the position embedding are folded into one add.
  const patchW = await fetchChecked(weights, W.patchW, d * c * ph * pw, file);
  const conv = g.op('Conv', [pixels, g.f32('patch_embed_w', [d, c, ph, pw], patchW)], { kernel_shape: attrInts([ph, pw]), strides: attrInts([ph, pw]) }, 'patch_conv');
  const tokens = g.op('Transpose', [g.op('Reshape', [conv, g.i64([0, d, n])], undefined, 'patch_flat')], { perm: attrInts([0, 2, 1]) }, 'patch_tokens');
  const patchAdd = new Float32Array(n * d);
  if (W.patchB) {
    const b = await fetchChecked(weights, W.patchB, d, file);
    for (let i = 0; i < n; i++) patchAdd.set(b, i * d);
  }
  const special = new Float32Array(s * d);
  const specialNames = [W.clsToken, W.distToken].filter((x): x is string => x !== undefined);
  if (specialNames.length !== s) {
    throw new ModelLensError('not-analyzable', file, `spec declares ${s} special tokens but names ${specialNames.length} token tensors`);
  }
  for (let k = 0; k < s; k++) special.set(await fetchChecked(weights, specialNames[k]!, d, file), k * d);
  if (W.posEmbed) {
    const pos = await weights(W.posEmbed);
    if (pos.length === t * d) {
      for (let i = 0; i < s * d; i++) special[i]! += pos[i]!;
      for (let i = 0; i < n * d; i++) patchAdd[i]! += pos[s * d + i]!;
    } else if (pos.length === n * d) {
      // Position embedding for patches only (class token added without one).
      for (let i = 0; i < n * d; i++) patchAdd[i]! += pos[i]!;
    } else {
      const tokensInPos = pos.length / d;
      throw new ModelLensError(
        'not-analyzable',
        file,
        `the position embedding has ${tokensInPos} tokens but a ${spec.imageSize[0]}×${spec.imageSize[1]} input with patch ${ph}×${pw} gives ${t} (${grid[0]}×${grid[1]} patches + ${s}); analyze at the input size the model was trained at (position-embedding interpolation is not supported)`,
      );
    }
  }
  let x = g.op('Add', [tokens, g.f32('patch_pos', [1, n, d], patchAdd)], undefined, 'patch_tokens_pos');
  if (s > 0) {
    const batch = g.op('Slice', [g.op('Shape', [pixels], undefined, 'pixel_shape'), g.i64([0]), g.i64([1])], undefined, 'batch_dim');
    const specShape = g.op('Concat', [batch, g.i64([s, d])], { axis: attrInt(0) }, 'special_shape');
    const specialB = g.op('Expand', [g.f32('special_tokens', [1, s, d], special), specShape], undefined, 'special_b');
    x = g.op('Concat', [specialB, x], { axis: attrInt(1) }, 'tokens');
  }

  const scale = 1 / Math.sqrt(hd);
  const sharedBias = W.sharedRelPosTable
    ? relativeBias(await weights(W.sharedRelPosTable), h, grid, s, file, W.sharedRelPosTable, W.sharedRelPosIndex ? await weights(W.sharedRelPosIndex) : undefined)
    : undefined;
  const sharedBiasName = sharedBias ? g.f32('rel_pos_bias_shared', [h, t, t], sharedBias) : undefined;
  const probs: string[] = [];
  const blocks: string[] = [];
  const lnAttrs = { axis: attrInt(-1), epsilon: attrFloat(spec.lnEps) };
  const mlp = spec.mlpDim;

  for (let l = 0; l < spec.layers; l++) {
    const B: VitBlockWeights = W.blocks[l]!;
    const vec = (name: string, len: number): Promise<Float32Array> => fetchChecked(weights, name, len, file);
    const ln1 = g.op('LayerNormalization', [x, g.f32(`l${l}_ln1_w`, [d], await vec(B.ln1W, d)), g.f32(`l${l}_ln1_b`, [d], await vec(B.ln1B, d))], lnAttrs, `l${l}_ln1`);

    // q, k, v as three [D,D] projections (q pre-scaled by head_dim^-0.5).
    let qW: Float32Array, kW: Float32Array, vW: Float32Array;
    let qB: Float32Array | undefined, kB: Float32Array | undefined, vB: Float32Array | undefined;
    if (B.qkvW) {
      const w = await vec(B.qkvW, 3 * d * d);
      qW = linearT(w, d, 0, d, scale);
      kW = linearT(w, d, d, d);
      vW = linearT(w, d, 2 * d, d);
      if (B.qkvB) {
        const b = await vec(B.qkvB, 3 * d);
        qB = scaled(b, 0, d, scale);
        kB = scaled(b, d, d);
        vB = scaled(b, 2 * d, d);
      }
    } else if (B.qW && B.kW && B.vW) {
      qW = linearT(await vec(B.qW, d * d), d, 0, d, scale);
      kW = linearT(await vec(B.kW, d * d), d, 0, d);
      vW = linearT(await vec(B.vW, d * d), d, 0, d);
    } else {
      throw new ModelLensError('not-analyzable', file, `block ${l}: no qkv or q/k/v projection weights`);
    }
    // BEiT-style separate biases (q_bias, v_bias; k has none) or HF per-projection biases.
    if (!B.qkvB) {
      if (B.qB) qB = scaled(await vec(B.qB, d), 0, d, scale);
      if (B.kB) kB = await vec(B.kB, d);
      if (B.vB) vB = await vec(B.vB, d);
    }
    const project = (wT: Float32Array, bias: Float32Array | undefined, tag: string, perm: number[]): string => {
      let y = g.op('MatMul', [ln1, g.f32(`l${l}_${tag}_w`, [d, d], wT)], undefined, `l${l}_${tag}`);
      if (bias) y = g.op('Add', [y, g.f32(`l${l}_${tag}_b`, [d], bias)], undefined, `l${l}_${tag}_biased`);
      const heads = g.op('Reshape', [y, g.i64([0, 0, h, hd])], undefined, `l${l}_${tag}_heads`);
      return g.op('Transpose', [heads], { perm: attrInts(perm) }, `l${l}_${tag}_t`);
    };
    const q = project(qW, qB, 'q', [0, 2, 1, 3]);
    const k = project(kW, kB, 'k', [0, 2, 3, 1]);
    const v = project(vW, vB, 'v', [0, 2, 1, 3]);
    let scores = g.op('MatMul', [q, k], undefined, `l${l}_scores`);
    const biasName = B.relPosTable
      ? g.f32(`l${l}_rel_pos_bias`, [h, t, t], relativeBias(await weights(B.relPosTable), h, grid, s, file, B.relPosTable, B.relPosIndex ? await weights(B.relPosIndex) : undefined))
      : sharedBiasName;
    if (biasName) scores = g.op('Add', [scores, biasName], undefined, `l${l}_scores_biased`);
    const p = g.op('Softmax', [scores], { axis: attrInt(-1) }, `l${l}_attn_probs`);
    probs.push(p);
    afterSoftmax?.(g, p);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [p, v], undefined, `l${l}_ctx`)], { perm: attrInts([0, 2, 1, 3]) }, `l${l}_ctx_t`), g.i64([0, 0, d])], undefined, `l${l}_ctx_flat`);

    const gamma1 = B.gamma1 ? await vec(B.gamma1, d) : undefined;
    const gamma2 = B.gamma2 ? await vec(B.gamma2, d) : undefined;
    const projW = linearT(await vec(B.projW, d * d), d, 0, d, 1, gamma1);
    const projB = scaled(await vec(B.projB, d), 0, d, 1, gamma1);
    const attnOut = g.op('Add', [g.op('MatMul', [ctx, g.f32(`l${l}_proj_w`, [d, d], projW)], undefined, `l${l}_proj`), g.f32(`l${l}_proj_b`, [d], projB)], undefined, `l${l}_proj_biased`);
    x = g.op('Add', [x, attnOut], undefined, `l${l}_resid1`);

    const ln2 = g.op('LayerNormalization', [x, g.f32(`l${l}_ln2_w`, [d], await vec(B.ln2W, d)), g.f32(`l${l}_ln2_b`, [d], await vec(B.ln2B, d))], lnAttrs, `l${l}_ln2`);
    const fc1 = g.op('Add', [g.op('MatMul', [ln2, g.f32(`l${l}_fc1_w`, [d, mlp], linearT(await vec(B.fc1W, mlp * d), d, 0, mlp))], undefined, `l${l}_fc1`), g.f32(`l${l}_fc1_b`, [mlp], await vec(B.fc1B, mlp))], undefined, `l${l}_fc1_biased`);
    // Exact GELU: x·½·(1+erf(x/√2)); onnxruntime fuses this pattern into one Gelu kernel.
    const erf = g.op('Erf', [g.op('Div', [fc1, g.scalar(Math.SQRT2)], undefined, `l${l}_gelu_div`)], undefined, `l${l}_gelu_erf`);
    const gelu = g.op('Mul', [g.op('Mul', [fc1, g.op('Add', [erf, g.scalar(1)], undefined, `l${l}_gelu_add`)], undefined, `l${l}_gelu_mul`), g.scalar(0.5)], undefined, `l${l}_gelu`);
    const fc2W = linearT(await vec(B.fc2W, d * mlp), mlp, 0, d, 1, gamma2);
    const fc2B = scaled(await vec(B.fc2B, d), 0, d, 1, gamma2);
    const mlpOut = g.op('Add', [g.op('MatMul', [gelu, g.f32(`l${l}_fc2_w`, [mlp, d], fc2W)], undefined, `l${l}_fc2`), g.f32(`l${l}_fc2_b`, [d], fc2B)], undefined, `l${l}_fc2_biased`);
    x = g.op('Add', [x, mlpOut], undefined, `l${l}_block_out`);
    blocks.push(x);
    afterBlock?.(g, x);
  }
  return { g, probs, blocks, geo };
}

const MODEL_META = { opset: 17, irVersion: 8, producer: 'model-lens' } as const;

/**
 * Builds the analysis graph of the contract: input `pixel_values` [B,C,H,W] (normalised), outputs
 * `attn_dist_sum` [L,H], `kl_sum` [L,H,H], `gram` [L,B,B]. The input size is `spec.imageSize`; it
 * must match the position embedding (and the BEiT window), else `not-analyzable` is thrown.
 */
export async function buildAnalysisGraph(spec: VitSpec, weights: WeightFn, opts: VitGraphOptions = {}): Promise<AnalysisGraph> {
  const t0 = performance.now();
  const file = opts.file ?? '(analysis graph)';
  const geo = geometry(spec, file);
  const dists: string[] = [];
  const crosses: string[] = [];
  const grams: string[] = [];
  let distVec = '';
  const { g } = await buildForward(
    spec,
    weights,
    file,
    (gb, p) => {
      if (!distVec) distVec = gb.f32('patch_distance', [geo.n * geo.n], patchDistanceMatrix(geo.grid, spec.patchSize));
      const r = addAttentionReductions(gb, p, distVec, geo.n, false);
      dists.push(r.dist);
      crosses.push(r.cross);
    },
    (gb, x) => grams.push(addGram(gb, x, false, 17, opts.centerGram ?? true)),
  );
  addContractOutputs(g, dists, crosses, grams, geo.h);
  const model = g.toModel(MODEL_META);
  return {
    model,
    inputName: INPUT_PIXELS,
    outputNames: { attnDistSum: OUTPUT_ATTN_DIST, klSum: OUTPUT_KL, gram: OUTPUT_GRAM },
    nodeCount: g.nodes.length,
    buildMs: performance.now() - t0,
  };
}

/** The same forward pass with the raw attention maps and block outputs as outputs (tests, debugging). */
export async function buildForwardOnlyGraph(spec: VitSpec, weights: WeightFn, opts: VitGraphOptions = {}): Promise<ForwardGraph> {
  const file = opts.file ?? '(analysis graph)';
  const { g, probs, blocks, geo } = await buildForward(spec, weights, file);
  for (const p of probs) g.output(p, OnnxDataType.FLOAT, ['batch', geo.h, geo.t, geo.t]);
  for (const b of blocks) g.output(b, OnnxDataType.FLOAT, ['batch', geo.t, geo.d]);
  return { model: g.toModel(MODEL_META), inputName: INPUT_PIXELS, probNames: probs, blockNames: blocks, nodeCount: g.nodes.length };
}
