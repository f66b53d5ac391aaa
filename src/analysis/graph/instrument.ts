// Over 500 lines on purpose: pattern-matching a user's attention Softmax and block outputs and the
// splice that follows are one algorithm over the same parsed graph.
// Instruments a user's own ViT exported by torch.onnx.export (eager attention): finds each block's
// attention Softmax [B,H,T,T] and block output, and splices the contract's reduction nodes into the
// graph right after them, so the analysis runs on the user's exact graph. Untouched fields are copied
// byte for byte; external-data initializers are inlined (the session is created from memory).
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, sep } from 'node:path';
import { assertRegularFile, type ByteSource } from '../../formats/byteSource';
import { ModelLensError } from '../../formats/errors';
import { OnnxDataType, OnnxGraphBuilder, attrInt, encodeNode, encodeTensor, encodeValueInfo } from './onnxBuilder';
import { parseModel, type ParsedGraph, type ParsedNode, type ParsedTensor } from '../../formats/onnx/onnxGraph';
import { checkExternalLocation, parseNonNegative } from '../../formats/onnx/onnxReader';
import { ProtoReader, ProtoWriter, WIRE_LEN } from '../../formats/onnx/protobuf';
import { OUTPUT_ATTN_DIST, OUTPUT_GRAM, OUTPUT_KL, addAttentionReductions, addContractOutputs, addGram, patchDistanceMatrix, type AttentionReductions } from './reductions';
import type { CkaTokens, DistanceConvention } from '../resultSchema';
import { INPUT_PIXELS } from './vitGraph';

export interface InstrumentOptions {
  /** Model file (for errors and to resolve external data when bytes are passed). */
  file?: string;
  /** Input size when the model's input has symbolic height/width. */
  imageSize?: [number, number];
  /** Patch size when the patch embedding is not a plain strided Conv. */
  patchSize?: [number, number];
  /** Centre block outputs over the batch before the Gram product (default true; see addGram). */
  centerGram?: boolean;
  /** DESIGN.md item 7 (default `renormalised`). */
  distanceConvention?: DistanceConvention;
  /** DESIGN.md item 10 (default `all`). */
  ckaTokens?: CkaTokens;
  /**
   * Output every layer's attention probabilities `attn_probs_<l>` [B,H,T,T] (float32) instead of the
   * contract's reductions (the attention view); block outputs are then not needed.
   */
  attentionOutputs?: boolean;
}

export interface InstrumentedModel {
  model: Uint8Array;
  inputName: 'pixel_values';
  outputNames: { attnDistSum: 'attn_dist_sum'; klSum: 'kl_sum'; gram: 'gram' };
  layers: number;
  /** From shape information in the model; null when only the session's output shape will tell. */
  heads: number | null;
  patchSize: [number, number];
  imageSize: [number, number];
  grid: [number, number];
  /** Patch tokens N (the divisor of the per-image means). */
  patchTokens: number;
  /** Channels of the input. */
  inChans: number;
  /** A batch size fixed by the export (no dynamic batch axis), else null. */
  fixedBatch: number | null;
  /** Original names, for reports and debugging. */
  softmaxOutputs: string[];
  /** With `attentionOutputs`: the graph's per-layer attention outputs (float32 [B,H,T,T]). */
  probOutputs: string[];
  blockOutputs: string[];
  originalInput: string;
  /** Bytes of external data that were inlined. */
  inlinedExternalBytes: number;
  warnings: string[];
}

/** How to export a model whose attention probabilities are visible. */
export const EAGER_EXPORT_HINT =
  'Export the model with eager attention so the Softmax is in the graph: timm `model.set_fused_attn(False)` (or `timm.layers.set_fused_attn(False)` before creating the model), ' +
  'HuggingFace `attn_implementation="eager"`, and a plain `torch.onnx.export(model, x, f, opset_version=17, dynamic_axes={"input": {0: "batch"}})` ' +
  'without scaled_dot_product_attention and without onnxruntime transformer optimizations.';

const FUSED_ATTENTION_OPS = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention', 'PackedMultiHeadAttention', 'ScaledDotProductAttention', 'DecoderMaskedMultiHeadAttention', 'SparseAttention', 'QAttention']);
const PASS_BACK = new Set(['Add', 'Mul', 'Div', 'Sub', 'Cast', 'Where', 'Identity']);
const PASS_FORWARD = new Set(['Cast', 'Dropout', 'Identity']);
const MAX_MODEL_BYTES = 2 ** 31 - 1;

