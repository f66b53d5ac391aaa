// Closes the loop between recognition and the PyTorch references: for every analyzable fixture, the
// VitSpec from recognize() plus the weights from the real readers, run through the independent float64
// JS forward pass (test/analysis/graph/naiveVit.ts) and the DESIGN.md metric sums, must reproduce the
// float64 numbers makeFixtures.py computed with hooks in PyTorch. A wrong tensor mapping, eps, token
// count, mean/std or layout in recognition shows up here as a metric mismatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { recognize } from '../../src/model/recognize';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import { decodeImage } from '../../src/analysis/imageDecode';
import { CkaAccumulator } from '../../src/analysis/hsic';
import type { VitSpec } from '../../src/model/modelTypes';
import { naiveForward, naiveSums, type Weights } from '../analysis/graph/naiveVit';
import { FIX, manifest } from './archManifest';

interface Ref {
  probeDir: string; probes: string[]; batchSize: number; heads: number; layers: number; specialTokens: number;
  imageSize: [number, number]; patchSize: [number, number]; mean: number[]; std: number[];
  attentionDistance: { perHead: number[][]; perLayer: number[] };
  headDiversity: { perHead: number[][]; perLayer: number[] };
  cka: { matrix: number[][]; batches: number };
}

async function loadWeights(file: string, spec: VitSpec): Promise<Weights> {
  const ckpt = await openCheckpoint(file);
  const byName = new Map(ckpt.tensors.map((t) => [t.name, t]));
  const w = spec.weights;
  const names = [w.patchW, w.patchB, w.clsToken, w.distToken, w.posEmbed, w.sharedRelPosTable];
  for (const b of w.blocks) names.push(...Object.entries(b).filter(([k]) => k !== 'relPosIndex').map(([, v]) => v));
  const out: Weights = new Map();
  for (const n of names) {
    if (n === undefined) continue;
    const t = byName.get(n);
    assert.ok(t, `spec names ${n}, which the reader does not list`);
    out.set(n, Float64Array.from(await readTensorF32(t)));
  }
  return out;
}

/** PNG → /255 → (x − mean)/std in float64, CHW, like the reference (the images are already at input size). */
function pixels(dir: string, names: string[], spec: VitSpec): Float64Array {
  const [h, w] = spec.imageSize;
  const out = new Float64Array(names.length * 3 * h * w);
  names.forEach((n, b) => {
    const img = decodeImage(new Uint8Array(readFileSync(join(dir, n))), n);
    assert.equal(img.width, w);
    assert.equal(img.height, h);
    for (let c = 0; c < 3; c++)
      for (let p = 0; p < h * w; p++) out[(b * 3 + c) * h * w + p] = ((img.data[p * 3 + c] as number) / 255 - spec.mean[c]!) / spec.std[c]!;
  });
  return out;
}

interface Run { ad: number[][]; hd: number[][]; grams: Float64Array[]; n: number[] }

function runModel(spec: VitSpec, W: Weights, dir: string, files: string[], batch: number): Run {
  const L = spec.layers;
  const H = spec.heads;
  const grid: [number, number] = [spec.imageSize[0] / spec.patchSize[0], spec.imageSize[1] / spec.patchSize[1]];
  const dist = Array.from({ length: L }, () => new Float64Array(H));
  const kl = Array.from({ length: L }, () => new Float64Array(H * H));
  const grams: Float64Array[] = [];
  const ns: number[] = [];
  let count = 0;
  for (let s = 0; s < files.length; s += batch) {
    const names = files.slice(s, s + batch);
    const B = names.length;
    const sums = naiveSums(naiveForward(spec, W, pixels(dir, names, spec), B), B, H, grid, spec.patchSize);
    count += B * grid[0] * grid[1];
    for (let l = 0; l < L; l++)
      for (let h = 0; h < H; h++) {
        dist[l]![h]! += sums.dist[l]![h]!;
        for (let g = 0; g < H; g++) kl[l]![h * H + g]! += sums.kl[l]![h]![g]!;
      }
    const g = new Float64Array(L * B * B);
    for (let l = 0; l < L; l++) for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) g[(l * B + i) * B + j] = sums.gram[l]![i]![j]!;
    grams.push(g);
    ns.push(B);
  }
  const ad = dist.map((row) => Array.from(row, (v) => v / count));
  const hd = kl.map((row) => Array.from({ length: H }, (_, h) => {
    let s = 0;
    for (let g = 0; g < H; g++) if (g !== h) s += row[h * H + g]! / count;
    return s / (H - 1);
  }));
  return { ad, hd, grams, n: ns };
}

function close(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

const runs = new Map<string, { spec: VitSpec; run: Run }>();

for (const e of manifest.models) {
  if (!e.analyzable || e.family === 'onnx-graph' || !('ref' in e)) continue;
  test(`spec + weights reproduce the PyTorch reference: ${e.file}`, async () => {
    const file = join(FIX, e.file);
    const { spec, summary } = recognize(await attachSidecarConfig(await openCheckpoint(file)));
    assert.ok(spec, summary.notAnalyzable);
    const ref = JSON.parse(readFileSync(join(FIX, (e as unknown as { ref: string }).ref), 'utf8')) as Ref;
    const dir = join(FIX, ref.probeDir);
    const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    assert.deepEqual(files, ref.probes);
    const W = await loadWeights(file, spec);
    const run = runModel(spec, W, dir, files, ref.batchSize);
    runs.set(e.file, { spec, run });
    for (let l = 0; l < spec.layers; l++)
      for (let h = 0; h < spec.heads; h++) {
        close(run.ad[l]![h]!, ref.attentionDistance.perHead[l]![h]!, 1e-9, `${e.file} AD[${l}][${h}]`);
        close(run.hd[l]![h]!, ref.headDiversity.perHead[l]![h]!, 1e-9, `${e.file} HD[${l}][${h}]`);
      }
    const acc = new CkaAccumulator([spec.layers]);
    run.grams.forEach((g, i) => acc.addBatch([g], run.n[i]!));
    assert.equal(acc.batches, ref.cka.batches);
    const m = acc.matrix();
    for (let i = 0; i < spec.layers; i++) for (let j = 0; j < spec.layers; j++) close(m[i]![j]!, ref.cka.matrix[i]![j]!, 1e-9, `${e.file} CKA[${i}][${j}]`);
  });
}

test('cross-model CKA reproduces the PyTorch reference (same batches through both models)', () => {
  const ref = JSON.parse(readFileSync(join(FIX, 'models', 'cross_vit_tiny_patch8_32__mae_pretrain_vit_tiny_patch8.ref.json'), 'utf8')) as { crossCka: number[][]; batches: number };
  const a = runs.get('models/vit_tiny_patch8_32.pth');
  const b = runs.get('models/mae_pretrain_vit_tiny_patch8.pth');
  assert.ok(a && b, 'the per-model tests ran first');
  const acc = new CkaAccumulator([a.spec.layers, b.spec.layers]);
  a.run.grams.forEach((g, i) => acc.addBatch([g, b.run.grams[i]!], a.run.n[i]!));
  assert.equal(acc.batches, ref.batches);
  const m = acc.matrix(0, 1);
  for (let i = 0; i < a.spec.layers; i++) for (let j = 0; j < b.spec.layers; j++) close(m[i]![j]!, ref.crossCka[i]![j]!, 1e-9, `crossCka[${i}][${j}]`);
});
