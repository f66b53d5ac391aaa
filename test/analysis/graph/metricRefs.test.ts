// The per-image outputs, both distance conventions, special-token mass, entropy, the CKA token modes and
// the intervals of the engine against the float64 PyTorch references of test/fixtures/metrics/makeMetricRefs.py:
// fixture checkpoint → buildAnalysisGraph (and, for the token modes, the instrumentation of the same
// model's forward graph) → onnxruntime on the probe PNGs → AttentionAccumulator / CkaAccumulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../../src/formats/tensorData';
import { recognize } from '../../../src/model/recognize';
import { attachSidecarConfig } from '../../../src/model/sidecarConfig';
import { buildAnalysisGraph, buildForwardOnlyGraph } from '../../../src/analysis/graph/vitGraph';
import { instrumentOnnx } from '../../../src/analysis/graph/instrument';
import { folderProbeSet, batchTensor } from '../../../src/analysis/probes';
import { AttentionAccumulator, attentionBlocks } from '../../../src/analysis/accumulator';
import { CkaAccumulator } from '../../../src/analysis/hsic';
import type { CkaTokens, DistanceConvention, MetricBlock } from '../../../src/analysis/resultSchema';
import type { VitSpec } from '../../../src/model/modelTypes';

const FIX = resolve(__dirname, '..', '..', '..', '..', 'test', 'fixtures');

interface RefBlock {
  perHead: number[][];
  perLayer: number[];
  ci95: { perHead: Array<Array<[number, number]>>; perLayer: Array<[number, number]> };
}

export interface ModelRef {
  model: string;
  file: string;
  probeDir: string;
  batchSize: number;
  imageSize: [number, number];
  heads: number;
  layers: number;
  patchTokens: number;
  perImageSums: { distance: number[][][]; distanceVit: number[][][]; specialMass: number[][][]; cross: number[][][][] };
  attentionDistance: RefBlock;
  attentionDistanceVit: RefBlock;
  headDiversity: RefBlock;
  specialMass: RefBlock;
  attentionEntropy: RefBlock;
  ckaByTokens: Record<CkaTokens, number[][]>;
  ckaBatches: number;
}

const refs = JSON.parse(readFileSync(join(FIX, 'metrics', 'metricRefs.json'), 'utf8')) as { models: ModelRef[] };
const MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const STD: [number, number, number] = [0.229, 0.224, 0.225];

async function specOf(ref: ModelRef): Promise<{ spec: VitSpec; weights: (n: string) => Promise<Float32Array> }> {
  const ckpt = await attachSidecarConfig(await openCheckpoint(join(FIX, ref.file)));
  const { spec } = recognize(ckpt);
  assert.ok(spec);
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  return { spec, weights: async (n) => readTensorF32(byName.get(n)!) };
}

interface Run {
  acc: AttentionAccumulator;
  cka: CkaAccumulator;
  perImage: { dist: Float64Array; special: Float64Array; cross: Float64Array };
}

/** Runs a contract graph over the reference's probes; per-image outputs are kept in probe order as [img][L][H](·H). */
async function runGraph(model: Uint8Array, ref: ModelRef): Promise<Run> {
  // The product's own session options log at level 3 too (devices.ts); a CKA token mode leaves one
  // unused shape constant that onnxruntime drops with a warning.
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const { layers: L, heads: H } = ref;
  const acc = new AttentionAccumulator(L, H, ref.patchTokens);
  const cka = new CkaAccumulator([L]);
  const dist: number[] = [];
  const special: number[] = [];
  const cross: number[] = [];
  for (const batch of folderProbeSet(join(FIX, ref.probeDir)).batches(ref.batchSize, (n, p) => assert.fail(`${n}: ${p}`))) {
    const b = batch.length;
    const out = await session.run({ pixel_values: new ort.Tensor('float32', batchTensor(batch, ref.imageSize, MEAN, STD), [b, 3, ...ref.imageSize]) });
    const d = out['attn_dist_image']!;
    const c = out['cross_image']!;
    const s = out['special_mass_image']!;
    assert.deepEqual(d.dims, [L, b, H]);
    assert.deepEqual(c.dims, [L, b, H, H]);
    assert.deepEqual(s.dims, [L, b, H]);
    const dd = d.data as Float32Array;
    const cd = c.data as Float32Array;
    const sd = s.data as Float32Array;
    for (let i = 0; i < b; i++) {
      for (let l = 0; l < L; l++) {
        for (let h = 0; h < H; h++) {
          dist.push(dd[(l * b + i) * H + h]!);
          special.push(sd[(l * b + i) * H + h]!);
          for (let h2 = 0; h2 < H; h2++) cross.push(cd[((l * b + i) * H + h) * H + h2]!);
        }
      }
    }
    acc.add(out['attn_dist_sum']!.data as Float32Array, out['kl_sum']!.data as Float32Array, b, { dist: dd, cross: cd, special: sd });
    cka.addBatch([out['gram']!.data as Float32Array], b);
  }
  await session.release();
  return { acc, cka, perImage: { dist: Float64Array.from(dist), special: Float64Array.from(special), cross: Float64Array.from(cross) } };
}