interface GraphIndex {
  producer: Map<string, ParsedNode>;
  consumers: Map<string, ParsedNode[]>;
  /** Tensors that depend on the graph input (everything else is constant). */
  dynamic: Set<string>;
  shapes: Map<string, Array<number | string | null>>;
  inits: Map<string, ParsedTensor>;
}

function indexGraph(g: ParsedGraph, input: string): GraphIndex {
  const producer = new Map<string, ParsedNode>();
  const consumers = new Map<string, ParsedNode[]>();
  const dynamic = new Set<string>([input]);
  for (const n of g.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) {
      if (!i) continue;
      let c = consumers.get(i);
      if (!c) consumers.set(i, (c = []));
      c.push(n);
    }
    if (n.inputs.some((i) => dynamic.has(i))) for (const o of n.outputs) dynamic.add(o);
  }
  const shapes = new Map<string, Array<number | string | null>>();
  for (const v of [...g.inputs, ...g.outputs, ...g.valueInfo]) if (v.shape) shapes.set(v.name, v.shape);
  return { producer, consumers, dynamic, shapes, inits: new Map(g.initializers.map((t) => [t.name, t])) };
}

/**
 * Follows the score path back from a Softmax input to the Q·Kᵀ MatMul (both operands dynamic);
 * the nodes passed on the way (scale, bias, mask) are added to `path`.
 */
function reachesScoreMatMul(ix: GraphIndex, tensor: string, depth: number, path?: Set<ParsedNode>): boolean {
  if (depth > 8) return false;
  const p = ix.producer.get(tensor);
  if (!p) return false;
  if (p.opType === 'MatMul' && p.domain === '' && p.inputs.length === 2 && p.inputs.every((i) => ix.dynamic.has(i))) return true;
  if (!PASS_BACK.has(p.opType) || p.domain !== '') return false;
  const ok = p.inputs.some((i) => ix.dynamic.has(i) && reachesScoreMatMul(ix, i, depth + 1, path));
  if (ok) path?.add(p);
  return ok;
}

/** Follows the probabilities forward to the P·V MatMul. */
function feedsValueMatMul(ix: GraphIndex, tensor: string, depth: number): boolean {
  if (depth > 4) return false;
  for (const c of ix.consumers.get(tensor) ?? []) {
    if (c.opType === 'MatMul' && c.inputs[0] === tensor && ix.dynamic.has(c.inputs[1] ?? '')) return true;
    if (PASS_FORWARD.has(c.opType) && c.outputs[0] && feedsValueMatMul(ix, c.outputs[0], depth + 1)) return true;
  }
  return false;
}

/** Small int64 values of a tensor when they are constant (initializer, Constant, Concat/Unsqueeze of those); unknown entries are null. */
function evalInts(ix: GraphIndex, t: string, depth = 0): Array<number | null> | null {
  if (depth > 6) return null;
  const init = ix.inits.get(t);
  if (init) return init.ints ?? null;
  const p = ix.producer.get(t);
  if (!p) return null;
  switch (p.opType) {
    case 'Constant':
      return p.attrs.get('value')?.t?.ints ?? p.attrs.get('value_ints')?.ints ?? null;
    case 'Cast':
    case 'Identity':
      return evalInts(ix, p.inputs[0] ?? '', depth + 1);
    case 'Unsqueeze': {
      // Unsqueezing a scalar gives one entry (known or not).
      const v = evalInts(ix, p.inputs[0] ?? '', depth + 1);
      return v && v.length === 1 ? v : [null];
    }
    case 'Concat': {
      const out: Array<number | null> = [];
      for (const i of p.inputs) {
        const v = evalInts(ix, i, depth + 1);
        if (!v) return null;
        out.push(...v);
      }
      return out;
    }
    default:
      return null;
  }
}

/**
 * Where the head axis of a [B,H,T,*] tensor comes from: follows the axis back through transposes,
 * gathers, splits and elementwise ops to the Reshape that created it and reads its constant size.
 */
