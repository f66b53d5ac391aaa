// End-to-end numbers: reader → recognition → ONNX graph → onnxruntime → float64 sums, against the PyTorch
// float64 references written by test/fixtures/makeFixtures.py, for every fixture layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisResult, MetricBlock } from '../../src/analysis/resultSchema';
import { runAnalysis } from '../../src/worker/analysisJob';
import { prepareModel } from '../../src/worker/modelPrep';
import type { AnalysisRunParams } from '../../src/protocol/workerProtocol';

const fixtures = join(__dirname, '..', '..', '..', 'test', 'fixtures');

interface Ref {
  model?: string;
  probeDir: string;
  batchSize: number;
  layers: number;
  heads: number;
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  cka: { matrix: number[][]; batches: number };
}

interface ManifestModel { file: string; ref?: string; analyzable: boolean }
const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { models: ManifestModel[] };

const hooks = (): { signal: AbortSignal; progress: () => void; log: () => void } => ({ signal: new AbortController().signal, progress: () => undefined, log: () => undefined });

function closeRel(got: number, want: number, rel: number, what: string): void {
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want) + 1e-9, `${what}: got ${got}, PyTorch ${want} (rel ${(Math.abs(got - want) / Math.abs(want)).toExponential(2)})`);
}
function closeAbs(got: number, want: number, abs: number, what: string): void {
  assert.ok(Math.abs(got - want) <= abs, `${what}: got ${got}, PyTorch ${want}`);
}

export function checkAgainstRef(res: Pick<AnalysisResult, 'attentionDistance' | 'headDiversity' | 'cka'>, ref: Ref, label: string): void {
  assert.equal(res.attentionDistance.perHead.length, ref.layers, `${label}: layers`);
  ref.attentionDistance.perHead.forEach((row, l) => row.forEach((v, h) => closeRel(res.attentionDistance.perHead[l]![h]!, v, 1e-3, `${label} AD[${l}][${h}]`)));
  ref.attentionDistance.perLayer.forEach((v, l) => closeRel(res.attentionDistance.perLayer[l]!, v, 1e-3, `${label} AD layer ${l}`));
  ref.headDiversity.perHead.forEach((row, l) => row.forEach((v, h) => closeRel(res.headDiversity.perHead[l]![h]!, v, 1e-3, `${label} HD[${l}][${h}]`)));
  ref.headDiversity.perLayer.forEach((v, l) => closeRel(res.headDiversity.perLayer[l]!, v, 1e-3, `${label} HD layer ${l}`));
  assert.equal(res.cka.batches, ref.cka.batches, `${label}: CKA batches`);
  ref.cka.matrix.forEach((row, i) => row.forEach((v, j) => closeAbs(res.cka.matrix[i]![j]!, v, 2e-3, `${label} CKA[${i}][${j}]`)));
}

for (const m of manifest.models.filter((x) => x.ref && x.analyzable)) {
  test(`analysis of ${m.file} matches PyTorch float64`, async () => {
    const ref = JSON.parse(readFileSync(join(fixtures, m.ref as string), 'utf8')) as Ref;
    const params: AnalysisRunParams = { file: join(fixtures, m.file), images: join(fixtures, ref.probeDir), batchSize: ref.batchSize, device: 'cpu' };
    const res = await runAnalysis(params, hooks(), prepareModel);
    assert.equal(res.schema, 'model-lens/analysis@1');
    assert.equal(res.probe.source, 'folder');
    assert.equal(res.probe.count, 10);
    assert.equal(res.device.used, 'cpu');
    checkAgainstRef(res, ref, m.file);
    assert.ok(res.warnings.some((w) => /fewer than 4/.test(w)), 'the final batch of 2 is reported as left out of CKA');
    // Plain nested number arrays, as the schema promises.
    assert.ok(Array.isArray(res.attentionDistance.perHead[0]) && typeof res.attentionDistance.perHead[0][0] === 'number');
    JSON.parse(JSON.stringify(res));
  });
}

