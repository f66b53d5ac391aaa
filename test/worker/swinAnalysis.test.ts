// Swin / SwinV2 through the whole job (reader → registry → Swin graph → onnxruntime → accumulators →
// analysis@1), every layout against the float64 PyTorch references of test/fixtures/swin/makeSwin.py;
// comparisons Swin×ViT and Swin×SwinV2 against the cross-model CKA references; the CLI on one layout;
// input sizes a checkpoint cannot run at are refused with the valid sizes named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnalysisResult } from '../../src/analysis/resultSchema';
import { runAnalysis } from '../../src/worker/analysisJob';
import { prepareModel } from '../../src/worker/modelPrep';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { recognize } from '../../src/model/recognize';
import { swinLayouts } from '../../src/analysis/graph/swinGraph';
import { ModelLensError } from '../../src/formats/errors';

const root = join(__dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const swin = join(fixtures, 'swin');

interface SwinRef {
  layers: number;
  headsPerLayer: number[];
  stageOfLayer: number[];
  uniformDistance: number[];
  attentionDistance: { perHead: number[][]; perLayer: number[] };
  headDiversity: { perHead: number[][]; perLayer: number[] };
  cka: { matrix: number[][]; batches: number };
}
interface SwinManifest {
  probeDir: string;
  batchSize: number;
  models: Array<{ file: string; ref: string; family: string; variant?: string; layout: string }>;
}
const manifest = JSON.parse(readFileSync(join(swin, 'manifest.json'), 'utf8')) as SwinManifest;
const hooks = (): { signal: AbortSignal; progress: () => void; log: () => void } => ({ signal: new AbortController().signal, progress: () => undefined, log: () => undefined });
const probes = join(fixtures, manifest.probeDir);

function closeRel(got: number | undefined, want: number, what: string): void {
  assert.ok(got !== undefined && Math.abs(got - want) <= 1e-3 * Math.abs(want) + 1e-9, `${what}: got ${got}, PyTorch ${want}`);
}

function checkSwin(res: Pick<AnalysisResult, 'attentionDistance' | 'headDiversity' | 'cka' | 'model'>, ref: SwinRef, label: string): void {
  assert.deepEqual(res.model.headsPerLayer, ref.headsPerLayer, `${label}: heads per layer`);
  assert.deepEqual(res.attentionDistance.perHead.map((r) => r.length), ref.headsPerLayer, `${label}: ragged per-head rows`);
  for (const [name, block] of [['AD', 'attentionDistance'], ['HD', 'headDiversity']] as const) {
    ref[block].perHead.forEach((row, l) => row.forEach((v, h) => closeRel(res[block].perHead[l]![h], v, `${label} ${name}[${l}][${h}]`)));
    ref[block].perLayer.forEach((v, l) => closeRel(res[block].perLayer[l], v, `${label} ${name} layer ${l}`));
  }
  assert.equal(res.cka.batches, ref.cka.batches);
  ref.cka.matrix.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(res.cka.matrix[i]![j]! - v) <= 2e-3, `${label} CKA[${i}][${j}] ${res.cka.matrix[i]![j]} vs ${v}`)));
  // The uniform-attention reference of each stage is the mean over its blocks.
  const stages = res.model.stages!;
  stages.forEach((st, s) => {
    const layers = ref.stageOfLayer.map((x, l) => (x === s ? l : -1)).filter((l) => l >= 0);
    assert.equal(st.firstLayer, layers[0]);
    assert.equal(st.layers, layers.length);
    const want = layers.reduce((a, l) => a + ref.uniformDistance[l]!, 0) / layers.length;
    assert.ok(Math.abs(st.uniformDistance - want) < 1e-9, `${label}: stage ${s} uniform ${st.uniformDistance} vs ${want}`);
  });
}

for (const m of manifest.models) {
  test(`Swin analysis of ${m.file} (${m.layout}) matches PyTorch float64`, async () => {
    const ref = JSON.parse(readFileSync(join(swin, m.ref), 'utf8')) as SwinRef;
    const res = await runAnalysis({ file: join(swin, m.file), images: probes, batchSize: manifest.batchSize, device: 'cpu', ...(m.variant ? { variant: m.variant } : {}) }, hooks(), prepareModel);
    assert.equal(res.model.family, m.family);
    assert.equal(res.model.layers, ref.layers);
    assert.equal(res.model.heads, Math.max(...ref.headsPerLayer));
    checkSwin(res, ref, m.file);
    JSON.parse(JSON.stringify(res));
  });
}

