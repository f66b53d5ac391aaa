// The built analysis graph, run in onnxruntime, against an independent float64 JS forward pass and
// the DESIGN.md metric sums, for each block layout the builder supports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import type { VitBlockWeights, VitSpec } from '../../../src/model/modelTypes';
import { buildAnalysisGraph, buildForwardOnlyGraph, relativePositionIndex } from '../../../src/analysis/graph/vitGraph';
import { ModelLensError } from '../../../src/formats/errors';
import { naiveForward, naiveRelIndex, naiveSums, rng, type Weights } from './naiveVit';

type Layout = 'timm' | 'deit-distilled' | 'beit' | 'hf' | 'patch-pos-only';

function makeModel(layout: Layout, seed: number): { spec: VitSpec; w32: Map<string, Float32Array> } {
  const d = 16;
  const heads = 2;
  const mlp = 32;
  const layers = 2;
  const patch: [number, number] = layout === 'hf' ? [4, 2] : [4, 4];
  const image: [number, number] = [16, 12];
  const gh = image[0] / patch[0];
  const gw = image[1] / patch[1];
  const n = gh * gw;
  const s = layout === 'deit-distilled' ? 2 : layout === 'patch-pos-only' ? 1 : 1;
  const r = rng(seed);
  const w32 = new Map<string, Float32Array>();
  const add = (name: string, len: number, scale: number, offset = 0): string => {
    const a = new Float32Array(len);
    for (let i = 0; i < len; i++) a[i] = offset + (r() * 2 - 1) * scale;
    w32.set(name, a);
    return name;
  };
  const blocks: VitBlockWeights[] = [];
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}.`;
    const b: VitBlockWeights = {
      ln1W: add(p + 'norm1.weight', d, 0.2, 1), ln1B: add(p + 'norm1.bias', d, 0.1),
      projW: add(p + 'attn.proj.weight', d * d, 0.3), projB: add(p + 'attn.proj.bias', d, 0.1),
      ln2W: add(p + 'norm2.weight', d, 0.2, 1), ln2B: add(p + 'norm2.bias', d, 0.1),
      fc1W: add(p + 'mlp.fc1.weight', mlp * d, 0.4), fc1B: add(p + 'mlp.fc1.bias', mlp, 0.1),
      fc2W: add(p + 'mlp.fc2.weight', d * mlp, 0.3), fc2B: add(p + 'mlp.fc2.bias', d, 0.1),
    };
    if (layout === 'hf') {
      b.qW = add(p + 'q.weight', d * d, 0.6); b.qB = add(p + 'q.bias', d, 0.1);
      b.kW = add(p + 'k.weight', d * d, 0.6); b.kB = add(p + 'k.bias', d, 0.1);
      b.vW = add(p + 'v.weight', d * d, 0.5); b.vB = add(p + 'v.bias', d, 0.1);
    } else if (layout === 'beit') {
      b.qkvW = add(p + 'attn.qkv.weight', 3 * d * d, 0.6);
      b.qB = add(p + 'attn.q_bias', d, 0.1);
      b.vB = add(p + 'attn.v_bias', d, 0.1);
      b.gamma1 = add(p + 'gamma_1', d, 0.5, 0.6);
      b.gamma2 = add(p + 'gamma_2', d, 0.5, 0.6);
      b.relPosTable = add(p + 'attn.relative_position_bias_table', ((2 * gh - 1) * (2 * gw - 1) + 3) * heads, 1.0);
    } else {
      b.qkvW = add(p + 'attn.qkv.weight', 3 * d * d, 0.6);
      if (layout !== 'patch-pos-only') b.qkvB = add(p + 'attn.qkv.bias', 3 * d, 0.1);
      if (layout === 'deit-distilled') {
        b.gamma1 = add(p + 'ls1.gamma', d, 0.3, 0.5);
        b.gamma2 = add(p + 'ls2.gamma', d, 0.3, 0.5);
      }
    }
    blocks.push(b);
  }
  const weights: VitSpec['weights'] = {
    patchW: add('patch_embed.proj.weight', d * 3 * patch[0] * patch[1], 0.3),
    patchB: add('patch_embed.proj.bias', d, 0.1),
    clsToken: add('cls_token', d, 0.5),
    blocks,
  };
  if (layout === 'deit-distilled') weights.distToken = add('dist_token', d, 0.5);
  if (layout === 'patch-pos-only') weights.posEmbed = add('pos_embed', n * d, 0.5);
  else if (layout !== 'beit') weights.posEmbed = add('pos_embed', (n + s) * d, 0.5);
  const spec: VitSpec = {
    family: layout === 'hf' ? 'hf-vit' : layout === 'beit' ? 'beit' : layout === 'deit-distilled' ? 'deit-distilled' : 'timm-vit',
    layers, heads, dim: d, mlpDim: mlp, inChans: 3, patchSize: patch, imageSize: image, specialTokens: s,
    lnEps: layout === 'hf' ? 1e-12 : 1e-6,
    mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
    weights,
  };
  return { spec, w32 };
}

function pixelsFor(spec: VitSpec, batch: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(batch * 3 * spec.imageSize[0] * spec.imageSize[1]);
  for (let i = 0; i < a.length; i++) a[i] = (r() * 2 - 1) * 2;
  return a;
}

function to64(w32: Map<string, Float32Array>): Weights {
  const m: Weights = new Map();
  for (const [k, v] of w32) m.set(k, Float64Array.from(v));
  return m;
}

function closeRel(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const err = Math.abs(actual[i]! - e) / (abs + rel * Math.abs(e));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  assert.ok(worst <= 1, `${what}: worst element ${at}: got ${actual[at]} want ${expected[at]}`);
}

const layouts: Layout[] = ['timm', 'deit-distilled', 'beit', 'hf', 'patch-pos-only'];

for (const layout of layouts) {
  test(`analysis graph matches a float64 reference: ${layout}`, async () => {
    const { spec, w32 } = makeModel(layout, 7 + layouts.indexOf(layout));
    const weights = async (n: string): Promise<Float32Array> => {
      const v = w32.get(n);
      if (!v) throw new Error(`no ${n}`);
      return v;
    };
    const batch = 5;
    const px = pixelsFor(spec, batch, 99);
    const ref = naiveForward(spec, to64(w32), Float64Array.from(px), batch);
    const grid: [number, number] = [spec.imageSize[0] / spec.patchSize[0], spec.imageSize[1] / spec.patchSize[1]];
    const sums = naiveSums(ref, batch, spec.heads, grid, spec.patchSize);

    const fwd = await buildForwardOnlyGraph(spec, weights);
    const fs = await ort.InferenceSession.create(fwd.model, { graphOptimizationLevel: 'all' });
    const input = new ort.Tensor('float32', px, [batch, 3, spec.imageSize[0], spec.imageSize[1]]);
    const fo = await fs.run({ [fwd.inputName]: input });
    for (let l = 0; l < spec.layers; l++) {
      closeRel(fo[fwd.probNames[l]!]!.data as Float32Array, ref.probs[l]!, 1e-4, 1e-6, `probs l${l}`);
      closeRel(fo[fwd.blockNames[l]!]!.data as Float32Array, ref.blocks[l]!, 1e-4, 1e-4, `block l${l}`);
    }

    const g = await buildAnalysisGraph(spec, weights);
    const s = await ort.InferenceSession.create(g.model, { graphOptimizationLevel: 'all' });
    assert.deepEqual([...s.inputNames], ['pixel_values']);
    assert.deepEqual([...s.outputNames].sort(), ['attn_dist_image', 'attn_dist_sum', 'cross_image', 'gram', 'kl_sum', 'special_mass_image']);
    const o = await s.run({ pixel_values: input });
    const dist = o['attn_dist_sum']!;
    const kl = o['kl_sum']!;
    const gram = o['gram']!;
    assert.deepEqual(dist.dims, [spec.layers, spec.heads]);
    assert.deepEqual(kl.dims, [spec.layers, spec.heads, spec.heads]);
    assert.deepEqual(gram.dims, [spec.layers, batch, batch]);
    closeRel(dist.data as Float32Array, sums.dist.flat(), 1e-4, 1e-6, 'attn_dist_sum');
    closeRel(kl.data as Float32Array, sums.kl.flat(2), 1e-3, 1e-3, 'kl_sum');
    closeRel(gram.data as Float32Array, sums.gram.flat(2), 1e-4, 1e-3, 'gram');
    // KL of a head with itself is exactly zero; other pairs positive for random heads.
    const kd = kl.data as Float32Array;
    for (let l = 0; l < spec.layers; l++) for (let h = 0; h < spec.heads; h++) assert.equal(kd[(l * spec.heads + h) * spec.heads + h], 0);
  });
}

test('BEiT relative position index matches an independent construction', () => {
  for (const [gh, gw] of [[3, 3], [4, 2], [14, 14]] as Array<[number, number]>) {
    assert.deepEqual([...relativePositionIndex([gh, gw], 1)], [...naiveRelIndex(gh, gw)]);
  }
});

test('input size that does not match the position embedding is refused with not-analyzable', async () => {
  const { spec, w32 } = makeModel('timm', 1);
  const wrong: VitSpec = { ...spec, imageSize: [20, 12] };
  await assert.rejects(
    buildAnalysisGraph(wrong, async (n) => w32.get(n)!, { file: 'x.pth' }),
    (e: unknown) => e instanceof ModelLensError && e.code === 'not-analyzable' && /position embedding has 13 tokens/.test(e.message) && e.file === 'x.pth',
  );
  const badHeads: VitSpec = { ...spec, heads: 3 };
  await assert.rejects(buildAnalysisGraph(badHeads, async (n) => w32.get(n)!), (e: unknown) => e instanceof ModelLensError && e.code === 'not-analyzable');
  const shortW = new Map(w32);
  shortW.set('blocks.1.mlp.fc1.bias', new Float32Array(3));
  await assert.rejects(buildAnalysisGraph(spec, async (n) => shortW.get(n)!), (e: unknown) => e instanceof ModelLensError && /blocks\.1\.mlp\.fc1\.bias has 3 elements/.test(e.message));
});

test('centerGram: false gives the literal X Xᵀ; centring leaves unbiased HSIC unchanged', async () => {
  const { spec, w32 } = makeModel('timm', 21);
  const weights = async (n: string): Promise<Float32Array> => w32.get(n)!;
  const batch = 6;
  const px = pixelsFor(spec, batch, 5);
  const ref = naiveForward(spec, to64(w32), Float64Array.from(px), batch);
  const input = new ort.Tensor('float32', px, [batch, 3, spec.imageSize[0], spec.imageSize[1]]);
  const run = async (centerGram: boolean): Promise<Float32Array> => {
    const g = await buildAnalysisGraph(spec, weights, { centerGram });
    const s = await ort.InferenceSession.create(g.model, { graphOptimizationLevel: 'all' });
    return (await s.run({ pixel_values: input }))['gram']!.data as Float32Array;
  };
  const raw = await run(false);
  const cen = await run(true);
  const want: number[] = [];
  for (const X of ref.blocks) {
    const F = X.length / batch;
    for (let a = 0; a < batch; a++) for (let b = 0; b < batch; b++) {
      let s = 0;
      for (let f = 0; f < F; f++) s += X[a * F + f]! * X[b * F + f]!;
      want.push(s);
    }
  }
  closeRel(raw, want, 1e-4, 1e-3, 'raw gram');
  const hsic = (K: ArrayLike<number>, L: ArrayLike<number>, n: number): number => {
    let tr = 0, sk = 0, sl = 0, kl1 = 0;
    const k = (i: number, j: number): number => (i === j ? 0 : K[i * n + j]!);
    const l = (i: number, j: number): number => (i === j ? 0 : L[i * n + j]!);
    for (let i = 0; i < n; i++) {
      let rk = 0, rl = 0;
      for (let j = 0; j < n; j++) {
        tr += k(i, j) * l(j, i);
        sk += k(i, j);
        sl += l(i, j);
        rk += k(i, j);
        rl += l(j, i);
      }
      kl1 += rk * rl;
    }
    return (tr + (sk * sl) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * kl1) / (n * (n - 3));
  };
  const nn = batch * batch;
  for (let l = 0; l < spec.layers; l++) {
    const r = raw.subarray(l * nn, (l + 1) * nn);
    const c = cen.subarray(l * nn, (l + 1) * nn);
    const hr = hsic(r, r, batch);
    const hc = hsic(c, c, batch);
    assert.ok(Math.abs(hr - hc) <= 1e-3 * Math.abs(hr), `layer ${l}: HSIC raw ${hr} vs centred ${hc}`);
  }
});