function traceAxisSize(ix: GraphIndex, t: string, axis: number, depth = 0): number | null {
  if (depth > 12) return null;
  const p = ix.producer.get(t);
  if (!p) return null;
  const dynIn = p.inputs.find((i) => ix.dynamic.has(i)) ?? p.inputs[0] ?? '';
  switch (p.opType) {
    case 'Transpose': {
      const perm = intsAttr(p, 'perm');
      const src = perm?.[axis];
      return src === undefined ? null : traceAxisSize(ix, p.inputs[0] ?? '', src, depth + 1);
    }
    case 'Gather': {
      const g = p.attrs.get('axis')?.i ?? 0;
      const idx = ix.inits.get(p.inputs[1] ?? '')?.dims ?? ix.producer.get(p.inputs[1] ?? '')?.attrs.get('value')?.t?.dims;
      if (g < 0 || !idx) return null;
      const scalar = idx.length === 0;
      if (axis === g && !scalar) return null;
      return traceAxisSize(ix, p.inputs[0] ?? '', scalar && axis >= g ? axis + 1 : axis, depth + 1);
    }
    case 'Squeeze': {
      const axes = intsAttr(p, 'axes') ?? (evalInts(ix, p.inputs[1] ?? '') as number[] | null) ?? null;
      if (!axes || axes.some((a) => a === null || a < 0)) return null;
      let src = axis;
      for (const a of [...axes].sort((x, y) => x - y)) if (a <= src) src++;
      return traceAxisSize(ix, p.inputs[0] ?? '', src, depth + 1);
    }
    case 'Split':
    case 'Mul':
    case 'Div':
    case 'Add':
    case 'Sub':
    case 'Cast':
    case 'Identity':
    case 'Dropout':
      return traceAxisSize(ix, dynIn, axis, depth + 1);
    case 'Reshape': {
      const shape = evalInts(ix, p.inputs[1] ?? '');
      const v = shape?.[axis];
      return typeof v === 'number' && v > 0 ? v : null;
    }
    default:
      return null;
  }
}

/** The Q·Kᵀ MatMul feeding a softmax (through scale, bias, mask). */
function scoreMatMul(ix: GraphIndex, tensor: string, depth = 0): ParsedNode | null {
  if (depth > 8) return null;
  const p = ix.producer.get(tensor);
  if (!p) return null;
  if (p.opType === 'MatMul' && p.inputs.every((i) => ix.dynamic.has(i))) return p;
  if (!PASS_BACK.has(p.opType)) return null;
  for (const i of p.inputs) {
    if (!ix.dynamic.has(i)) continue;
    const m = scoreMatMul(ix, i, depth + 1);
    if (m) return m;
  }
  return null;
}

function intsAttr(n: ParsedNode, name: string): number[] | undefined {
  return n.attrs.get(name)?.ints;
}

async function readExternal(t: ParsedTensor, modelDir: string, file: string): Promise<Uint8Array> {
  const location = t.external['location'] ?? '';
  const checked = checkExternalLocation(location, modelDir);
  if ('unsafe' in checked) throw new ModelLensError('unsafe-path', file, `initializer "${t.name}": external data ${checked.unsafe}; only files inside the model's folder are read`, t.span.start);
  let real: string;
  try {
    real = await realpath(checked.path);
  } catch {
    throw new ModelLensError('not-found', file, `initializer "${t.name}": external data file "${location}" does not exist`, t.span.start);
  }
  const rel = relative(await realpath(modelDir), real);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) {
    throw new ModelLensError('unsafe-path', file, `initializer "${t.name}": external data "${location}" resolves outside the model's folder`, t.span.start);
  }
  const st = await stat(real);
  if (!st.isFile()) throw new ModelLensError('unsafe-path', file, `external data "${location}" is not a regular file`, t.span.start);
  const offset = parseNonNegative(t.external['offset'], 'offset', file, t.span.start) ?? 0;
  const length = parseNonNegative(t.external['length'], 'length', file, t.span.start) ?? st.size - offset;
  if (length < 0 || offset + length > st.size) {
    throw new ModelLensError('truncated', file, `initializer "${t.name}": external data range ${offset}+${length} is outside "${location}" (${st.size} bytes)`, t.span.start);
  }
  if (length > MAX_MODEL_BYTES) throw new ModelLensError('too-large', file, `initializer "${t.name}" has ${length} bytes of external data; models over 2 GB cannot be instrumented in memory`, t.span.start);
  const fh = await open(real, 'r');
  try {
    const buf = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) throw new ModelLensError('truncated', file, `external data "${location}" ended early`, t.span.start);
      done += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