test('compare Swin with a ViT and with a SwinV2: cross-model CKA over blocks matches PyTorch', async () => {
  const v1 = manifest.models.find((m) => m.file === 'swin_timm_w4.safetensors')!;
  const vitRef = JSON.parse(readFileSync(join(swin, 'cross_swin_v1__vit_tiny_patch8_32.ref.json'), 'utf8')) as { crossCka: number[][] };
  const res = await runAnalysis({ file: join(swin, v1.file), fileB: join(fixtures, 'models', 'vit_tiny_patch8_32.pth'), images: probes, batchSize: 4, device: 'cpu' }, hooks(), prepareModel);
  checkSwin(res, JSON.parse(readFileSync(join(swin, 'swin_v1.ref.json'), 'utf8')) as SwinRef, 'A');
  assert.equal(res.compare!.crossCka.length, 6);
  vitRef.crossCka.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(res.compare!.crossCka[i]![j]! - v) <= 2e-3, `Swin×ViT CKA[${i}][${j}] ${res.compare!.crossCka[i]![j]} vs ${v}`)));
  const v2Ref = JSON.parse(readFileSync(join(swin, 'cross_swin_v1__swin_v2.ref.json'), 'utf8')) as { crossCka: number[][] };
  const res2 = await runAnalysis({ file: join(swin, v1.file), fileB: join(swin, 'swinv2_ms_w4.pth'), variantB: 'model', images: probes, batchSize: 4, device: 'cpu' }, hooks(), prepareModel);
  checkSwin(res2.compare!, JSON.parse(readFileSync(join(swin, 'swin_v2.ref.json'), 'utf8')) as SwinRef, 'B');
  v2Ref.crossCka.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(res2.compare!.crossCka[i]![j]! - v) <= 2e-3, `Swin×SwinV2 CKA[${i}][${j}]`)));
});

test('CLI: analyze a HuggingFace Swinv2Model folder file and read the ragged result', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'lens-swin-'));
  try {
    const r = spawnSync(process.execPath, [join(root, 'dist', 'cli.js'), 'analyze', join(swin, 'hf_swinv2_w4', 'model.safetensors'), '--images', probes, '--batch', '4', '--json', '-', '--no-cache'], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') },
    });
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as AnalysisResult;
    assert.equal(res.model.family, 'swinv2');
    checkSwin(res, JSON.parse(readFileSync(join(swin, 'swin_v2.ref.json'), 'utf8')) as SwinRef, 'CLI');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an input size the windows do not divide is refused, naming the valid sizes', async () => {
  const ckpt = await attachSidecarConfig(await openCheckpoint(join(swin, 'hf_swin_w4', 'model.safetensors')));
  const bad = recognize({ ...ckpt, config: { ...ckpt.config, image_size: 40 } });
  assert.equal(bad.swinSpec, undefined);
  assert.match(bad.summary.notAnalyzable ?? '', /input 40×40 does not fit windows 4\/4\/4 with patch 2; valid square sizes: 32, 64, 96, 128/);
  const { swinSpec } = recognize(ckpt);
  assert.throws(() => swinLayouts({ ...swinSpec!, imageSize: [48, 48] }, 'x.safetensors'), (e: unknown) => e instanceof ModelLensError && /valid square sizes: 32, 64, 96/.test(e.message) && /no padding/.test(e.message));
});

test('buffers in the file are checked: an attn_mask that is not the shift mask is a typed error naming the tensor', async () => {
  // This older fixture stores zeros where the shifted blocks' mask has −100 entries.
  await assert.rejects(
    runAnalysis({ file: join(fixtures, 'models', 'swin_tiny_like_w4.pth'), variant: 'model', images: probes, batchSize: 4, device: 'cpu' }, hooks(), prepareModel),
    (e: unknown) => e instanceof ModelLensError && e.code === 'corrupt' && /layers\.0\.blocks\.1\.attn_mask differs from the window layout/.test(e.message),
  );
});
