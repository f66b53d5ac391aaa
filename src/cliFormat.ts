// The CLI's text output: the per-layer table of an analysis, the model line, and the timeline summary.
// Kept apart from src/cli.ts (argument parsing and commands) so both stay readable.
import { basename } from 'node:path';
import type { AnalysisResult, MetricBlock } from './analysis/resultSchema';
import type { TimelineResult } from './analysis/timelineSchema';
import type { ModelSummary } from './model/modelTypes';
import { analysedSizeText, headsSourceLabel } from './protocol/modelLabels';

const fmt = (v: number | null | undefined, digits = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export function modelLine(m: ModelSummary): string {
  // A HF model_type the family name does not already say (DeiT and ViTMAE read as the HF ViT layout).
  const mt = m.details?.['modelType'];
  const parts: string[] = [typeof mt === 'string' && !m.family.includes(mt.replace(/_/g, '-')) ? `${m.family} (model_type ${mt})` : m.family];
  if (m.stages?.length) parts.push(`${m.layers} layers in ${m.stages.length} stages (layers×heads ${m.stages.map((s) => `${s.layers}×${s.heads}`).join(', ')}; window ${m.stages.map((s) => s.window).join('/')})`);
  else if (m.layers !== null) parts.push(`${m.layers} layers × ${m.heads ?? '?'} heads (${headsSourceLabel(m.headsSource)}${typeof m.details?.['headsNote'] === 'string' ? `: ${m.details['headsNote']}` : ''})`);
  if (m.dim !== null) parts.push(`dim ${m.dim}`);
  if (m.patchSize) parts.push(`patch ${m.patchSize.join('×')}`);
  if (m.imageSize) parts.push(`${m.imageSize.join('×')} px`);
  if (m.params > 0) parts.push(`${human(m.params)} params (${m.dtype})`);
  return `${basename(m.file)}: ${parts.join(', ')}`;
}

function range(row: readonly number[], digits = 1): string {
  const finite = row.filter(Number.isFinite);
  if (finite.length === 0) return '—';
  return `${fmt(Math.min(...finite), digits)}–${fmt(Math.max(...finite), digits)}`;
}

function ciCell(b: MetricBlock | undefined, l: number, digits: number): string {
  const ci = b?.ci95?.perLayer[l];
  return ci ? `${fmt(ci[0], digits)}–${fmt(ci[1], digits)}` : '—';
}

interface TableBlocks {
  attentionDistance: MetricBlock;
  headDiversity: MetricBlock;
  specialMass?: MetricBlock | undefined;
  attentionEntropy?: MetricBlock | undefined;
}

function layerTable(b: TableBlocks, cka: number[][]): string[] {
  const { attentionDistance: ad, headDiversity: hd, specialMass: sm, attentionEntropy: en } = b;
  const rows = [['layer', 'attn dist px', '95% CI', 'heads min–max', 'head div nats', '95% CI', 'heads min–max', 'special mass', 'entropy nats', 'CKA(l,l+1)']];
  ad.perLayer.forEach((v, l) => {
    const next = cka[l]?.[l + 1];
    rows.push([
      String(l + 1), fmt(v, 1), ciCell(ad, l, 1), range(ad.perHead[l] ?? []),
      fmt(hd.perLayer[l], 3), ciCell(hd, l, 3), range(hd.perHead[l] ?? [], 2),
      fmt(sm?.perLayer[l], 3), fmt(en?.perLayer[l], 2),
      next === undefined ? '' : fmt(next, 3),
    ]);
  });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => `  ${r.map((cell, c) => cell.padStart(widths[c]!)).join('   ')}`);
}

function probeLabel(p: AnalysisResult['probe']): string {
  if (p.source !== 'folder') return 'synthetic';
  return p.bundled ? 'bundled photographs' : `folder ${p.preprocess.folder ?? ''}`;
}

/** "Input      analysed at 224 px (native 518 px, …)" per model, when an image size was chosen. */
function sizeLines(r: AnalysisResult): string[] {
  const models = [r.model, ...(r.compare ? [r.compare.model] : []), ...(r.compareMore ?? []).map((c) => c.model)];
  const texts = models.map((m) => analysedSizeText(m));
  if (texts.every((t) => t === undefined)) return [];
  if (models.length === 1 || texts.every((t) => t === texts[0])) return [`Input      ${texts[0] ?? ''}`];
  return texts.map((t, i) => `Input ${String.fromCharCode(65 + i)}    ${t ?? 'native size'}`);
}