test('compare: both models see the same batches; own metrics and cross-model CKA match PyTorch', async () => {
  const refA = JSON.parse(readFileSync(join(fixtures, 'models/vit_tiny_patch8_32.ref.json'), 'utf8')) as Ref;
  const refB = JSON.parse(readFileSync(join(fixtures, 'models/mae_pretrain_vit_tiny_patch8.ref.json'), 'utf8')) as Ref;
  const cross = JSON.parse(readFileSync(join(fixtures, 'models/cross_vit_tiny_patch8_32__mae_pretrain_vit_tiny_patch8.ref.json'), 'utf8')) as { crossCka: number[][]; batches: number; probeDir: string; batchSize: number };
  const res = await runAnalysis({
    file: join(fixtures, 'models/vit_tiny_patch8_32.pth'), fileB: join(fixtures, 'models/mae_pretrain_vit_tiny_patch8.pth'),
    images: join(fixtures, cross.probeDir), batchSize: cross.batchSize, device: 'cpu',
  }, hooks(), prepareModel);
  checkAgainstRef(res, refA, 'A');
  assert.ok(res.compare, 'compare block');
  checkAgainstRef(res.compare, refB, 'B');
  assert.equal(res.compare.crossCka.length, refA.layers);
  cross.crossCka.forEach((row, i) => row.forEach((v, j) => closeAbs(res.compare!.crossCka[i]![j]!, v, 2e-3, `crossCKA[${i}][${j}]`)));
});

test('synthetic probes when asked for, with the warning; --limit sets the count', async () => {
  const res = await runAnalysis({ file: join(fixtures, 'models/vit_tiny_patch8_32.pth'), images: 'synthetic', limit: 9, batchSize: 4, device: 'auto' }, hooks(), prepareModel);
  assert.equal(res.probe.source, 'synthetic');
  assert.equal(res.probe.count, 9);
  assert.equal(res.cka.batches, 2);
  assert.ok(res.warnings.some((w) => /synthetic/.test(w)));
  // No GPU here: auto quietly falls back to CPU with a reason, not an error.
  assert.equal(res.device.requested, 'auto');
  if (res.device.used === 'cpu') assert.match(res.device.fallbackReason ?? '', /\S/);
  for (const row of res.cka.matrix) for (const v of row) assert.ok(Number.isFinite(v));
});

test('the bundled photographs by default, without the synthetic warning', async () => {
  const res = await runAnalysis({ file: join(fixtures, 'models/vit_tiny_patch8_32.pth'), limit: 8, batchSize: 4, device: 'cpu' }, hooks(), prepareModel);
  assert.equal(res.probe.source, 'folder');
  assert.equal(res.probe.bundled, true);
  assert.equal(res.probe.count, 8);
  assert.ok(!res.warnings.some((w) => /synthetic/.test(w)));
});

test('batches below 4 are left out of CKA with one note naming the batch size rule, not "the last batch"', async () => {
  const res = await runAnalysis({ file: join(fixtures, 'models/vit_tiny_patch8_32.pth'), images: 'synthetic', limit: 6, batchSize: 2, device: 'cpu' }, hooks(), prepareModel);
  assert.equal(res.cka.batches, 0);
  assert.ok(res.warnings.some((w) => /CKA needs batches of at least 4 images.*3 batches \(6 images\)/.test(w)), res.warnings.join(' | '));
  assert.ok(!res.warnings.some((w) => /The last batch/.test(w)));
});

test('not analyzable checkpoints are a clear typed error', async () => {
  await assert.rejects(
    runAnalysis({ file: join(fixtures, 'models/tiny_cnn.pth'), batchSize: 4, device: 'cpu' }, hooks(), prepareModel),
    (e: unknown) => (e as { code?: string }).code === 'not-analyzable' && /tiny_cnn\.pth/.test((e as Error).message),
  );
});

test('decoding the next batch during the run (GPU mode) gives identical numbers, for compare too', async () => {
  const base: AnalysisRunParams = {
    file: join(fixtures, 'models/vit_tiny_patch8_32.pth'), fileB: join(fixtures, 'models/mae_pretrain_vit_tiny_patch8.pth'),
    images: join(fixtures, 'probes/mixed'), batchSize: 3, device: 'cpu',
  };
  const a = await runAnalysis(base, hooks(), prepareModel, { prefetch: false });
  const b = await runAnalysis(base, hooks(), prepareModel, { prefetch: true });
  assert.equal(a.probe.count, 8);
  assert.equal(a.probe.preprocess.skipped, 1);
  assert.deepEqual(b.attentionDistance, a.attentionDistance);
  assert.deepEqual(b.headDiversity, a.headDiversity);
  assert.deepEqual(b.cka, a.cka);
  assert.deepEqual(b.compare?.crossCka, a.compare?.crossCka);
  assert.deepEqual(b.warnings, a.warnings);
});
