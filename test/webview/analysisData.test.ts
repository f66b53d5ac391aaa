import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  batchPlan,
  collectWarnings,
  deviceInfo,
  formatParams,
  headPoints,
  layerPoints,
  matrixCells,
  modelRows,
  offDiagonalMean,
  probeRows,
  scaleColor,
  textOn,
  viridis,
} from '../../webview/analysisData';
import { ckaUnavailableText, compareLabels, csvMetricsOf, exportBaseName, exportFileName, hasCka, toCsv } from '../../src/protocol/analysisExport';
import { isAnalysisResult, resultProblem } from '../../src/protocol/analysisResultCheck';
import { withAlpha } from '../../webview/analysisTheme';
import { metricChartConfig, seriesOffset, uniformPoints } from '../../webview/analysisCharts';
import type { AnalysisResult } from '../../src/analysis/resultSchema';
import type { AnalysisViewState } from '../../src/protocol/analysisViewProtocol';
import { errorCardModel, problemText } from '../../webview/analysisErrors';

const root = resolve(__dirname, '..', '..', '..');
const fixture = (name: string): AnalysisResult => JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', name), 'utf8')) as AnalysisResult;

/** Minimal RFC 4180 parser, written here so the CSV is checked independently of how it was produced. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

test('per-head CSV holds exactly the JSON numbers (single and compare)', () => {
  for (const name of ['vitb16-mim.json', 'vitb16-compare.json']) {
    const r = fixture(name);
    for (const metric of ['attentionDistance', 'headDiversity'] as const) {
      const rows = parseCsv(toCsv(r, metric));
      const unit = metric === 'attentionDistance' ? 'px' : 'nats';
      assert.deepEqual(rows[0]!.slice(0, 4), ['model', 'layer', `mean_${unit}`, `head_1_${unit}`]);
      const blocks = r.compare ? [r[metric], r.compare[metric]] : [r[metric]];
      const labels = r.compare ? compareLabels(r.model, r.compare.model) : ['checkpoint-799.pth'];
      assert.equal(rows.length, 1 + blocks.reduce((n, b) => n + b.perLayer.length, 0));
      let i = 1;
      blocks.forEach((b, m) => {
        b.perLayer.forEach((mean, l) => {
          const row = rows[i++]!;
          assert.equal(row[0], labels[m]);
          assert.equal(Number(row[1]), l + 1);
          assert.equal(Number(row[2]), mean);
          assert.deepEqual(row.slice(3).map(Number), b.perHead[l]);
        });
      });
    }
  }
});

test('CKA and cross-CKA CSV hold the matrices; crossCka only for comparisons', () => {
  const r = fixture('vitb16-compare.json');
  const cka = parseCsv(toCsv(r, 'cka'));
  assert.equal(cka.length, 1 + 24);
  assert.deepEqual(cka.slice(1, 13).map((row) => row.slice(2).map(Number)), r.cka.matrix);
  assert.deepEqual(cka.slice(13).map((row) => row.slice(2).map(Number)), r.compare!.cka.matrix);
  const cross = parseCsv(toCsv(r, 'crossCka'));
  assert.deepEqual(cross[0]!.slice(0, 3), ['model', 'layer_a', 'layer_b_1']);
  assert.deepEqual(cross.slice(1).map((row) => row.slice(2).map(Number)), r.compare!.crossCka);
  assert.deepEqual(csvMetricsOf(r), ['attentionDistance', 'headDiversity', 'cka', 'crossCka']);
  assert.deepEqual(csvMetricsOf(fixture('vitb16-mim.json')), ['attentionDistance', 'headDiversity', 'cka']);
  assert.throws(() => toCsv(fixture('vitb16-mim.json'), 'crossCka'));
});

test('CSV quotes names with commas/quotes and leaves missing values empty', () => {
  const r = fixture('vitb16-mim.json');
  r.model.file = '/x/a,"b".pth';
  (r.attentionDistance.perHead[0] as (number | null)[])[1] = null;
  const rows = parseCsv(toCsv(r, 'attentionDistance'));
  assert.equal(rows[1]![0], 'a,"b".pth');
  assert.equal(rows[1]![4], '');
});

test('chart data shaping: one point per head and per layer, layers 1-based, offsets applied', () => {
  const r = fixture('vitb16-compare.json');
  const pts = headPoints(r.attentionDistance, 0.12);
  assert.equal(pts.length, 144);
  for (const p of pts) {
    assert.equal(p.y, r.attentionDistance.perHead[p.layer - 1]![p.head - 1]);
    assert.ok(Math.abs(p.x - (p.layer + 0.12)) < 1e-12);
  }
  const means = layerPoints(r.headDiversity);
  assert.deepEqual(means.map((p) => p.y), r.headDiversity.perLayer);
  assert.deepEqual(means.map((p) => p.x), Array.from({ length: 12 }, (_, i) => i + 1));
  const cells = matrixCells(r.compare!.crossCka);
  assert.equal(cells.length, 144);
  for (const c of cells) assert.equal(c.v, r.compare!.crossCka[c.y - 1]![c.x - 1]);
  // Non-finite values (JSON null) are left out rather than drawn at 0.
  assert.equal(headPoints({ perHead: [[1, null as unknown as number, NaN]], perLayer: [1], unit: 'px' }).length, 1);
  assert.deepEqual([seriesOffset(0, 1), seriesOffset(0, 2), seriesOffset(1, 2)], [0, -0.12, 0.12]);
});

test('colour scale: fixed 0..1, viridis endpoints, clamped, perceptually ordered', () => {
  assert.deepEqual(viridis(0), [68, 1, 84]);
  assert.deepEqual(viridis(1), [253, 231, 37]);
  assert.deepEqual(viridis(-3), viridis(0));
  assert.deepEqual(viridis(7), viridis(1));
  assert.equal(scaleColor(1.02), scaleColor(1));
  assert.equal(scaleColor(0.5), `rgb(${viridis(0.5).join(', ')})`);
  // Luminance grows monotonically along the scale, so brighter always means more similar.
  const lum = (c: number[]): number => 0.2126 * c[0]! + 0.7152 * c[1]! + 0.0722 * c[2]!;
  let prev = -1;
  for (let i = 0; i <= 100; i++) {
    const l = lum(viridis(i / 100));
    assert.ok(l >= prev - 1e-9, `luminance not decreasing at ${i / 100}`);
    prev = l;
  }
  assert.equal(textOn(viridis(0)), '#ffffff');
  assert.equal(textOn(viridis(1)), '#000000');
  assert.equal(withAlpha('#1a85ff', 0.5), 'rgba(26, 133, 255, 0.5)');
  assert.equal(withAlpha('#abc', 0.25), 'rgba(170, 187, 204, 0.25)');
  assert.equal(withAlpha('rgb(1, 2, 3)', 0.1), 'rgba(1, 2, 3, 0.1)');
});

test('warnings: engine warnings kept; synthetic, fallback and dropped CKA batch added once', () => {
  const r = fixture('vitb16-mim.json');
  const w = collectWarnings(r);
  // Device auto ran on the CPU: a normal outcome, said in the Run card, not a warning.
  assert.equal(r.device.requested, 'auto');
  assert.deepEqual(w.map((x) => x.kind).sort(), ['cka-batch']);
  assert.deepEqual(deviceInfo(r), { text: 'CPU', detail: `Device “auto” found no GPU it could use here, so the run used the CPU. Providers tried: ${r.device.fallbackReason}. Model Lens: Select Compute Device chooses another.` });
  assert.deepEqual(deviceInfo({ ...r, device: { requested: 'auto', used: 'cuda' } }), { text: 'CUDA' });
  assert.deepEqual(deviceInfo({ ...r, device: { requested: 'cuda', used: 'cpu', fallbackReason: 'no CUDA' } }), { text: 'CPU (requested CUDA; see warnings)' });
  // The engine's own wording of an auto fallback is dropped too; an explicit request keeps it.
  assert.deepEqual(collectWarnings({ ...r, warnings: ['Fell back to cpu: no GPU'] }).map((x) => x.kind), ['cka-batch']);
  const s = fixture('vitb16-compare.json');
  assert.deepEqual(collectWarnings(s).map((x) => x.kind), ['synthetic']);
  s.warnings = [];
  s.probe.count = 66;
  s.device = { requested: 'cuda', used: 'cpu', fallbackReason: 'no CUDA' };
  const kinds = collectWarnings(s).map((x) => x.kind);
  assert.deepEqual(kinds, ['synthetic', 'fallback', 'cka-batch']);
  s.probe.count = 68; // tail of 4 images is a valid CKA batch
  assert.ok(!collectWarnings(s).some((x) => x.kind === 'cka-batch'));
});

test('structural check accepts fixtures and names what is wrong otherwise', () => {
  assert.ok(isAnalysisResult(fixture('vitb16-mim.json')));
  assert.ok(isAnalysisResult(fixture('vitb16-compare.json')));
  assert.match(resultProblem({ schema: 'x' }) ?? '', /schema/);
  const r = fixture('vitb16-compare.json') as unknown as Record<string, unknown>;
  (r['compare'] as Record<string, unknown>)['crossCka'] = 'nope';
  assert.match(resultProblem(r) ?? '', /compare/);
  const q = fixture('vitb16-mim.json') as unknown as Record<string, unknown>;
  (q['cka'] as Record<string, unknown>)['matrix'] = [[1, '2']];
  assert.match(resultProblem(q) ?? '', /cka/);
});

test('labels, file names and header rows', () => {
  const r = fixture('vitb16-compare.json');
  assert.equal(exportBaseName(r), 'checkpoint-799-vs-model_best');
  assert.equal(exportFileName(r, 'json', 'json'), 'checkpoint-799-vs-model_best.analysis.json');
  assert.equal(exportFileName(r, 'cross-cka', 'png'), 'checkpoint-799-vs-model_best.cross-cka.png');
  const a = { ...r.model, file: '/a/x/m.pth' };
  const b = { ...r.model, file: '/b/m.pth' };
  assert.deepEqual(compareLabels(a, b), ['A: m.pth', 'B: m.pth']);
  const evil = fixture('vitb16-mim.json');
  evil.model.file = 'C:\\runs\\..\\<bad>:*?.pth';
  assert.match(exportBaseName(evil), /^[A-Za-z0-9._-]+$/);
  assert.equal(formatParams(85798656), '85.8M');
  assert.equal(formatParams(1.2e9), '1.20B');
  // 66 images in batches of 16: four full batches and a tail of 2, which CKA leaves out.
  assert.deepEqual(probeRows(fixture('vitb16-mim.json')).slice(1), [['Images', '66 in 4 batches of 16 + 1 of 2 at 224×224 px'], ['CKA', '4 batches of 16; the last 2 left out']]);
  const r56 = fixture('vitb16-mim.json');
  r56.probe.count = 56;
  assert.deepEqual(probeRows(r56).slice(1), [['Images', '56 in 3 batches of 16 + 1 of 8 at 224×224 px'], ['CKA', '3 batches of 16 + 1 of 8']]);
  assert.equal(batchPlan(64, 16), '4 batches of 16');
  assert.equal(batchPlan(3, 16), '1 batch of 3');
  assert.equal(batchPlan(17, 16), '1 batch of 16 + 1 of 1');
  // A metric's CSV and its chart's PNG share one name.
  assert.equal(exportFileName(r, 'attentionDistance', 'csv'), 'checkpoint-799-vs-model_best.attention-distance.csv');
  assert.equal(exportFileName(r, 'attention-distance', 'png'), 'checkpoint-799-vs-model_best.attention-distance.png');
  assert.equal(exportFileName(r, 'crossCka', 'csv'), 'checkpoint-799-vs-model_best.cross-cka.csv');
  assert.equal(offDiagonalMean([[1, 0.5], [0.25, 1]]), 0.375);
});

/** A result whose run had no batch of ≥ 4 images: CKA is null everywhere (as the engine writes NaN to JSON). */
function withoutCka(name: string): AnalysisResult {
  const r = fixture(name);
  const nulls = (m: number[][]): number[][] => m.map((row) => row.map(() => null as unknown as number));
  r.cka = { ...r.cka, matrix: nulls(r.cka.matrix), batches: 0 };
  r.probe = { ...r.probe, count: 3, batchSize: 16 };
  if (r.compare) r.compare = { ...r.compare, cka: { ...r.compare.cka, matrix: nulls(r.compare.cka.matrix), batches: 0 }, crossCka: nulls(r.compare.crossCka) };
  return r;
}

