// Rebuilds a Swin / SwinV2 forward pass from recognized weights as an ONNX model whose only outputs are
// the per-batch reductions of the analysis contract, like the ViT graph. The cyclic shift and the
// window partition are one Gather with a precomputed token permutation (and its inverse after the
// attention); relative position bias (V1), continuous position bias (V2, the MLP runs here at build
// time) and the shift mask are folded into one additive constant per block. Heads differ per stage:
// per-layer sums are padded with zeros to the largest head count (the accumulator reads the ragged part).
import { ModelLensError } from '../../formats/errors';
import type { SwinBlockWeights, SwinSpec, SwinStageWeights } from '../../model/swinTypes';
import { swinHeadsPerLayer, swinLayers } from '../../model/swinTypes';
import { allowedKeys, blockLayout, logSpacedCoords, shiftMaskValues, sideFits, stageGrids, uniformDistance, validSides, windowCount, windowDistances, windowPermutation, windowRelativeIndex, type WindowLayout } from '../../model/swinGeometry';
import { OnnxDataType, OnnxGraphBuilder, attrFloat, attrInt, attrInts } from './onnxBuilder';
import { OUTPUT_ATTN_DIST, OUTPUT_GRAM, OUTPUT_KL, addContractOutputs, addGram } from './reductions';
import { addWindowReductions } from './swinReductions';
import { INPUT_PIXELS, type AnalysisGraph } from './vitGraph';

type WeightFn = (name: string) => Promise<Float32Array>;

export interface SwinAnalysisGraph extends AnalysisGraph {
  headsPerLayer: number[];
  /** Query tokens per image of every layer (G_s²): the divisor of its per-image means. */
  tokensPerLayer: number[];
  /** The window layout of every layer. */
  layouts: WindowLayout[];
}

export interface SwinForwardGraph {
  model: Uint8Array;
  /** Per layer: softmax output [B, nW, H, n, n] (windows in shifted order). */
  probNames: string[];
  /** Per layer: block output [B, N_s, C_s] (tokens in original row-major order). */
  blockNames: string[];
  layouts: WindowLayout[];
}

export interface SwinGraphOptions {
  file?: string;
  centerGram?: boolean;
}

/** The window layout of every block at the spec's input size; refuses sizes the checkpoint cannot run at. */
export function swinLayouts(spec: SwinSpec, file: string): WindowLayout[] {
  const stages = spec.weights.stages;
  const [ph, pw] = spec.patchSize;
  const [ih, iw] = spec.imageSize;
  const windows = stages.map((s) => s.window);
  if (ph !== pw || ih !== iw || !sideFits(ih, ph, windows)) {
    const valid = ph === pw ? validSides(ph, windows, Math.max(1536, ih)) : [];
    const list = valid.length > 8 ? `${valid.slice(0, 8).join(', ')}, …` : valid.join(', ');
    throw new ModelLensError(
      'not-analyzable',
      file,
      `input ${ih}×${iw} does not fit this Swin (patch ${ph}, windows ${windows.join('/')} per stage; every stage grid must be a multiple of its window and patch merging needs even grids); valid square sizes: ${list || 'none'} (no padding is applied)`,
    );
  }
  const grids = stageGrids(ih, ph, stages.length)!;
  const out: WindowLayout[] = [];
  stages.forEach((st, s) => {
    for (let j = 0; j < st.depth; j++) out.push(blockLayout(grids[s]!, st.window, j % 2 === 1, ph * 2 ** s));
  });
  return out;
}

/** The uniform-attention reference distance of every layer (px). */
export function swinUniformDistances(spec: SwinSpec, file = '(swin)'): number[] {
  return swinLayouts(spec, file).map(uniformDistance);
}

async function fetchChecked(weights: WeightFn, name: string, expected: number, file: string): Promise<Float32Array> {
  const w = await weights(name);
  if (w.length !== expected) throw new ModelLensError('not-analyzable', file, `tensor ${name} has ${w.length} elements; the recognized architecture needs ${expected}`);
  return w;
}

/** Checks a buffer the checkpoint carries against the value computed from the geometry. */
function checkBuffer(got: Float32Array, want: ArrayLike<number>, file: string, name: string, tol: number): void {
  if (got.length !== want.length) throw new ModelLensError('not-analyzable', file, `${name} has ${got.length} values; the window layout at this input size needs ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) {
      throw new ModelLensError('corrupt', file, `${name} differs from the window layout at entry ${i} (${got[i]} vs ${want[i]}); the checkpoint's buffers do not match its weights or this input size`);
    }
  }
}

