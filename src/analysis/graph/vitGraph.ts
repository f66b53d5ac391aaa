// Rebuilds a pre-norm ViT forward pass from recognized weights as an ONNX model whose only outputs
// are the per-batch reductions of the analysis contract. Linear weights are transposed to [in,out]
// and constant factors (attention scale, layer scale, patch bias) are folded into the weights at
// build time, so the runtime sees the plain MatMul/LayerNormalization/Softmax pattern it optimizes.
import { ModelLensError } from '../../formats/errors';
import type { VitBlockWeights, VitSpec } from '../../model/modelTypes';
import { OnnxDataType, OnnxGraphBuilder, attrFloat, attrInt, attrInts } from './onnxBuilder';
import { OUTPUT_ATTN_DIST, OUTPUT_GRAM, OUTPUT_KL, addAttentionReductions, addContractOutputs, addGram, patchDistanceMatrix, type AttentionReductions } from './reductions';
import type { CkaTokens, DistanceConvention } from '../resultSchema';

export const INPUT_PIXELS = 'pixel_values';

export interface AnalysisGraph {
  model: Uint8Array;
  inputName: 'pixel_values';
  outputNames: { attnDistSum: 'attn_dist_sum'; klSum: 'kl_sum'; gram: 'gram' };
  /** Number of nodes in the graph (for reports and tests). */
  nodeCount: number;
  /** Milliseconds spent building (weights callback included). */
  buildMs: number;
  /**
   * With `weightsAsInputs`: the float tensors that are graph inputs instead of initializers, in input order.
   * Two checkpoints of one architecture give the same names and shapes, so one session serves both.
   */
  weightFeeds?: WeightFeed[];
}

