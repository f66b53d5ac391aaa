// instrumentOnnx on graphs with known answers: the builder's own forward graph (every block layout)
// must give the same outputs as buildAnalysisGraph; fused attention, fixed batches and external data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { VitBlockWeights, VitSpec } from '../../../src/model/modelTypes';
import { ModelLensError } from '../../../src/formats/errors';
import { buildAnalysisGraph, buildForwardOnlyGraph } from '../../../src/analysis/graph/vitGraph';
import { instrumentOnnx, instrumentOnnxFile } from '../../../src/analysis/graph/instrument';
import { parseModel } from '../../../src/formats/onnx/onnxGraph';
import { OnnxDataType, OnnxGraphBuilder, attrInt } from '../../../src/analysis/graph/onnxBuilder';
import { ProtoWriter } from '../../../src/formats/onnx/protobuf';
import { rng } from './naiveVit';

const FIX = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

function tinySpec(beit: boolean): { spec: VitSpec; w: Map<string, Float32Array> } {
  const d = 12;
  const heads = 3;
  const mlp = 24;
  const r = rng(beit ? 3 : 4);
  const w = new Map<string, Float32Array>();
  const add = (n: string, len: number, s: number, o = 0): string => {
    w.set(n, Float32Array.from({ length: len }, () => o + (r() * 2 - 1) * s));
    return n;
  };
  const blocks: VitBlockWeights[] = [];
  for (let l = 0; l < 3; l++) {
    const p = `b${l}.`;
    const b: VitBlockWeights = {
      ln1W: add(p + 'ln1w', d, 0.2, 1), ln1B: add(p + 'ln1b', d, 0.1), qkvW: add(p + 'qkv', 3 * d * d, 0.6),
      projW: add(p + 'proj', d * d, 0.3), projB: add(p + 'projb', d, 0.1), ln2W: add(p + 'ln2w', d, 0.2, 1), ln2B: add(p + 'ln2b', d, 0.1),
      fc1W: add(p + 'fc1', mlp * d, 0.4), fc1B: add(p + 'fc1b', mlp, 0.1), fc2W: add(p + 'fc2', d * mlp, 0.3), fc2B: add(p + 'fc2b', d, 0.1),
    };
    if (beit) {
      b.qB = add(p + 'qb', d, 0.1);
      b.vB = add(p + 'vb', d, 0.1);
      b.relPosTable = add(p + 'rel', (7 * 7 + 3) * heads, 1);
      b.gamma1 = add(p + 'g1', d, 0.2, 0.5);
      b.gamma2 = add(p + 'g2', d, 0.2, 0.5);
    } else b.qkvB = add(p + 'qkvb', 3 * d, 0.1);
    blocks.push(b);
  }
  const weights: VitSpec['weights'] = { patchW: add('pw', d * 3 * 16, 0.3), patchB: add('pb', d, 0.1), clsToken: add('cls', d, 0.5), blocks };
  if (!beit) weights.posEmbed = add('pos', 17 * d, 0.5);
  return {
    spec: { family: beit ? 'beit' : 'timm-vit', layers: 3, heads, dim: d, mlpDim: mlp, inChans: 3, patchSize: [4, 4], imageSize: [16, 16], specialTokens: 1, lnEps: 1e-6, mean: [0, 0, 0], std: [1, 1, 1], weights },
    w,
  };
}

async function runContract(model: Uint8Array, px: Float32Array, b: number, hw: number): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  const o = await s.run({ pixel_values: new ort.Tensor('float32', px, [b, 3, hw, hw]) });
  return { d: o['attn_dist_sum']!.data as Float32Array, k: o['kl_sum']!.data as Float32Array, g: o['gram']!.data as Float32Array };
}