/** The [H, n, n] position bias of a block: V1 table gather, V2 16·sigmoid(CPB-MLP(coords)) gather. */
async function positionBias(spec: SwinSpec, B: SwinBlockWeights, heads: number, w: number, pretrained: number, weights: WeightFn, file: string): Promise<Float64Array> {
  const n = w * w;
  const side = 2 * w - 1;
  const idx = windowRelativeIndex(w);
  if (B.relPosIndex) checkBuffer(await weights(B.relPosIndex), idx, file, B.relPosIndex, 0);
  const table = new Float64Array(side * side * heads);
  if (spec.version === 1) {
    if (!B.relPosTable) throw new ModelLensError('not-analyzable', file, 'a Swin block without relative_position_bias_table');
    const t = await fetchChecked(weights, B.relPosTable, side * side * heads, file);
    table.set(t);
  } else {
    if (!B.cpbW1 || !B.cpbW2) throw new ModelLensError('not-analyzable', file, 'a SwinV2 block without its continuous position bias MLP');
    let coords: ArrayLike<number> = logSpacedCoords(w, pretrained);
    if (B.coordsTable) {
      // A model fine-tuned at another window normalises by its pretrained window; read that from the
      // table's first entry, f(−(w−1)) = −log2(8(w−1)/norm + 1)/3, then check every entry.
      const c = await weights(B.coordsTable);
      const v = Math.abs(c[0] ?? 0);
      const norm = v > 0 ? (8 * (w - 1)) / (2 ** (3 * v) - 1) : w - 1;
      const rounded = Math.round(norm);
      checkBuffer(c, logSpacedCoords(w, Math.abs(rounded - norm) < 1e-3 ? rounded + 1 : pretrained), file, B.coordsTable, 1e-5);
      coords = c;
    }
    const w1 = await weights(B.cpbW1);
    const hidden = w1.length / 2;
    if (!Number.isInteger(hidden)) throw new ModelLensError('not-analyzable', file, `${B.cpbW1} is not [hidden, 2]`);
    const b1 = B.cpbB1 ? await fetchChecked(weights, B.cpbB1, hidden, file) : new Float32Array(hidden);
    const w2 = await fetchChecked(weights, B.cpbW2, heads * hidden, file);
    const hid = new Float64Array(hidden);
    for (let r = 0; r < side * side; r++) {
      const x0 = coords[r * 2]!;
      const x1 = coords[r * 2 + 1]!;
      for (let k = 0; k < hidden; k++) hid[k] = Math.max(0, w1[k * 2]! * x0 + w1[k * 2 + 1]! * x1 + b1[k]!);
      for (let h = 0; h < heads; h++) {
        let acc = 0;
        for (let k = 0; k < hidden; k++) acc += w2[h * hidden + k]! * hid[k]!;
        table[r * heads + h] = acc;
      }
    }
  }
  const out = new Float64Array(heads * n * n);
  for (let h = 0; h < heads; h++) {
    for (let k = 0; k < n * n; k++) {
      const v = table[idx[k]! * heads + h]!;
      out[h * n * n + k] = spec.version === 1 ? v : 16 / (1 + Math.exp(-v));
    }
  }
  return out;
}

interface Built {
  g: OnnxGraphBuilder;
  probs: string[];
  blocks: string[];
  layouts: WindowLayout[];
}

interface BlockCtx {
  g: OnnxGraphBuilder;
  spec: SwinSpec;
  weights: WeightFn;
  file: string;
  lnAttrs: { axis: ReturnType<typeof attrInt>; epsilon: ReturnType<typeof attrFloat> };
}

function gemm(c: BlockCtx, input: string, w: Float32Array, outDim: number, inDim: number, bias: Float32Array | undefined, tag: string): string {
  const ins = [input, c.g.f32(`${tag}_w`, [outDim, inDim], w)];
  if (bias) ins.push(c.g.f32(`${tag}_b`, [outDim], bias));
  return c.g.op('Gemm', ins, { transB: attrInt(1) }, tag);
}