/** A weight tensor fed to the graph at run time. */
export interface WeightFeed {
  name: string;
  dims: readonly number[];
  data: Float32Array;
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
  /** DESIGN.md item 7 (default `renormalised`). */
  distanceConvention?: DistanceConvention;
  /** DESIGN.md item 10 (default `all`). */
  ckaTokens?: CkaTokens;
  /**
   * Emit the per-image outputs (default true). false gives the graph without them (no special mass,
   * entropy or intervals), which the benchmark times against.
   */
  perImage?: boolean;
  /**
   * Make every float tensor of more than one element a graph input (returned as `weightFeeds`) instead of an
   * initializer, so a session built once runs any checkpoint of the same architecture.
   */
  weightsAsInputs?: boolean;
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

/**
 * A copy of a row-major [rows, inDim] weight ([out,in], PyTorch Linear) whose rows r0..r0+n-1 are
 * multiplied by `scale` (and per-row `rowScale`); the other rows are copied unchanged. `inPlace`
 * reuses the array when it is already a private copy.
 */
function rowsScaled(w: Float32Array, inDim: number, r0: number, n: number, scale: number, inPlace = false, rowScale?: Float32Array): Float32Array {
  const out = inPlace ? w : Float32Array.from(w);
  for (let r = 0; r < n; r++) {
    const f = scale * (rowScale ? rowScale[r]! : 1);
    const base = (r0 + r) * inDim;
    for (let c = 0; c < inDim; c++) out[base + c] = out[base + c]! * f;
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

/** The MLP activation of `x`, as the pattern onnxruntime fuses where it has a kernel for it. */
function activation(g: OnnxGraphBuilder, x: string, kind: NonNullable<VitSpec['activation']>, tag: string): string {
  if (kind === 'quick_gelu') {
    // CLIP's QuickGELU: x·σ(1.702·x).
    return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.scalar(1.702)], undefined, `${tag}_qgelu_scale`)], undefined, `${tag}_qgelu_sig`)], undefined, `${tag}_gelu`);
  }
  if (kind === 'gelu_tanh') {
    // ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    const cube = g.op('Mul', [g.op('Mul', [x, x], undefined, `${tag}_tgelu_sq`), x], undefined, `${tag}_tgelu_cube`);
    const inner = g.op('Add', [x, g.op('Mul', [cube, g.scalar(0.044715)], undefined, `${tag}_tgelu_c`)], undefined, `${tag}_tgelu_in`);
    const th = g.op('Tanh', [g.op('Mul', [inner, g.scalar(Math.sqrt(2 / Math.PI))], undefined, `${tag}_tgelu_k`)], undefined, `${tag}_tgelu_tanh`);
    return g.op('Mul', [g.op('Mul', [x, g.op('Add', [th, g.scalar(1)], undefined, `${tag}_tgelu_add`)], undefined, `${tag}_tgelu_mul`), g.scalar(0.5)], undefined, `${tag}_gelu`);
  }
  // Exact GELU: x·½·(1+erf(x/√2)); onnxruntime fuses this pattern into one Gelu kernel.
  const erf = g.op('Erf', [g.op('Div', [x, g.scalar(Math.SQRT2)], undefined, `${tag}_gelu_div`)], undefined, `${tag}_gelu_erf`);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.scalar(1)], undefined, `${tag}_gelu_add`)], undefined, `${tag}_gelu_mul`), g.scalar(0.5)], undefined, `${tag}_gelu`);
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
  // Special tokens in order: class, distillation, registers. Registers have no position embedding.
  const special = new Float32Array(s * d);
  const tokenNames = [W.clsToken, W.distToken].filter((x): x is string => x !== undefined);
  const registers = W.registerTokens ? await weights(W.registerTokens) : new Float32Array(0);
  if (registers.length % d !== 0) throw new ModelLensError('not-analyzable', file, `register tokens ${W.registerTokens ?? ''} have ${registers.length} values, not a multiple of dim ${d}`);
  const r = registers.length / d;
  if (tokenNames.length + r !== s) {
    throw new ModelLensError('not-analyzable', file, `spec declares ${s} special tokens but names ${tokenNames.length} token tensors and ${r} registers`);
  }
  for (let k = 0; k < tokenNames.length; k++) special.set(await fetchChecked(weights, tokenNames[k]!, d, file), k * d);
  special.set(registers, tokenNames.length * d);
  if (W.posEmbed) {
    const pos = await weights(W.posEmbed);
    const withPos = tokenNames.length;
    if (pos.length === (withPos + n) * d) {
      for (let i = 0; i < withPos * d; i++) special[i]! += pos[i]!;
      for (let i = 0; i < n * d; i++) patchAdd[i]! += pos[withPos * d + i]!;
    } else if (pos.length === n * d) {
      // Position embedding for patches only (class token added without one).
      for (let i = 0; i < n * d; i++) patchAdd[i]! += pos[i]!;
    } else {
      const tokensInPos = pos.length / d;
      throw new ModelLensError(
        'not-analyzable',
        file,
        `the position embedding has ${tokensInPos} tokens but a ${spec.imageSize[0]}×${spec.imageSize[1]} input with patch ${ph}×${pw} gives ${withPos + n} (${grid[0]}×${grid[1]} patches + ${withPos}); analyze at the input size the model was trained at (position-embedding interpolation is not supported)`,
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
  const lnAttrs = { axis: attrInt(-1), epsilon: attrFloat(spec.lnEps) };
  if (W.preNormW && W.preNormB) {
    // CLIP's ln_pre: one LayerNorm over every token before the first block.
    x = g.op('LayerNormalization', [x, g.f32('ln_pre_w', [d], await fetchChecked(weights, W.preNormW, d, file)), g.f32('ln_pre_b', [d], await fetchChecked(weights, W.preNormB, d, file))], lnAttrs, 'ln_pre');
  }

  const scale = 1 / Math.sqrt(hd);
  const sharedBias = W.sharedRelPosTable
    ? relativeBias(await weights(W.sharedRelPosTable), h, grid, s, file, W.sharedRelPosTable, W.sharedRelPosIndex ? await weights(W.sharedRelPosIndex) : undefined)
    : undefined;
  const sharedBiasName = sharedBias ? g.f32('rel_pos_bias_shared', [h, t, t], sharedBias) : undefined;
  const probs: string[] = [];
  const blocks: string[] = [];
  const mlp = spec.mlpDim;

  // The residual stream is kept 2-D [B·T, D] so every projection is one Gemm with the PyTorch
  // [out,in] weight used as is (transB=1, no transposed copy) and its bias fused in.
  x = g.op('Reshape', [x, g.i64([-1, d])], undefined, 'stream');
  const gemm = (input: string, w: Float32Array, outDim: number, inDim: number, bias: Float32Array | undefined, tag: string): string => {
    const ins = [input, g.f32(`${tag}_w`, [outDim, inDim], w)];
    if (bias) ins.push(g.f32(`${tag}_b`, [outDim], bias));
    return g.op('Gemm', ins, { transB: attrInt(1) }, tag);
  };
  const split3 = g.i64([d, d, d]);

  for (let l = 0; l < spec.layers; l++) {
    const B: VitBlockWeights = W.blocks[l]!;
    const vec = (name: string, len: number): Promise<Float32Array> => fetchChecked(weights, name, len, file);
    const ln1 = g.op('LayerNormalization', [x, g.f32(`l${l}_ln1_w`, [d], await vec(B.ln1W, d)), g.f32(`l${l}_ln1_b`, [d], await vec(B.ln1B, d))], lnAttrs, `l${l}_ln1`);

    // One fused [3D, D] projection; q rows pre-scaled by head_dim^-0.5.
    let qkvW: Float32Array;
    if (B.qkvW) qkvW = rowsScaled(await vec(B.qkvW, 3 * d * d), d, 0, d, scale);
    else if (B.qW && B.kW && B.vW) {
      qkvW = new Float32Array(3 * d * d);
      qkvW.set(await vec(B.qW, d * d), 0);
      qkvW.set(await vec(B.kW, d * d), d * d);
      qkvW.set(await vec(B.vW, d * d), 2 * d * d);
      qkvW = rowsScaled(qkvW, d, 0, d, scale, true);
    } else {
      throw new ModelLensError('not-analyzable', file, `block ${l}: no qkv or q/k/v projection weights`);
    }
    // Biases: fused qkv, BEiT-style q_bias/v_bias (k has none), or HF per-projection biases.
    let qkvB: Float32Array | undefined;
    if (B.qkvB) qkvB = Float32Array.from(await vec(B.qkvB, 3 * d));
    else if (B.qB || B.kB || B.vB) {
      qkvB = new Float32Array(3 * d);
      if (B.qB) qkvB.set(await vec(B.qB, d), 0);
      if (B.kB) qkvB.set(await vec(B.kB, d), d);
      if (B.vB) qkvB.set(await vec(B.vB, d), 2 * d);
    }
    if (qkvB) for (let i = 0; i < d; i++) qkvB[i] = qkvB[i]! * scale;
    const qkv = gemm(ln1, qkvW, 3 * d, d, qkvB, `l${l}_qkv`);
    const parts = [g.fresh(`l${l}_q2d`), g.fresh(`l${l}_k2d`), g.fresh(`l${l}_v2d`)];
    g.node('Split', [qkv, split3], parts, { axis: attrInt(1) });
    const heads = (y: string, perm: number[], tag: string): string =>
      g.op('Transpose', [g.op('Reshape', [y, g.i64([-1, t, h, hd])], undefined, `l${l}_${tag}_heads`)], { perm: attrInts(perm) }, `l${l}_${tag}_t`);
    const q = heads(parts[0]!, [0, 2, 1, 3], 'q');
    const k = heads(parts[1]!, [0, 2, 3, 1], 'k');
    const v = heads(parts[2]!, [0, 2, 1, 3], 'v');
    let scores = g.op('MatMul', [q, k], undefined, `l${l}_scores`);
    const biasName = B.relPosTable
      ? g.f32(`l${l}_rel_pos_bias`, [h, t, t], relativeBias(await weights(B.relPosTable), h, grid, s, file, B.relPosTable, B.relPosIndex ? await weights(B.relPosIndex) : undefined))
      : sharedBiasName;
    if (biasName) scores = g.op('Add', [scores, biasName], undefined, `l${l}_scores_biased`);
    const p = g.op('Softmax', [scores], { axis: attrInt(-1) }, `l${l}_attn_probs`);
    probs.push(p);
    afterSoftmax?.(g, p);
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [p, v], undefined, `l${l}_ctx`)], { perm: attrInts([0, 2, 1, 3]) }, `l${l}_ctx_t`), g.i64([-1, d])], undefined, `l${l}_ctx_2d`);

    // Layer scale folded into the output rows of proj and fc2.
    const gamma1 = B.gamma1 ? await vec(B.gamma1, d) : undefined;
    const gamma2 = B.gamma2 ? await vec(B.gamma2, d) : undefined;
    const projW = gamma1 ? rowsScaled(await vec(B.projW, d * d), d, 0, d, 1, false, gamma1) : await vec(B.projW, d * d);
    const projB = scaled(await vec(B.projB, d), 0, d, 1, gamma1);
    x = g.op('Add', [x, gemm(ctx, projW, d, d, projB, `l${l}_proj`)], undefined, `l${l}_resid1`);

    const ln2 = g.op('LayerNormalization', [x, g.f32(`l${l}_ln2_w`, [d], await vec(B.ln2W, d)), g.f32(`l${l}_ln2_b`, [d], await vec(B.ln2B, d))], lnAttrs, `l${l}_ln2`);
    const fc1 = gemm(ln2, await vec(B.fc1W, mlp * d), mlp, d, await vec(B.fc1B, mlp), `l${l}_fc1`);
    const gelu = activation(g, fc1, spec.activation ?? 'gelu', `l${l}`);
    const fc2W = gamma2 ? rowsScaled(await vec(B.fc2W, d * mlp), mlp, 0, d, 1, false, gamma2) : await vec(B.fc2W, d * mlp);
    const fc2B = scaled(await vec(B.fc2B, d), 0, d, 1, gamma2);
    x = g.op('Add', [x, gemm(gelu, fc2W, d, mlp, fc2B, `l${l}_fc2`)], undefined, `l${l}_resid2`);
    // Block outputs are exposed as [B,T,D] (the contract's feature layout).
    const out = g.op('Reshape', [x, g.i64([-1, t, d])], undefined, `l${l}_block_out`);
    blocks.push(out);
    afterBlock?.(g, out);
  }
  return { g, probs, blocks, geo };
}