function close(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 * Math.abs(b[i]!) + 1e-3, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

for (const beit of [false, true]) {
  test(`instrumenting the forward graph reproduces buildAnalysisGraph (${beit ? 'BEiT relative bias' : 'timm'})`, async () => {
    const { spec, w } = tinySpec(beit);
    const weights = async (n: string): Promise<Float32Array> => w.get(n)!;
    const fwd = await buildForwardOnlyGraph(spec, weights);
    const inst = await instrumentOnnx(fwd.model, { file: 'fwd.onnx' });
    assert.equal(inst.layers, 3);
    assert.deepEqual(inst.softmaxOutputs, fwd.probNames);
    // The forward graph keeps the residual stream 2-D and reshapes it for its block outputs; the
    // instrumentation anchors on the residual Add that feeds each of those reshapes.
    const fwdNodes = parseModel(fwd.model, 'fwd').graph.nodes;
    assert.deepEqual(inst.blockOutputs, fwd.blockNames.map((nm) => fwdNodes.find((nd) => nd.outputs[0] === nm)!.inputs[0]));
    assert.deepEqual(inst.grid, [4, 4]);
    assert.equal(inst.patchTokens, 16);
    assert.equal(inst.heads, 3); // declared by the forward graph's output shapes
    const ref = await buildAnalysisGraph(spec, weights);
    const b = 6;
    const px = Float32Array.from({ length: b * 3 * 256 }, (_, i) => Math.sin(i * 0.37) * 2);
    const a = await runContract(inst.model, px, b, 16);
    const e = await runContract(ref.model, px, b, 16);
    close(a['d']!, e['d']!, 'attn_dist_sum');
    close(a['k']!, e['k']!, 'kl_sum');
    close(a['g']!, e['g']!, 'gram');
  });
}

test('fused attention is refused with export instructions', async () => {
  const g = new OnnxGraphBuilder();
  g.input('x', OnnxDataType.FLOAT, ['b', 3, 16, 16]);
  const conv = g.op('Conv', ['x', g.f32('w', [8, 3, 4, 4], new Float32Array(8 * 48))], { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } });
  const t = g.op('Reshape', [conv, g.i64([0, 8, -1])]);
  g.node('Attention', [t, g.f32('qkv', [8, 24], new Float32Array(192))], ['y'], { num_heads: attrInt(2) }, 'com.microsoft');
  g.output('y', OnnxDataType.FLOAT, ['b', 8, 16]);
  const model = g.toModel({ extraOpsets: [{ domain: 'com.microsoft', version: 1 }] });
  await assert.rejects(instrumentOnnx(model, { file: 'fused.onnx' }), (e: unknown) => e instanceof ModelLensError && e.code === 'not-analyzable' && /fused into 1 Attention/.test(e.message) && /set_fused_attn\(False\)/.test(e.message) && /attn_implementation="eager"/.test(e.message));
  // No attention at all (a CNN): the same code, a different explanation.
  const c = new OnnxGraphBuilder();
  c.input('x', OnnxDataType.FLOAT, ['b', 3, 16, 16]);
  c.node('Conv', ['x', c.f32('w', [8, 3, 4, 4], new Float32Array(8 * 48))], ['y'], { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } });
  c.output('y', OnnxDataType.FLOAT, ['b', 8, 4, 4]);
  await assert.rejects(instrumentOnnx(c.toModel(), { file: 'cnn.onnx' }), (e: unknown) => e instanceof ModelLensError && e.code === 'not-analyzable' && /no attention Softmax/.test(e.message));
  // Symbolic spatial size without an imageSize option.
  const sym = new OnnxGraphBuilder();
  sym.input('x', OnnxDataType.FLOAT, ['b', 3, 'h', 'w']);
  sym.node('Identity', ['x'], ['y']);
  sym.output('y', OnnxDataType.FLOAT, ['b', 3, 'h', 'w']);
  await assert.rejects(instrumentOnnx(sym.toModel(), { file: 's.onnx' }), (e: unknown) => e instanceof ModelLensError && /symbolic height\/width/.test(e.message));
  await assert.rejects(instrumentOnnx(Uint8Array.of(1, 2, 3), { file: 'junk.onnx' }), (e: unknown) => e instanceof ModelLensError && e.file === 'junk.onnx');
});

function toyModel(inputName: string, elemType: number, batch: number | string): Uint8Array {
  const { w } = tinySpec(false);
  const g = new OnnxGraphBuilder();
  g.input(inputName, elemType, [batch, 3, 16, 16]);
  const x = elemType === OnnxDataType.FLOAT ? inputName : g.op('Cast', [inputName], { to: attrInt(OnnxDataType.FLOAT) });
  const conv = g.op('Conv', [x, g.f32('w', [12, 3, 4, 4], w.get('pw')!)], { kernel_shape: { ints: [4, 4] }, strides: { ints: [4, 4] } });
  const tok = g.op('Transpose', [g.op('Reshape', [conv, g.i64([0, 12, -1])])], { perm: { ints: [0, 2, 1] } });
  // A minimal one-head attention block: x + softmax(x xᵀ) x, then x + x·W.
  const tok4 = g.op('Unsqueeze', [tok, g.i64([1])]);
  const p = g.op('Softmax', [g.op('MatMul', [tok4, g.op('Transpose', [tok4], { perm: { ints: [0, 1, 3, 2] } })])], { axis: attrInt(-1) });
  const r1 = g.op('Add', [tok, g.op('Reshape', [g.op('MatMul', [p, tok4]), g.i64([0, 16, 12])])]);
  const r2 = g.op('Add', [r1, g.op('MatMul', [r1, g.f32('m', [12, 12], new Float32Array(144).fill(0.01))])]);
  g.output(r2, OnnxDataType.FLOAT, [batch, 16, 12]);
  return g.toModel();
}