async function layerNorm(c: BlockCtx, x: string, wName: string, bName: string, dim: number, tag: string): Promise<string> {
  const w = await fetchChecked(c.weights, wName, dim, c.file);
  const b = await fetchChecked(c.weights, bName, dim, c.file);
  return c.g.op('LayerNormalization', [x, c.g.f32(`${tag}_w`, [dim], w), c.g.f32(`${tag}_b`, [dim], b)], c.lnAttrs, tag);
}

/** q, k, v projection as one [3C, C] weight and bias (V2: k has no bias; V1 q rows pre-scaled by hd^-0.5). */
async function qkvWeights(c: BlockCtx, B: SwinBlockWeights, d: number, tag: string): Promise<{ w: Float32Array; b: Float32Array }> {
  const vec = (name: string, len: number): Promise<Float32Array> => fetchChecked(c.weights, name, len, c.file);
  const w = new Float32Array(3 * d * d);
  if (B.qkvW) w.set(await vec(B.qkvW, 3 * d * d));
  else if (B.qW && B.kW && B.vW) {
    w.set(await vec(B.qW, d * d), 0);
    w.set(await vec(B.kW, d * d), d * d);
    w.set(await vec(B.vW, d * d), 2 * d * d);
  } else throw new ModelLensError('not-analyzable', c.file, `${tag}: no qkv or q/k/v projection weights`);
  const b = new Float32Array(3 * d);
  if (B.qkvB) b.set(await vec(B.qkvB, 3 * d));
  if (B.qB) b.set(await vec(B.qB, d), 0);
  if (B.kB) b.set(await vec(B.kB, d), d);
  if (B.vB) b.set(await vec(B.vB, d), 2 * d);
  return { w, b };
}