const MODEL_META = { opset: 17, irVersion: 8, producer: 'model-lens' } as const;

/** onnxruntime parses an in-memory model as one protobuf message, which is limited to 2 GB. */
const PROTOBUF_LIMIT = 2 ** 31 - 1;

function checkProtobufLimit(g: OnnxGraphBuilder, file: string): void {
  const weightBytes = g.initializers.reduce((a, t) => a + t.raw.length, 0);
  if (weightBytes > PROTOBUF_LIMIT - (16 << 20)) {
    throw new ModelLensError('too-large', file, `the float32 weights take ${(weightBytes / 2 ** 30).toFixed(2)} GiB; an in-memory ONNX model is limited to 2 GiB (models above ~500M parameters are not supported yet)`);
  }
}

/**
 * Builds the analysis graph of the contract: input `pixel_values` [B,C,H,W] (normalised), outputs
 * `attn_dist_sum` [L,H], `kl_sum` [L,H,H], `gram` [L,B,B]. The input size is `spec.imageSize`; it
 * must match the position embedding (and the BEiT window), else `not-analyzable` is thrown.
 */
export async function buildAnalysisGraph(spec: VitSpec, weights: WeightFn, opts: VitGraphOptions = {}): Promise<AnalysisGraph> {
  const t0 = performance.now();
  const file = opts.file ?? '(analysis graph)';
  const geo = geometry(spec, file);
  const ckaTokens = opts.ckaTokens ?? 'all';
  if (ckaTokens === 'cls' && geo.s === 0) throw new ModelLensError('not-analyzable', file, 'CKA tokens "cls" need a class token; this model has none (use all, patch or mean)');
  const dists: string[] = [];
  const crosses: string[] = [];
  const perImage: AttentionReductions[] = [];
  const grams: string[] = [];
  let distVec = '';
  const { g } = await buildForward(
    spec,
    weights,
    file,
    (gb, p) => {
      if (!distVec) distVec = gb.f32('patch_distance', [geo.n * geo.n], patchDistanceMatrix(geo.grid, spec.patchSize));
      const r = addAttentionReductions(gb, p, distVec, geo.n, false, 17, opts.distanceConvention);
      dists.push(r.dist);
      crosses.push(r.cross);
      perImage.push(r);
    },
    (gb, x) => grams.push(addGram(gb, x, false, gb.i64([-1, geo.t * geo.d]), 17, opts.centerGram ?? true, { mode: ckaTokens, patchTokens: geo.n, tokenShape: gb.i64([-1, geo.t, geo.d]) })),
  );
  addContractOutputs(g, dists, crosses, grams, geo.h, 17, opts.perImage === false ? undefined : perImage);
  checkProtobufLimit(g, file);
  const weightFeeds = opts.weightsAsInputs ? weightsToInputs(g) : undefined;
  const model = g.toModel(MODEL_META);
  return {
    model,
    inputName: INPUT_PIXELS,
    outputNames: { attnDistSum: OUTPUT_ATTN_DIST, klSum: OUTPUT_KL, gram: OUTPUT_GRAM },
    nodeCount: g.nodes.length,
    buildMs: performance.now() - t0,
    ...(weightFeeds ? { weightFeeds } : {}),
  };
}