/**
 * Returns a copy of the model with the analysis outputs of the contract (`attn_dist_sum` [L,H],
 * `kl_sum` [L,H,H], `gram` [L,B,B]) in place of its own outputs, and its image input renamed to
 * `pixel_values` (float32). Throws `not-analyzable` when the attention probabilities are not visible.
 */
export async function instrumentOnnx(input: Uint8Array | ByteSource, opts: InstrumentOptions = {}): Promise<InstrumentedModel> {
  let bytes: Uint8Array;
  let file: string;
  if (input instanceof Uint8Array) {
    bytes = input;
    file = opts.file ?? '(onnx model)';
  } else {
    file = input.path;
    if (input.size > MAX_MODEL_BYTES) throw new ModelLensError('too-large', file, 'ONNX protobufs over 2 GB cannot be instrumented (store the weights as external data)');
    bytes = new Uint8Array(input.size);
    for (let off = 0; off < input.size; off += 1 << 28) bytes.set(await input.read(off, Math.min(1 << 28, input.size - off)), off);
  }
  const notAnalyzable = (msg: string): never => {
    throw new ModelLensError('not-analyzable', file, msg);
  };
  const model = parseModel(bytes, file);
  const g = model.graph;
  const opset = model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 10) notAnalyzable(`opset ${opset} is too old; export with opset_version ≥ 13`);

  // The image input.
  const initNames = new Set(g.initializers.map((t) => t.name));
  const realInputs = g.inputs.filter((v) => !initNames.has(v.name));
  if (realInputs.length !== 1) notAnalyzable(`the graph has ${realInputs.length} inputs; a ViT image model has exactly one (pixel values [B,C,H,W])`);
  const inp = realInputs[0]!;
  const inShape = inp.shape ?? [];
  if (inShape.length !== 4) notAnalyzable(`input "${inp.name}" has shape [${inShape.join(', ')}]; expected [B,C,H,W]`);
  if (inp.elemType !== OnnxDataType.FLOAT && inp.elemType !== OnnxDataType.FLOAT16 && inp.elemType !== OnnxDataType.BFLOAT16) {
    notAnalyzable(`input "${inp.name}" has element type ${inp.elemType}; expected a floating-point image tensor`);
  }
  const fixedBatch = typeof inShape[0] === 'number' ? inShape[0] : null;
  const inChans = typeof inShape[1] === 'number' ? inShape[1] : 3;
  let imageSize: [number, number];
  if (typeof inShape[2] === 'number' && typeof inShape[3] === 'number') imageSize = [inShape[2], inShape[3]];
  else if (opts.imageSize) imageSize = opts.imageSize;
  else return notAnalyzable(`input "${inp.name}" has a symbolic height/width; give the image size the model expects`);

  const ix = indexGraph(g, inp.name);
  const fused = g.nodes.filter((n) => FUSED_ATTENTION_OPS.has(n.opType));

  // Patch embedding: the first strided Conv on the image.
  let patch = opts.patchSize;
  const conv = g.nodes.find((n) => n.opType === 'Conv' && ix.dynamic.has(n.inputs[0] ?? ''));
  if (conv && !patch) {
    const w = ix.inits.get(conv.inputs[1] ?? '');
    const kernel = intsAttr(conv, 'kernel_shape') ?? (w && w.dims.length === 4 ? w.dims.slice(2) : undefined);
    const strides = intsAttr(conv, 'strides') ?? [1, 1];
    const pads = intsAttr(conv, 'pads') ?? [0, 0, 0, 0];
    if (!kernel || kernel.length !== 2) return notAnalyzable('cannot read the patch size from the patch-embedding Conv');
    if (kernel[0] !== strides[0] || kernel[1] !== strides[1] || pads.some((p) => p !== 0)) {
      notAnalyzable(`the first Conv (kernel ${kernel.join('×')}, stride ${strides.join('×')}) is not a non-overlapping patch embedding; give the patch size explicitly`);
    }
    patch = [kernel[0]!, kernel[1]!];
  }
  if (!patch) return notAnalyzable('no patch-embedding Conv found; give the patch size explicitly');
  const grid: [number, number] = [Math.floor(imageSize[0] / patch[0]), Math.floor(imageSize[1] / patch[1])];
  const n = grid[0] * grid[1];
  if (n < 2) notAnalyzable(`a ${imageSize.join('×')} input with patch ${patch.join('×')} gives ${n} patch tokens`);

  // Attention softmaxes.
  const softmaxes = g.nodes.filter((nd) => {
    if (nd.opType !== 'Softmax' || nd.domain !== '') return false;
    const axis = nd.attrs.get('axis')?.i ?? (opset >= 13 ? -1 : 1);
    const shape = ix.shapes.get(nd.outputs[0] ?? '');
    if (shape && (shape.length !== 4 || (shape[2] !== null && shape[2] !== shape[3]))) return false;
    if (axis !== -1 && axis !== 3) return false;
    return reachesScoreMatMul(ix, nd.inputs[0] ?? '', 0) && feedsValueMatMul(ix, nd.outputs[0] ?? '', 0);
  });
  if (softmaxes.length === 0) {
    if (fused.length > 0) {
      notAnalyzable(`attention is fused into ${fused.length} ${[...new Set(fused.map((f) => f.opType))].join('/')} node(s), so the attention probabilities are hidden inside the kernel. ${EAGER_EXPORT_HINT}`);
    }
    notAnalyzable(`no attention Softmax over [B,H,T,T] scores (Q·Kᵀ → Softmax → ·V) was found; the attention is fused or the model is not a ViT. ${EAGER_EXPORT_HINT}`);
  }
  if (fused.length > 0) notAnalyzable(`the graph mixes fused attention (${fused[0]!.opType}) with eager Softmax attention; export all blocks in eager mode. ${EAGER_EXPORT_HINT}`);

  // Residual additions: Adds of two input-dependent tensors, in graph order; two per pre-norm block.
  const scorePath = new Set<ParsedNode>();
  for (const sm of softmaxes) reachesScoreMatMul(ix, sm.inputs[0]!, 0, scorePath);
  const residuals = g.nodes.filter((nd) => nd.opType === 'Add' && nd.inputs.length === 2 && nd.inputs.every((i) => ix.dynamic.has(i)) && !scorePath.has(nd));
  const blocks: string[] = [];
  for (let l = 0; l < softmaxes.length && !opts.attentionOutputs; l++) {
    const lo = softmaxes[l]!.index;
    const hi = softmaxes[l + 1]?.index ?? Infinity;
    const inBlock = residuals.filter((r) => r.index > lo && r.index < hi);
    if (inBlock.length < 2 || (l + 1 < softmaxes.length && inBlock.length !== 2)) {
      notAnalyzable(`block ${l}: found ${inBlock.length} residual additions after its attention (expected 2: attention and MLP, pre-norm ViT blocks)`);
    }
    blocks.push(inBlock[1]!.outputs[0]!);
  }

  // Heads: from shape information when the export carries it.
  let heads: number | null = null;
  const probShape = ix.shapes.get(softmaxes[0]!.outputs[0]!);
  if (probShape && typeof probShape[1] === 'number') heads = probShape[1];
  if (opts.ckaTokens === 'cls' && probShape && probShape[2] === n) notAnalyzable('CKA tokens "cls" need a class token; this model has none (use all, patch or mean)');
  if (heads === null) {
    // Without shape information: the head axis of Q (axis 1 of [B,H,T,hd]) traced to its Reshape.
    const counts = softmaxes.map((sm) => {
      const mm = scoreMatMul(ix, sm.inputs[0] ?? '');
      return mm ? traceAxisSize(ix, mm.inputs[0] ?? '', 1) ?? traceAxisSize(ix, mm.inputs[1] ?? '', 1) : null;
    });
    if (counts.every((c) => c !== null && c === counts[0])) heads = counts[0]!;
  }

  // New nodes, spliced after the node that produces each hooked tensor.
  const b = new OnnxGraphBuilder();
  b.reserve(ix.producer.keys());
  b.reserve(initNames);
  b.reserve(g.inputs.map((v) => v.name));
  b.reserve(g.nodes.map((nd) => nd.name).filter((x) => x !== ''));
  if (ix.producer.has(INPUT_PIXELS) || initNames.has(INPUT_PIXELS)) notAnalyzable(`the graph already has an intermediate tensor named ${INPUT_PIXELS}`);
  const castActs = inp.elemType !== OnnxDataType.FLOAT;
  const after = new Map<number, [number, number]>();
  const distVec = b.f32('model_lens_patch_distance', [n * n], patchDistanceMatrix(grid, patch));
  const dists: string[] = [];
  const crosses: string[] = [];
  const perImage: AttentionReductions[] = [];
  const grams: string[] = [];
  const mark = (nodeIndex: number, from: number): void => {
    const prev = after.get(nodeIndex);
    after.set(nodeIndex, [prev ? prev[0] : from, b.nodes.length]);
  };
  // [B, -1] from the input's batch size, so a block output kept as [B·T, D] flattens per image too.
  // These nodes depend only on the graph input and go first.
  const flatShape = b.op('Concat', [b.op('Slice', [b.op('Shape', [INPUT_PIXELS], undefined, 'ml_input_shape'), b.i64([0]), b.i64([1])], undefined, 'ml_batch'), b.i64([-1])], { axis: attrInt(0) }, 'ml_flat_shape');
  const headNodes = b.nodes.length;
  const probOutputs: string[] = [];
  for (let l = 0; l < softmaxes.length && opts.attentionOutputs; l++) {
    const sm = softmaxes[l]!;
    const from = b.nodes.length;
    const name = b.op(castActs ? 'Cast' : 'Identity', [sm.outputs[0]!], castActs ? { to: attrInt(OnnxDataType.FLOAT) } : undefined, `attn_probs_${l}`);
    b.output(name, OnnxDataType.FLOAT, ['batch', heads ?? 'heads', 'tokens', 'tokens']);
    probOutputs.push(name);
    mark(sm.index, from);
  }
  for (let l = 0; l < softmaxes.length && !opts.attentionOutputs; l++) {
    const sm = softmaxes[l]!;
    let from = b.nodes.length;
    const r = addAttentionReductions(b, sm.outputs[0]!, distVec, n, castActs, opset, opts.distanceConvention);
    dists.push(r.dist);
    crosses.push(r.cross);
    perImage.push(r);
    mark(sm.index, from);
    const blockNode = ix.producer.get(blocks[l]!)!;
    from = b.nodes.length;
    grams.push(addGram(b, blocks[l]!, castActs, flatShape, opset, opts.centerGram ?? true, { mode: opts.ckaTokens ?? 'all', patchTokens: n }));
    mark(blockNode.index, from);
  }
  const tailFrom = b.nodes.length;
  if (!opts.attentionOutputs) addContractOutputs(b, dists, crosses, grams, heads ?? 'heads', opset, perImage);
  const tail = b.nodes.slice(tailFrom);

  // Emit the graph: renaming node first, original fields (outputs replaced, external data inlined),
  // reduction nodes after their anchors, then the new initializers and outputs.
  // The contract's input is float32 `pixel_values`. A float input under another name is fed through an
  // Identity; a float16/bfloat16 input through a Cast to a fresh name its consumers are renamed to.
  const gw = new ProtoWriter();
  let renameFrom: string | undefined;
  let renameTo: string | undefined;
  if (inp.elemType !== OnnxDataType.FLOAT) {
    renameFrom = inp.name;
    renameTo = b.fresh('model_lens_input_cast');
    gw.message(1, encodeNode({ opType: 'Cast', inputs: [INPUT_PIXELS], outputs: [renameTo], name: 'model_lens_input', attrs: { to: { i: inp.elemType } } }));
  } else if (inp.name !== INPUT_PIXELS) {
    gw.message(1, encodeNode({ opType: 'Identity', inputs: [INPUT_PIXELS], outputs: [inp.name], name: 'model_lens_input' }));
  }
  for (let k = 0; k < headNodes; k++) gw.message(1, encodeNode(b.nodes[k]!));
  const nodeAt = new Map(g.nodes.map((nd) => [nd.span.start, nd]));
  const initAt = new Map(g.initializers.map((t) => [t.span.start, t]));
  const modelDir = dirname(opts.file ?? file);
  let inlined = 0;
  for (const f of g.fields) {
    if (f.field === 12) continue; // original outputs are replaced by the contract outputs
    if (f.field === 11 && f.start === inp.span.start) {
      gw.message(11, encodeValueInfo({ name: INPUT_PIXELS, elemType: OnnxDataType.FLOAT, dims: inShape.map((d, i) => (d === null ? `dim${i}` : d)) }));
      continue;
    }
    const init = f.field === 5 ? initAt.get(f.start) : undefined;
    if (init && init.dataLocation === 1) {
      const raw = await readExternal(init, modelDir, file);
      inlined += raw.length;
      gw.message(5, encodeTensor({ name: init.name, dataType: init.dataType, dims: init.dims, raw }));
      continue;
    }
    const node = f.field === 1 ? nodeAt.get(f.start) : undefined;
    if (node && renameFrom !== undefined && node.inputs.includes(renameFrom)) gw.message(1, renameNodeInputs(bytes, f, renameFrom, renameTo!, file));
    else gw.raw(bytes.subarray(f.start, f.end));
    const range = node ? after.get(node.index) : undefined;
    if (range) for (let k = range[0]; k < range[1]; k++) gw.message(1, encodeNode(b.nodes[k]!));
  }
  for (const nd of tail) gw.message(1, encodeNode(nd));
  for (const t of b.initializers) gw.message(5, encodeTensor(t));
  for (const o of b.outputs) gw.message(12, encodeValueInfo(o));

  const mw = new ProtoWriter();
  let graphWritten = false;
  for (const f of model.fields) {
    if (!graphWritten && f.start > model.graphField.start) {
      mw.message(7, gw);
      graphWritten = true;
    }
    mw.raw(bytes.subarray(f.start, f.end));
  }
  if (!graphWritten) mw.message(7, gw);
  if (mw.length > MAX_MODEL_BYTES) throw new ModelLensError('too-large', file, `the instrumented model would be ${mw.length} bytes; protobuf models are limited to 2 GB`);
  const warnings: string[] = [];
  if (fixedBatch !== null) warnings.push(`the export fixes the batch size to ${fixedBatch}; re-export with dynamic_axes={"${inp.name}": {0: "batch"}} to analyze other batch sizes${fixedBatch < 4 ? ' (CKA needs batches of at least 4 images)' : ''}`);
  if (inlined > 0) warnings.push(`${inlined} bytes of external data were loaded into memory to build the session`);
  return {
    model: mw.finish(),
    inputName: INPUT_PIXELS,
    outputNames: { attnDistSum: OUTPUT_ATTN_DIST, klSum: OUTPUT_KL, gram: OUTPUT_GRAM },
    layers: softmaxes.length,
    heads,
    patchSize: patch,
    imageSize,
    grid,
    patchTokens: n,
    inChans,
    fixedBatch,
    softmaxOutputs: softmaxes.map((s) => s.outputs[0]!),
    probOutputs,
    blockOutputs: blocks,
    originalInput: inp.name,
    inlinedExternalBytes: inlined,
    warnings,
  };
}