test('CKA unavailable (no batch of ≥ 4 images): detected, explained, no CKA exports', () => {
  assert.ok(hasCka(fixture('vitb16-mim.json').cka));
  const r = withoutCka('vitb16-compare.json');
  assert.ok(isAnalysisResult(r), 'null CKA is still a valid result');
  assert.equal(hasCka(r.cka), false);
  assert.equal(hasCka({ ...fixture('vitb16-mim.json').cka, batches: 0 }), false);
  assert.deepEqual(csvMetricsOf(r), ['attentionDistance', 'headDiversity']);
  assert.deepEqual(csvMetricsOf(withoutCka('vitb16-mim.json')), ['attentionDistance', 'headDiversity']);
  assert.match(ckaUnavailableText(r), /^CKA needs ≥ 4 images per batch; no batch of this run had that many \(3 images in batches of 16\)/);
});


test('error card: inspector title and hint, problem without the file prefix, one primary action that fits the error', () => {
  const files = ['/w/model.pth'];
  const card = (error: AnalysisViewState['error'], f: string[] = files): ReturnType<typeof errorCardModel> => errorCardModel({ key: f.join('\0'), files: f, title: 't', phase: 'error', ...(error ? { error } : {}) });
  const truncated = card({ code: 'truncated', message: '/w/model.pth @ offset 4096: file ends inside tensor data', file: '/w/model.pth', offset: 4096 });
  assert.equal(truncated.title, 'Truncated file');
  assert.equal(truncated.problem, 'File ends inside tensor data');
  assert.deepEqual(truncated.facts, [['File', '/w/model.pth'], ['Byte offset', '4096 (0x1000)'], ['Error code', 'truncated']]);
  assert.match(truncated.hint ?? '', /download it again/);
  // Running a truncated file again gives the same error: the inspector shows what is there instead.
  assert.equal(truncated.primary?.command, 'openInspector');
  const probe = card({ code: 'unknown-format', message: '/w/probes/x.png @ offset 0: not a PNG (bad signature)', file: '/w/probes/x.png', offset: 0 });
  assert.equal(probe.primary?.command, 'chooseProbeImages');
  assert.equal(probe.facts[0]![0], 'Probe image');
  const trust = card({ code: 'untrusted', message: 'Running a model needs a trusted workspace; the analysis starts when you trust this one.' });
  assert.equal(trust.title, 'Waiting for workspace trust');
  assert.equal(trust.primary?.command, 'manageTrust');
  const crash = card({ code: 'peer-exited', message: 'worker exited with code 134' });
  assert.equal(crash.primary?.command, 'rerun');
  assert.deepEqual(crash.facts, [['File', 'model.pth'], ['Error code', 'peer-exited']]);
  assert.equal(problemText('/a: b: c', '/a'), 'B: c');
  assert.equal(problemText('plain', undefined), 'Plain');
});