test('a fixed batch size is reported and warned about; a float16 input is fed through a Cast', async () => {
  const inst = await instrumentOnnx(toyModel('x', OnnxDataType.FLOAT, 2), { file: 'fixed.onnx' });
  assert.equal(inst.fixedBatch, 2);
  assert.equal(inst.heads, null); // the head axis comes from an Unsqueeze, not a Reshape: left to the session's output shape
  assert.ok(inst.warnings.some((m) => /fixes the batch size to 2/.test(m) && /CKA needs batches of at least 4/.test(m)));
  const px = new Float32Array(4 * 768).map((_, i) => Math.cos(i) * 0.5);
  const o = await runContract(inst.model, px.subarray(0, 2 * 768), 2, 16);
  assert.equal(o['d']!.length, 1); // [L=1, H=1]
  // The same graph with a float16 input named pixel_values: consumers are renamed to a Cast's output.
  const h = await instrumentOnnx(toyModel('pixel_values', OnnxDataType.FLOAT16, 'b'), { file: 'fp16.onnx' });
  assert.equal(h.fixedBatch, null);
  const f = await instrumentOnnx(toyModel('x', OnnxDataType.FLOAT, 'b'), { file: 'fp32.onnx' });
  const oh = await runContract(h.model, px, 4, 16);
  const of = await runContract(f.model, px, 4, 16);
  for (const k of ['d', 'k', 'g']) close(oh[k]!, of[k]!, k); // inputs are exact in float16 up to rounding of cos·0.5
});

/** Rewrites a model so every initializer lives in `weights.bin` beside it (external data). */
function externalize(model: Uint8Array, location: (name: string) => string): { model: Uint8Array; data: Buffer } {
  const pm = parseModel(model, 'x');
  const g = new ProtoWriter();
  const chunks: Buffer[] = [];
  let off = 0;
  for (const f of pm.graph.fields) {
    const t = f.field === 5 ? pm.graph.initializers.find((x) => x.span.start === f.start) : undefined;
    if (t && t.raw) {
      const w = new ProtoWriter();
      for (const d of t.dims) w.int64(1, d);
      w.int64(2, t.dataType).string(8, t.name);
      for (const [k, v] of [['location', location(t.name)], ['offset', String(off)], ['length', String(t.raw.length)]] as const) w.message(13, new ProtoWriter().string(1, k).string(2, v));
      w.int64(14, 1);
      g.message(5, w);
      chunks.push(Buffer.from(model.subarray(t.raw.offset, t.raw.offset + t.raw.length)));
      off += t.raw.length;
    } else g.raw(model.subarray(f.start, f.end));
  }
  const m = new ProtoWriter();
  for (const f of pm.fields) m.raw(model.subarray(f.start, f.end));
  m.message(7, g);
  return { model: m.finish(), data: Buffer.concat(chunks) };
}

test('external-data initializers are inlined from the model folder; ../ is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-inst-'));
  try {
    const src = readFileSync(join(FIX, 'models', 'vit_onnx_eager.onnx'));
    const orig = await instrumentOnnx(new Uint8Array(src), { file: 'orig.onnx' });
    const ext = externalize(new Uint8Array(src), () => 'weights.bin');
    writeFileSync(join(dir, 'm.onnx'), ext.model);
    writeFileSync(join(dir, 'weights.bin'), ext.data);
    const inst = await instrumentOnnxFile(join(dir, 'm.onnx'));
    assert.equal(inst.inlinedExternalBytes, ext.data.length);
    assert.ok(inst.warnings.some((m) => /external data were loaded/.test(m)));
    const px = Float32Array.from({ length: 4 * 3 * 1024 }, (_, i) => Math.sin(i * 0.1));
    const a = await runContract(inst.model, px, 4, 32);
    const b = await runContract(orig.model, px, 4, 32);
    assert.deepEqual(a, b);
    const bad = externalize(new Uint8Array(src), () => '../weights.bin');
    writeFileSync(join(dir, 'bad.onnx'), bad.model);
    await assert.rejects(instrumentOnnxFile(join(dir, 'bad.onnx')), (e: unknown) => e instanceof ModelLensError && e.code === 'unsafe-path');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
