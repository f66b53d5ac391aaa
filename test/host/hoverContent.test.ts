// The hover's text: compact summary, escaped file-derived strings, analysis numbers from the result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysisLines, escapeMarkdown, hoverMarkdown, meanOffDiagonal, metricRanges, sparkline, summaryLine, uniformAttentionDistance } from '../../src/host/hoverContent';
import type { ModelSummary } from '../../src/model/modelTypes';
import type { AnalysisResult } from '../../src/analysis/resultSchema';

const summary: ModelSummary = {
  file: '/x/mae.pth', format: 'pytorch-zip', family: 'mae', layers: 12, heads: 12, headsSource: 'config', dim: 768,
  patchSize: [16, 16], imageSize: [224, 224], specialTokens: 1, params: 85_798_656, dtype: 'F32', dtypes: { F32: 150 },
};

test('summary line: architecture · params · dtype · layers×heads · size · findings', () => {
  assert.equal(summaryLine(summary, 343_000_000, { total: 2, danger: 1 }), 'MAE ViT · 85.8 M params · F32 · 12×12 · 327 MiB · 2 findings (1 dangerous)');
  assert.equal(summaryLine({ ...summary, heads: null, family: 'unknown' }, 1000, { total: 0, danger: 0 }), 'unknown architecture · 85.8 M params · F32 · 12×? · 1000 B · no findings');
});

test('file names cannot inject markdown, links or HTML', () => {
  const evil = '[click](command:workbench.action.terminal.new)<img src=x onerror=alert(1)>*x*`y`.pth';
  const md = hoverMarkdown({ file: `/tmp/${evil}`, sizeBytes: 1, openCommand: 'command:modelLens.openInInspector?%5B%5D' });
  assert.ok(!md.includes('[click]('), md);
  assert.ok(!/[^\\]<img/.test(md), md);
  assert.ok(!/(^|[^\\])`/.test(md.split('\n\n')[0]!), md);
  assert.equal(escapeMarkdown('a_b*c'), 'a\\_b\\*c');
  // The only link targets are the command URIs we put there.
  const targets = [...md.matchAll(/\]\(([^)]*)\)/g)].map((m) => m[1]);
  assert.deepEqual(targets, ['command:modelLens.openInInspector?%5B%5D']);
});

test('sparkline and off-diagonal mean', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline([5, 5, 5]), '▅▅▅');
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([1, Number.NaN, 3]), '▁ █');
  // On a fixed scale, a series that barely moves draws level bars; values outside are clamped.
  assert.equal(sparkline([115.9, 116.2, 116.6], [0, 116.5]), '███');
  assert.equal(sparkline([20, 60, 116.5, 200, -5], [0, 116.5]), '▂▅██▁');
  assert.equal(meanOffDiagonal([[1, 0.5, 0.3], [0.5, 1, 0.7], [0.3, 0.7, 1]]), (0.5 + 0.3 + 0.5 + 0.7 + 0.3 + 0.7) / 6);
  assert.ok(Number.isNaN(meanOffDiagonal([[1]])));
});

test('analysis lines take first/middle/last attention distance, mean diversity, mean off-diagonal CKA', () => {
  const r = {
    attentionDistance: { perLayer: [10, 20, 30, 40, 50], perHead: [], unit: 'px' },
    headDiversity: { perLayer: [1, 2, 3, 4, 5], perHead: [], unit: 'nats' },
    cka: { matrix: [[1, 0.9], [0.8, 1]], batches: 4, estimator: 'linear-minibatch-unbiased' },
    probe: { source: 'synthetic', count: 64 },
    device: { requested: 'auto', used: 'cpu' },
  } as unknown as AnalysisResult;
  const lines = analysisLines(r);
  assert.match(lines[0]!, /first 10\.0 · middle 30\.0 · last 50\.0 px/);
  assert.match(lines[1]!, /mean 3\.00 nats/);
  assert.match(lines[2]!, /CKA mean off-diagonal 0\.85 · 64 synthetic probes on cpu/);
  const md = hoverMarkdown({ file: '/a/b.pth', sizeBytes: 10, summary, findings: { total: 0, danger: 0 }, analysis: r, openCommand: 'command:a', analyzeCommand: 'command:b' });
  assert.match(md, /\[Open analysis\]\(command:b\)/);
});

test('no batch of ≥ 4 images: the hover leaves CKA out instead of showing an empty value', () => {
  const r = {
    attentionDistance: { perLayer: [10, 20], perHead: [], unit: 'px' },
    headDiversity: { perLayer: [1, 2], perHead: [], unit: 'nats' },
    cka: { matrix: [[null, null], [null, null]], batches: 0, estimator: 'linear-minibatch-unbiased' },
    probe: { source: 'folder', count: 3 },
    device: { requested: 'auto', used: 'cpu' },
  } as unknown as AnalysisResult;
  const lines = analysisLines(r);
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '3 folder probes on cpu');
  assert.ok(lines.every((l) => !/CKA/.test(l)), lines.join('\n'));
});

test('sparkline scales: attention distance 0 to uniform attention (numpy reference), KL 0 to ln N', () => {
  // Mean pairwise patch-centre distance, computed with numpy (float64) over all query/key pairs.
  for (const [grid, patch, ref] of [[[14, 14], [16, 16], 116.49222709176634], [[4, 4], [8, 8], 16.0641197550407], [[2, 3], [16, 8], 12.711611626440684]] as const) {
    assert.ok(Math.abs(uniformAttentionDistance(grid, patch) - ref) < 1e-9, `${grid} ${patch}`);
  }
  const r = {
    model: { family: 'timm-vit', imageSize: [224, 224], patchSize: [16, 16] },
    attentionDistance: { perLayer: [115.9, 116.0, 116.6], perHead: [], unit: 'px' },
    headDiversity: { perLayer: [0.2, 0.1, 0.05], perHead: [], unit: 'nats' },
    cka: { matrix: [[1]], batches: 0, estimator: 'linear-minibatch-unbiased' },
    probe: { source: 'folder', count: 8 },
    device: { requested: 'auto', used: 'cpu' },
  } as unknown as AnalysisResult;
  const ranges = metricRanges(r);
  assert.deepEqual(ranges.distance, [0, 116.6]);
  assert.ok(Math.abs(ranges.diversity[1] - Math.log(196)) < 1e-12);
  const lines = analysisLines(r);
  assert.match(lines[0]!, /^Attention distance ███ first 115\.9 · middle 116\.0 · last 116\.6 px \(bars 0–117 px\)$/);
  // Low diversity reads low, not as a full swing between its own min and max.
  assert.match(lines[1]!, /^Head diversity ▁▁▁ mean 0\.12 nats \(bars 0–5\.3\)$/);
  // Windowed (Swin) models: up to the image diagonal.
  const swin = { ...r, model: { ...r.model, family: 'swin' } } as unknown as AnalysisResult;
  assert.ok(Math.abs(metricRanges(swin).distance[1] - Math.hypot(224, 224)) < 1e-9);
});

test('weights_only: the hover says torch.load will refuse the file and what to allowlist', () => {
  const md = hoverMarkdown({ file: '/a/mae.pth', sizeBytes: 10, summary, findings: { total: 1, danger: 0 }, weightsOnly: 'torch.load will refuse this file unless argparse.Namespace is allowlisted', openCommand: 'command:a' });
  assert.match(md, /\$\(warning\) torch\\\.load will refuse this file unless argparse\\\.Namespace is allowlisted/);
});