/** Moves the float initializers of more than one element to graph inputs; returns them as feeds. */
function weightsToInputs(g: OnnxGraphBuilder): WeightFeed[] {
  const feeds: WeightFeed[] = [];
  const keep = g.initializers.filter((t) => {
    const numel = t.dims.reduce((a, b) => a * b, 1);
    if (t.dataType !== OnnxDataType.FLOAT || numel <= 1) return true;
    // raw_data is little-endian, as on every platform onnxruntime-node ships for; the view shares its bytes.
    const data = t.raw.byteOffset % 4 === 0 ? new Float32Array(t.raw.buffer, t.raw.byteOffset, numel) : new Float32Array(t.raw.slice().buffer);
    feeds.push({ name: t.name, dims: t.dims, data });
    g.input(t.name, OnnxDataType.FLOAT, t.dims);
    return false;
  });
  g.initializers.length = 0;
  g.initializers.push(...keep);
  return feeds;
}

/** The same forward pass with the raw attention maps and block outputs as outputs (tests, debugging). */
export async function buildForwardOnlyGraph(spec: VitSpec, weights: WeightFn, opts: VitGraphOptions = {}): Promise<ForwardGraph> {
  const file = opts.file ?? '(analysis graph)';
  const { g, probs, blocks, geo } = await buildForward(spec, weights, file);
  checkProtobufLimit(g, file);
  for (const p of probs) g.output(p, OnnxDataType.FLOAT, ['batch', geo.h, geo.t, geo.t]);
  for (const b of blocks) g.output(b, OnnxDataType.FLOAT, ['batch', geo.t, geo.d]);
  return { model: g.toModel(MODEL_META), inputName: INPUT_PIXELS, probNames: probs, blockNames: blocks, nodeCount: g.nodes.length };
}

export interface AttentionGraph {
  model: Uint8Array;
  inputName: 'pixel_values';
  /** Per layer: softmax output [B,H,T,T]. */
  probNames: string[];
  layers: number;
  heads: number;
  tokens: number;
  grid: [number, number];
}

/**
 * The forward pass cut after the last attention, with every layer's attention probabilities as the
 * outputs (the attention view runs it on one image at a time; the last MLP is never needed).
 */
export async function buildAttentionGraph(spec: VitSpec, weights: WeightFn, opts: VitGraphOptions = {}): Promise<AttentionGraph> {
  const file = opts.file ?? '(attention graph)';
  const { g, probs, geo } = await buildForward(spec, weights, file);
  for (const p of probs) g.output(p, OnnxDataType.FLOAT, ['batch', geo.h, geo.t, geo.t]);
  checkProtobufLimit(g, file);
  return { model: g.toModel(MODEL_META), inputName: INPUT_PIXELS, probNames: probs, layers: probs.length, heads: geo.h, tokens: geo.t, grid: geo.grid };
}