test('hierarchical models: stage rows, ragged heads and the per-stage uniform reference on the distance chart', () => {
  const stages = [
    { firstLayer: 0, layers: 2, heads: 2, grid: 16, window: 4, tokenPx: 2, uniformDistance: 3.75 },
    { firstLayer: 2, layers: 2, heads: 4, grid: 8, window: 4, tokenPx: 4, uniformDistance: 6.9 },
  ];
  const pts = uniformPoints(stages);
  assert.deepEqual(pts.map((p) => [p.x, p.y]), [[0.5, 3.75], [2.5, 3.75], [2.5, null], [2.5, 6.9], [4.5, 6.9]]);
  const block = { perHead: [[1, 2], [1, 3], [4, 5, 6, 7], [5, 5, 5, 5]], perLayer: [1.5, 2, 5.5, 5], unit: 'px' as const };
  const theme = { kind: 'light', background: '#fff', foreground: '#000', grid: '#eee', border: '#ccc', fontFamily: 'sans-serif', fontSize: 12, series: ['#f00', '#00f'] } as never;
  const cfg = metricChartConfig({ title: 't', yTitle: 'px', unit: 'px', digits: 1, meanStyle: 'line', theme, uniformReference: true, series: [{ label: 'swin', block, color: '#ff0000', stages }] });
  const roles = (cfg.data.datasets as unknown as Array<{ mlRole: string; data: unknown[] }>).map((d) => [d.mlRole, d.data.length]);
  assert.deepEqual(roles, [['heads', 12], ['mean', 4], ['uniform', 5]]);
  assert.ok((cfg.plugins ?? []).some((p) => p.id === 'mlStages'), 'stage separators and labels');
  const noStages = metricChartConfig({ title: 't', yTitle: 'px', unit: 'px', digits: 1, meanStyle: 'line', theme, uniformReference: true, series: [{ label: 'vit', block, color: '#ff0000' }] });
  assert.equal((noStages.data.datasets as unknown[]).length, 2);
  const rows = modelRows({ file: '/x/swin.pth', format: 'pytorch-zip', family: 'swin', layers: 4, heads: 4, headsSource: 'weights', dim: 8, patchSize: [2, 2], imageSize: [32, 32], specialTokens: 0, params: 1, dtype: 'F32', dtypes: {}, headsPerLayer: [2, 2, 4, 4], stages });
  assert.deepEqual(rows.find((r) => r[0] === 'Layers × heads'), ['Layers × heads', '2×2 · 2×4']);
  assert.match(rows.find((r) => r[0] === 'Stages')![1], /1: 16² tokens of 2 px, window 4; 2: 8² tokens of 4 px/);
});