function close(got: number, want: number, rel: number, abs: number, what: string): void {
  assert.ok(Math.abs(got - want) <= abs + rel * Math.abs(want), `${what}: ${got}, reference ${want}`);
}

function compareBlock(got: MetricBlock | undefined, want: RefBlock, rel: number, abs: number, what: string): void {
  assert.ok(got, `${what} missing`);
  want.perHead.forEach((row, l) => row.forEach((v, h) => close(got.perHead[l]![h]!, v, rel, abs, `${what}[${l}][${h}]`)));
  want.perLayer.forEach((v, l) => close(got.perLayer[l]!, v, rel, abs, `${what} layer ${l}`));
  assert.ok(got.ci95, `${what}: no interval`);
  // Float32 per-image values move the order statistics by about their own rounding.
  want.ci95.perLayer.forEach(([lo, hi], l) => {
    close(got.ci95!.perLayer[l]![0], lo, rel, abs, `${what} ci lo ${l}`);
    close(got.ci95!.perLayer[l]![1], hi, rel, abs, `${what} ci hi ${l}`);
  });
  want.ci95.perHead.forEach((row, l) => row.forEach(([lo, hi], h) => {
    close(got.ci95!.perHead[l]![h]![0], lo, rel, abs, `${what} ci lo [${l}][${h}]`);
    close(got.ci95!.perHead[l]![h]![1], hi, rel, abs, `${what} ci hi [${l}][${h}]`);
  }));
}

for (const ref of refs.models) {
  for (const convention of ['renormalised', 'vit'] as DistanceConvention[]) {
    test(`per-image outputs, mass, entropy and intervals match float64 PyTorch (${convention}): ${ref.model}`, async () => {
      const { spec, weights } = await specOf(ref);
      const g = await buildAnalysisGraph(spec, weights, { distanceConvention: convention });
      const run = await runGraph(g.model, ref);
      const wantDist = (convention === 'vit' ? ref.perImageSums.distanceVit : ref.perImageSums.distance).flat(2);
      assert.equal(run.perImage.dist.length, wantDist.length);
      wantDist.forEach((v, k) => close(run.perImage.dist[k]!, v, 1e-5, 1e-4, `distance sum ${k}`));
      ref.perImageSums.specialMass.flat(2).forEach((v, k) => close(run.perImage.special[k]!, v, 1e-5, 1e-6, `special mass sum ${k}`));
      ref.perImageSums.cross.flat(3).forEach((v, k) => close(run.perImage.cross[k]!, v, 1e-5, 1e-3, `cross ${k}`));
      const blocks = attentionBlocks(run.acc);
      compareBlock(blocks.attentionDistance, convention === 'vit' ? ref.attentionDistanceVit : ref.attentionDistance, 1e-5, 1e-5, 'AD');
      compareBlock(blocks.headDiversity, ref.headDiversity, 1e-4, 1e-5, 'HD');
      compareBlock(blocks.specialMass, ref.specialMass, 1e-5, 1e-7, 'SM');
      compareBlock(blocks.attentionEntropy, ref.attentionEntropy, 1e-5, 1e-6, 'EN');
      assert.equal(blocks.specialMass?.unit, 'fraction');
    });
  }

  test(`CKA token modes match float64 PyTorch, built and instrumented: ${ref.model}`, async () => {
    const { spec, weights } = await specOf(ref);
    const fwd = await buildForwardOnlyGraph(spec, weights);
    for (const tokens of ['all', 'patch', 'cls', 'mean'] as CkaTokens[]) {
      const built = await buildAnalysisGraph(spec, weights, { ckaTokens: tokens });
      const inst = await instrumentOnnx(fwd.model, { file: 'fwd.onnx', ckaTokens: tokens });
      for (const [how, model] of [['built', built.model], ['instrumented', inst.model]] as const) {
        const run = await runGraph(model, ref);
        assert.equal(run.cka.batches, ref.ckaBatches);
        const got = run.cka.matrix(0);
        ref.ckaByTokens[tokens].forEach((row, l) => row.forEach((v, m) => close(got[l]![m]!, v, 0, 2e-3, `${how} CKA ${tokens}[${l}][${m}]`)));
      }
    }
    // Any two modes must differ by more than twice the tolerance somewhere, or the test could not tell them apart.
    const modes = ['all', 'patch', 'cls', 'mean'] as CkaTokens[];
    for (const a of modes) {
      for (const b of modes) {
        if (a >= b) continue;
        const gap = Math.max(...ref.ckaByTokens[a].flatMap((row, l) => row.map((v, m) => Math.abs(v - ref.ckaByTokens[b][l]![m]!))));
        assert.ok(gap > 4e-3, `CKA ${a} and ${b} differ by only ${gap}`);
      }
    }
  });
}