async function buildBlock(c: BlockCtx, x: string, st: SwinStageWeights, B: SwinBlockWeights, lay: WindowLayout, l: number, onProbs: (p: string) => void): Promise<string> {
  const { g, spec, file } = c;
  const d = st.dim;
  const h = st.heads;
  const hd = d / h;
  const n = lay.window * lay.window;
  const nw = windowCount(lay);
  const tokens = lay.grid * lay.grid;
  const tag = `l${l}`;
  const v2 = spec.version === 2;
  // x is the residual stream [B·N, C] in original token order.
  const normed = v2 ? x : await layerNorm(c, x, B.ln1W, B.ln1B, d, `${tag}_ln1`);
  const perm = windowPermutation(lay);
  const identity = perm.every((p, i) => p === i);
  let windowed = g.op('Reshape', [normed, g.i64([-1, tokens, d])], undefined, `${tag}_btc`);
  if (!identity) windowed = g.op('Gather', [windowed, g.i64(Array.from(perm))], { axis: attrInt(1) }, `${tag}_windowed`);
  const { w: qkvW, b: qkvB } = await qkvWeights(c, B, d, tag);
  const scale = 1 / Math.sqrt(hd);
  if (!v2) {
    for (let i = 0; i < d * d; i++) qkvW[i] = qkvW[i]! * scale;
    for (let i = 0; i < d; i++) qkvB[i] = qkvB[i]! * scale;
  }
  const qkv = gemm(c, g.op('Reshape', [windowed, g.i64([-1, d])], undefined, `${tag}_win2d`), qkvW, 3 * d, d, qkvB, `${tag}_qkv`);
  const parts = [g.fresh(`${tag}_q2d`), g.fresh(`${tag}_k2d`), g.fresh(`${tag}_v2d`)];
  g.node('Split', [qkv, g.i64([d, d, d])], parts, { axis: attrInt(1) });
  const heads = (y: string, perm4: number[], t: string): string =>
    g.op('Transpose', [g.op('Reshape', [y, g.i64([-1, n, h, hd])], undefined, `${tag}_${t}_heads`)], { perm: attrInts(perm4) }, `${tag}_${t}_t`);
  let q = heads(parts[0]!, [0, 2, 1, 3], 'q');
  let k = heads(parts[1]!, [0, 2, 1, 3], 'k');
  const v = heads(parts[2]!, [0, 2, 1, 3], 'v');
  if (v2) {
    // Cosine attention: F.normalize (x / max(‖x‖, 1e-12)) with the clamped logit scale folded into q.
    const unit = (y: string, t: string): string =>
      g.op('Div', [y, g.op('Max', [g.op('ReduceL2', [y], { axes: attrInts([-1]), keepdims: attrInt(1) }, `${tag}_${t}_norm`), g.scalar(1e-12)], undefined, `${tag}_${t}_norm_c`)], undefined, `${tag}_${t}_unit`);
    if (!B.logitScale) throw new ModelLensError('not-analyzable', file, `${tag}: a SwinV2 block without logit_scale`);
    const ls = await fetchChecked(c.weights, B.logitScale, h, file);
    const factor = Float32Array.from(ls, (s) => Math.exp(Math.min(s, Math.log(100))));
    q = g.op('Mul', [unit(q, 'q'), g.f32(`${tag}_logit_scale`, [1, h, 1, 1], factor)], undefined, `${tag}_q_scaled`);
    k = unit(k, 'k');
  }
  const kT = g.op('Transpose', [k], { perm: attrInts([0, 1, 3, 2]) }, `${tag}_kT`);
  let scores = g.op('MatMul', [q, kT], undefined, `${tag}_scores`);
  // Bias [H,n,n] plus, in shifted blocks, the −100 mask: one constant [nW,H,n,n] on the [B,nW,H,n,n] view.
  const bias = await positionBias(spec, B, h, lay.window, st.pretrainedWindow, c.weights, file);
  const mask = shiftMaskValues(lay);
  if (B.attnMask) checkBuffer(await c.weights(B.attnMask), mask, file, B.attnMask, 0);
  const total = new Float32Array(nw * h * n * n);
  for (let win = 0; win < nw; win++) {
    for (let hh = 0; hh < h; hh++) {
      for (let e = 0; e < n * n; e++) total[(win * h + hh) * n * n + e] = bias[hh * n * n + e]! + mask[win * n * n + e]!;
    }
  }
  scores = g.op('Reshape', [scores, g.i64([-1, nw, h, n, n])], undefined, `${tag}_scores5`);
  scores = g.op('Add', [scores, g.f32(`${tag}_bias_mask`, [nw, h, n, n], total)], undefined, `${tag}_scores_biased`);
  const p = g.op('Softmax', [scores], { axis: attrInt(-1) }, `${tag}_attn_probs`);
  onProbs(p);
  const ctx4 = g.op('MatMul', [g.op('Reshape', [p, g.i64([-1, h, n, n])], undefined, `${tag}_probs4`), v], undefined, `${tag}_ctx`);
  const ctx = g.op('Reshape', [g.op('Transpose', [ctx4], { perm: attrInts([0, 2, 1, 3]) }, `${tag}_ctx_t`), g.i64([-1, d])], undefined, `${tag}_ctx_2d`);
  let attnOut = gemm(c, ctx, await fetchChecked(c.weights, B.projW, d * d, file), d, d, await fetchChecked(c.weights, B.projB, d, file), `${tag}_proj`);
  if (!identity) {
    const inv = new Array<number>(perm.length);
    perm.forEach((p0, i) => (inv[p0] = i));
    attnOut = g.op('Reshape', [g.op('Gather', [g.op('Reshape', [attnOut, g.i64([-1, tokens, d])], undefined, `${tag}_attn_btc`), g.i64(inv)], { axis: attrInt(1) }, `${tag}_unwindowed`), g.i64([-1, d])], undefined, `${tag}_attn_2d`);
  }
  if (v2) attnOut = await layerNorm(c, attnOut, B.ln1W, B.ln1B, d, `${tag}_ln1`);
  x = g.op('Add', [x, attnOut], undefined, `${tag}_resid1`);
  const mlp = (await c.weights(B.fc1B)).length;
  const pre = v2 ? x : await layerNorm(c, x, B.ln2W, B.ln2B, d, `${tag}_ln2`);
  const fc1 = gemm(c, pre, await fetchChecked(c.weights, B.fc1W, mlp * d, file), mlp, d, await fetchChecked(c.weights, B.fc1B, mlp, file), `${tag}_fc1`);
  const erf = g.op('Erf', [g.op('Div', [fc1, g.scalar(Math.SQRT2)], undefined, `${tag}_gelu_div`)], undefined, `${tag}_gelu_erf`);
  const gelu = g.op('Mul', [g.op('Mul', [fc1, g.op('Add', [erf, g.scalar(1)], undefined, `${tag}_gelu_add`)], undefined, `${tag}_gelu_mul`), g.scalar(0.5)], undefined, `${tag}_gelu`);
  let mlpOut = gemm(c, gelu, await fetchChecked(c.weights, B.fc2W, d * mlp, file), d, mlp, await fetchChecked(c.weights, B.fc2B, d, file), `${tag}_fc2`);
  if (v2) mlpOut = await layerNorm(c, mlpOut, B.ln2W, B.ln2B, d, `${tag}_ln2`);
  return g.op('Add', [x, mlpOut], undefined, `${tag}_resid2`);
}