test('model and Run cards show both sizes of a model analysed at a chosen size, and the one size otherwise', () => {
  const base = { file: '/x/dinov2.pth', format: 'pytorch-zip', family: 'dinov2', layers: 12, heads: 6, headsSource: 'config', dim: 384, patchSize: [14, 14], imageSize: [224, 224], specialTokens: 5, params: 1, dtype: 'F32', dtypes: {} } as const;
  const input = (m: Parameters<typeof modelRows>[0]): string | undefined => modelRows(m).find((r) => r[0] === 'Input')?.[1];
  assert.equal(input({ ...base, imageSize: [224, 224], patchSize: [14, 14] }), '224 px');
  const resampling = { method: 'bicubic', antialias: true, alignCorners: false, fromGrid: [37, 37], toGrid: [16, 16], prefixTokens: 1 } as const;
  const sized = { ...base, imageSize: [224, 224] as [number, number], patchSize: [14, 14] as [number, number], nativeImageSize: [518, 518] as [number, number], posEmbedResampling: { ...resampling, fromGrid: [37, 37] as [number, number], toGrid: [16, 16] as [number, number] } };
  assert.equal(input(sized), '224 px (native 518 px)');
  const r = fixture('vitb16-mim.json');
  assert.equal(probeRows(r).find((x) => x[0] === 'Input size'), undefined);
  assert.deepEqual(probeRows({ ...r, model: sized }).find((x) => x[0] === 'Input size'), ['Input size', 'analysed at 224 px (native 518 px, position embeddings resampled bicubic)']);
});