/** Re-encodes one NodeProto field with input `from` renamed to `to`, every other field copied verbatim. */
function renameNodeInputs(bytes: Uint8Array, f: { start: number; end: number }, from: string, to: string, file: string): ProtoWriter {
  const outer = new ProtoReader(bytes, file, 0, f.start, f.end);
  outer.readTag();
  const r = outer.readMessage();
  const w = new ProtoWriter();
  while (!r.done()) {
    const start = r.pos;
    const tag = r.readTag();
    if (tag.field === 1 && tag.wire === WIRE_LEN) {
      const name = r.readString();
      w.string(1, name === from ? to : name);
    } else {
      r.skip(tag.wire, tag.field);
      w.raw(bytes.subarray(start, r.pos));
    }
  }
  return w;
}

/** Reads a model file and instruments it (convenience for the worker and the CLI). */
export async function instrumentOnnxFile(path: string, opts: Omit<InstrumentOptions, 'file'> = {}): Promise<InstrumentedModel> {
  let bytes: Buffer;
  try {
    const st = await assertRegularFile(path);
    if (st.size > MAX_MODEL_BYTES) throw new ModelLensError('too-large', path, 'ONNX protobufs over 2 GB cannot be instrumented (store the weights as external data)');
    bytes = await readFile(path);
  } catch (e) {
    if (e instanceof ModelLensError) throw e;
    throw new ModelLensError('not-found', path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return instrumentOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), { ...opts, file: path });
}