/** Patch merging [B·G², C] → [B·(G/2)², 2C]: 2×2 neighbours in the order (0,0), (1,0), (0,1), (1,1). */
async function mergePatches(c: BlockCtx, x: string, st: SwinStageWeights, grid: number, s: number): Promise<string> {
  const { g, spec } = c;
  const m = st.merge!;
  const d = st.dim;
  const half = grid / 2;
  const x6 = g.op('Reshape', [x, g.i64([-1, half, 2, half, 2, d])], undefined, `m${s}_x6`);
  // [B, i, ho, j, wo, C] → [B, i, j, wo, ho, C]: channel block index wo·2 + ho gives x0, x1, x2, x3.
  const cat = g.op('Reshape', [g.op('Transpose', [x6], { perm: attrInts([0, 1, 3, 4, 2, 5]) }, `m${s}_t`), g.i64([-1, 4 * d])], undefined, `m${s}_cat`);
  const red = await fetchChecked(c.weights, m.reductionW, 2 * d * 4 * d, c.file);
  if (spec.version === 1) {
    const normed = await layerNorm(c, cat, m.normW, m.normB, 4 * d, `m${s}_norm`);
    return gemm(c, normed, red, 2 * d, 4 * d, undefined, `m${s}_reduction`);
  }
  return layerNorm(c, gemm(c, cat, red, 2 * d, 4 * d, undefined, `m${s}_reduction`), m.normW, m.normB, 2 * d, `m${s}_norm`);
}

async function buildForward(spec: SwinSpec, weights: WeightFn, file: string, onProbs?: (g: OnnxGraphBuilder, p: string, lay: WindowLayout, l: number) => void, onBlock?: (g: OnnxGraphBuilder, x: string, lay: WindowLayout, dim: number) => void): Promise<Built> {
  const layouts = swinLayouts(spec, file);
  const stages = spec.weights.stages;
  const [p] = spec.patchSize;
  const c0 = spec.embedDim;
  const W = spec.weights;
  stages.forEach((st, s) => {
    if (st.dim !== c0 * 2 ** s) throw new ModelLensError('not-analyzable', file, `stage ${s + 1} has ${st.dim} channels; Swin doubles ${c0} at every stage`);
    if (st.dim % st.heads !== 0) throw new ModelLensError('not-analyzable', file, `stage ${s + 1}: ${st.dim} channels are not divisible by ${st.heads} heads`);
    if (st.blocks.length !== st.depth) throw new ModelLensError('not-analyzable', file, `stage ${s + 1} lists ${st.blocks.length} blocks for depth ${st.depth}`);
    if (s < stages.length - 1 && !st.merge) throw new ModelLensError('not-analyzable', file, `no patch merging between stages ${s + 1} and ${s + 2}`);
  });
  const g = new OnnxGraphBuilder('model_lens_swin');
  const c: BlockCtx = { g, spec, weights, file, lnAttrs: { axis: attrInt(-1), epsilon: attrFloat(spec.lnEps) } };
  const pixels = g.input(INPUT_PIXELS, OnnxDataType.FLOAT, ['batch', spec.inChans, spec.imageSize[0], spec.imageSize[1]]);
  const grid0 = spec.imageSize[0] / p;
  const n0 = grid0 * grid0;
  const patchW = await fetchChecked(weights, W.patchW, c0 * spec.inChans * p * p, file);
  const convIns = [pixels, g.f32('patch_embed_w', [c0, spec.inChans, p, p], patchW)];
  if (W.patchB) convIns.push(g.f32('patch_embed_b', [c0], await fetchChecked(weights, W.patchB, c0, file)));
  const conv = g.op('Conv', convIns, { kernel_shape: attrInts([p, p]), strides: attrInts([p, p]) }, 'patch_conv');
  let x = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [conv, g.i64([0, c0, n0])], undefined, 'patch_flat')], { perm: attrInts([0, 2, 1]) }, 'patch_tokens'), g.i64([-1, c0])], undefined, 'stream');
  if (W.patchNormW && W.patchNormB) x = await layerNorm(c, x, W.patchNormW, W.patchNormB, c0, 'patch_norm');
  if (W.absPosEmbed) {
    const pos = await fetchChecked(weights, W.absPosEmbed, n0 * c0, file);
    x = g.op('Reshape', [g.op('Add', [g.op('Reshape', [x, g.i64([-1, n0, c0])], undefined, 'tokens3'), g.f32('abs_pos', [1, n0, c0], pos)], undefined, 'tokens_pos'), g.i64([-1, c0])], undefined, 'stream_pos');
  }
  const probs: string[] = [];
  const blocks: string[] = [];
  let l = 0;
  for (let s = 0; s < stages.length; s++) {
    const st = stages[s]!;
    for (let j = 0; j < st.depth; j++) {
      const lay = layouts[l]!;
      x = await buildBlock(c, x, st, st.blocks[j]!, lay, l, (pr) => {
        probs.push(pr);
        onProbs?.(g, pr, lay, l);
      });
      const out = g.op('Reshape', [x, g.i64([-1, lay.grid * lay.grid, st.dim])], undefined, `l${l}_block_out`);
      blocks.push(out);
      onBlock?.(g, out, lay, st.dim);
      l++;
    }
    if (s < stages.length - 1) x = await mergePatches(c, x, st, layouts[l - 1]!.grid, s);
  }
  return { g, probs, blocks, layouts };
}