export function formatSummary(r: AnalysisResult, cached = false): string {
  const out: string[] = [];
  out.push(`Model      ${modelLine(r.model)}`);
  if (r.compare) out.push(`Model B    ${modelLine(r.compare.model)}`);
  (r.compareMore ?? []).forEach((c, i) => out.push(`Model ${String.fromCharCode(67 + i)}    ${modelLine(c.model)}`));
  out.push(...sizeLines(r));
  const src = probeLabel(r.probe);
  out.push(`Probes     ${r.probe.count} images (${src}), batch ${r.probe.batchSize}, ${r.probe.preprocess.size.join('×')} px; CKA over ${r.cka.batches} batch(es)`);
  out.push(`Device     ${r.device.used}${r.device.requested !== r.device.used ? ` (requested ${r.device.requested})` : ''}${r.device.fallbackReason ? ` — ${r.device.fallbackReason}` : ''}`);
  if (r.options) out.push(`Options    distance convention ${r.options.distanceConvention}, CKA tokens ${r.options.ckaTokens}; 95% intervals: bootstrap over probe images (docs/metrics.md)`);
  out.push('');
  out.push(r.compare ? `A: ${basename(r.model.file)}` : 'Per layer');
  out.push(...layerTable(r, r.cka.matrix));
  if (r.compare) {
    out.push('', `B: ${basename(r.compare.model.file)}`);
    out.push(...layerTable(r.compare, r.compare.cka.matrix));
    const n = Math.min(r.compare.crossCka.length, r.compare.crossCka[0]?.length ?? 0);
    if (n > 0) out.push('', `Cross-model CKA, layer l of A vs layer l of B: ${Array.from({ length: n }, (_, l) => fmt(r.compare?.crossCka[l]?.[l], 3)).join('  ')}`);
  }
  (r.compareMore ?? []).forEach((c, i) => {
    const letter = String.fromCharCode(67 + i);
    out.push('', `${letter}: ${basename(c.model.file)}`);
    out.push(...layerTable(c, c.cka.matrix));
    const n = Math.min(c.crossCka.length, c.crossCka[0]?.length ?? 0);
    if (n > 0) out.push('', `Cross-model CKA, layer l of A vs layer l of ${letter}: ${Array.from({ length: n }, (_, l) => fmt(c.crossCka[l]?.[l], 3)).join('  ')}`);
  });
  if (r.warnings.length) {
    out.push('', 'Notes');
    for (const w of r.warnings) out.push(`  - ${w}`);
  }
  const t = r.timing;
  out.push('', cached
    ? `Time       served from the result cache (first computed in ${(t.totalMs / 1000).toFixed(2)} s); --no-cache recomputes`
    : `Time       ${(t.totalMs / 1000).toFixed(2)} s total, ${(t.inferenceMs / 1000).toFixed(2)} s inference`);
  return out.join('\n');
}

export function formatTimeline(t: TimelineResult): string {
  const out: string[] = [];
  out.push(`Run        ${t.run.folder ?? `${t.checkpoints.length} checkpoint(s)`}, ordered by ${t.run.orderedBy}`);
  const first = t.checkpoints[0];
  if (first) out.push(`Model      ${modelLine(first.model)}`);
  out.push(`Probes     ${t.probe.count} images (${probeLabel(t.probe)}), batch ${t.probe.batchSize}; device ${t.device.used}`);
  out.push('');
  const rows = [['#', t.run.orderedBy, 'file', 'attn dist px', 'head div nats', 'CKA mean', 'CKA first-last', 'CKA to final']];
  t.checkpoints.forEach((c, i) => {
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const pos = t.run.orderedBy === 'step' ? c.step : t.run.orderedBy === 'epoch' ? c.epoch : undefined;
    rows.push([String(i + 1), pos !== undefined ? String(pos) : t.run.orderedBy === 'name' ? 'name' : 'mtime', `${basename(c.file)}${c.cached ? ' (cached)' : ''}`, fmt(mean(c.attentionDistance.perLayer), 1), fmt(mean(c.headDiversity.perLayer), 3), fmt(c.ckaSummary.meanOffDiagonal, 3), fmt(c.ckaSummary.firstLast, 3), fmt(c.ckaSummary.toFinalMean, 3)]);
  });
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  out.push(...rows.map((r) => `  ${r.map((cell, c) => (c === 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')}`));
  if (t.skipped.length) {
    out.push('', `Skipped    ${t.skipped.length} file(s)`);
    for (const s of t.skipped) out.push(`  ${basename(s.file)}: ${s.reason}`);
  }
  if (t.timing) out.push('', `Time       ${(t.timing.totalMs / 1000).toFixed(2)} s total`);
  return out.join('\n');
}
