// The view's additions for intervals, special mass and entropy: the exact uniform-attention reference,
// interval columns in the CSV, the extra CSV metrics, and the error bars / reference line in the chart config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniformAttentionDistance } from '../../webview/analysisData';
import { csvMetricsOf, toCsv } from '../../src/protocol/analysisExport';
import { metricChartConfig, uniformLinePoints } from '../../webview/analysisCharts';
import type { AnalysisResult, MetricBlock } from '../../src/analysis/resultSchema';
import type { ChartTheme } from '../../webview/analysisTheme';

/** Brute force: mean distance over all N² pairs of patch centres. */
function bruteUniform(gh: number, gw: number, ph: number, pw: number): number {
  let s = 0;
  const n = gh * gw;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += Math.hypot(ph * (Math.floor(i / gw) - Math.floor(j / gw)), pw * ((i % gw) - (j % gw)));
  return s / (n * n);
}

test('uniform-attention distance is exact: 8×8 grid of 4 px ≈ 16.55 px, ViT-B/16 at 224 ≈ 116.49 px', () => {
  assert.ok(Math.abs(uniformAttentionDistance(8, 8, 4, 4) - 16.545930845621516) < 1e-12);
  assert.ok(Math.abs(uniformAttentionDistance(14, 14, 16, 16) - 116.49222709176634) < 1e-9);
  for (const [gh, gw, ph, pw] of [[3, 5, 4, 7], [1, 6, 2, 2], [7, 2, 16, 8]] as const) {
    assert.ok(Math.abs(uniformAttentionDistance(gh, gw, ph, pw) - bruteUniform(gh, gw, ph, pw)) < 1e-9, `${gh}x${gw}`);
  }
});

const block = (unit: MetricBlock['unit'], ci: boolean): MetricBlock => ({
  perHead: [[1, 2], [3, 4]],
  perLayer: [1.5, 3.5],
  unit,
  ...(ci ? { ci95: { perHead: [[[0.9, 1.1], [1.8, 2.2]], [[2.9, 3.1], [3.8, 4.2]]], perLayer: [[1.4, 1.6], [3.3, 3.7]] } } : {}),
});

function result(): AnalysisResult {
  const model = { file: '/m.pth', family: 'timm-vit', layers: 2, heads: 2 } as unknown as AnalysisResult['model'];
  return {
    schema: 'model-lens/analysis@1', model, probe: { source: 'folder', count: 8, batchSize: 4, preprocess: { size: [32, 32], mean: [0, 0, 0], std: [1, 1, 1], resize: '' } },
    device: { requested: 'cpu', used: 'cpu' }, attentionDistance: block('px', true), headDiversity: block('nats', false), specialMass: block('fraction', true),
    cka: { matrix: [[1, 0.5], [0.5, 1]], batches: 2, estimator: 'linear-minibatch-unbiased' }, timing: { totalMs: 1, inferenceMs: 1 }, warnings: [],
  };
}

test('CSV: interval columns after the values when the block has them; special mass offered as CSV', () => {
  const r = result();
  const lines = toCsv(r, 'attentionDistance').trim().split('\r\n');
  assert.equal(lines[0], 'model,layer,mean_px,head_1_px,head_2_px,mean_ci95_lo,mean_ci95_hi,head_1_ci95_lo,head_1_ci95_hi,head_2_ci95_lo,head_2_ci95_hi');
  assert.equal(lines[2], 'm.pth,2,3.5,3,4,3.3,3.7,2.9,3.1,3.8,4.2');
  assert.equal(toCsv(r, 'headDiversity').split('\r\n')[0], 'model,layer,mean_nats,head_1_nats,head_2_nats');
  assert.deepEqual(csvMetricsOf(r), ['attentionDistance', 'headDiversity', 'specialMass', 'cka']);
  assert.match(toCsv(r, 'specialMass'), /^model,layer,mean_fraction,/);
});

test('distance chart: the uniform reference spans every layer; intervals raise the y range', () => {
  const theme = { background: '#fff', foreground: '#000', grid: '#ccc', border: '#999', fontFamily: 'sans', fontSize: 12, kind: 'light', series: ['#00f', '#f80'] } as unknown as ChartTheme;
  const b = block('px', true);
  b.ci95!.perLayer[1] = [3.3, 40];
  const cfg = metricChartConfig({ title: 't', yTitle: 'y', unit: 'px', digits: 2, series: [{ label: 'm', block: b, color: '#00f', uniformDistance: 16.5 }], meanStyle: 'line', theme, uniformReference: true });
  const ds = cfg.data.datasets as unknown as Array<{ mlRole?: string; data: unknown[] }>;
  const uniform = ds.find((d) => d.mlRole === 'uniform');
  assert.deepEqual(uniform?.data, uniformLinePoints(2, 16.5));
  const y = (cfg.options as { scales: { y: { suggestedMax?: number } } }).scales.y;
  assert.ok((y.suggestedMax ?? 0) >= 40, `suggestedMax ${y.suggestedMax}`);
  assert.ok((cfg.plugins ?? []).some((p) => (p as { id?: string }).id === 'mlIntervals'));
});