const MODEL_META = { opset: 17, irVersion: 8, producer: 'model-lens' } as const;

/**
 * The analysis graph of the contract for a Swin: `attn_dist_sum` [L, Hmax], `kl_sum` [L, Hmax, Hmax]
 * (layers with fewer heads are zero-padded), `gram` [L, B, B] over every block's output.
 */
export async function buildSwinAnalysisGraph(spec: SwinSpec, weights: WeightFn, opts: SwinGraphOptions = {}): Promise<SwinAnalysisGraph> {
  const t0 = performance.now();
  const file = opts.file ?? '(analysis graph)';
  const headsPerLayer = swinHeadsPerLayer(spec);
  const hMax = Math.max(...headsPerLayer);
  const dists: string[] = [];
  const crosses: string[] = [];
  const grams: string[] = [];
  const { g, layouts } = await buildForward(
    spec,
    weights,
    file,
    (gb, p, lay, l) => {
      const r = addWindowReductions(gb, p, lay, headsPerLayer[l]!, hMax, allowedKeys(lay), windowDistances(lay), `l${l}`);
      dists.push(r.dist);
      crosses.push(r.cross);
    },
    (gb, x, lay, dim) => grams.push(addGram(gb, x, false, gb.i64([-1, lay.grid * lay.grid * dim]), 17, opts.centerGram ?? true)),
  );
  if (dists.length !== swinLayers(spec)) throw new ModelLensError('not-analyzable', file, 'layer count mismatch while building the Swin graph');
  addContractOutputs(g, dists, crosses, grams, hMax);
  return {
    model: g.toModel(MODEL_META),
    inputName: INPUT_PIXELS,
    outputNames: { attnDistSum: OUTPUT_ATTN_DIST, klSum: OUTPUT_KL, gram: OUTPUT_GRAM },
    nodeCount: g.nodes.length,
    buildMs: performance.now() - t0,
    headsPerLayer,
    tokensPerLayer: layouts.map((x) => x.grid * x.grid),
    layouts,
  };
}

/** The same forward pass with the raw windowed attention maps and block outputs as outputs (tests). */
export async function buildSwinForwardGraph(spec: SwinSpec, weights: WeightFn, opts: SwinGraphOptions = {}): Promise<SwinForwardGraph> {
  const file = opts.file ?? '(analysis graph)';
  const { g, probs, blocks, layouts } = await buildForward(spec, weights, file);
  const heads = swinHeadsPerLayer(spec);
  probs.forEach((p, l) => g.output(p, OnnxDataType.FLOAT, ['batch', windowCount(layouts[l]!), heads[l]!, layouts[l]!.window ** 2, layouts[l]!.window ** 2]));
  blocks.forEach((b) => g.output(b, OnnxDataType.FLOAT, ['batch', 'tokens', 'channels']));
  return { model: g.toModel(MODEL_META), probNames: probs, blockNames: blocks, layouts };
}
