// The hover's markdown, built without vscode so tests pin it: one compact summary line, the cached
// analysis (if any) as numbers and a sparkline, and command links. Every file-derived string is escaped.
import { basename } from 'node:path';
import type { ModelSummary } from '../model/modelTypes';
import type { AnalysisResult } from '../analysis/resultSchema';
import type { RunSummary } from '../runtime/timelineCache';
import { hasCka } from '../protocol/analysisExport';
import { familyLabel } from '../protocol/modelLabels';

/** Escapes text for CommonMark so file names cannot inject links, HTML or formatting. */
export function escapeMarkdown(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`).replace(/\r?\n/g, ' ');
}

export function formatBytesShort(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${u[i]}`;
}

export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One block character per value on the scale [lo, hi] (values outside are clamped). Without a range the
 * series' own min and max are used, which makes 115.9–116.6 look like floor-to-ceiling swings; the hover
 * passes the metric's meaningful range (metricRanges) instead.
 */
export function sparkline(values: readonly number[], range?: readonly [number, number]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const lo = range ? range[0] : Math.min(...finite);
  const hi = range ? range[1] : Math.max(...finite);
  return values
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      const t = hi > lo ? Math.min(1, Math.max(0, (v - lo) / (hi - lo))) : 0.5;
      return BARS[Math.round(t * (BARS.length - 1))]!;
    })
    .join('');
}

/**
 * Mean distance in pixels between patch centres over all (query, key) pairs of a gh×gw grid: the average
 * attention distance of perfectly uniform attention, the top of the range for non-windowed ViTs.
 */
export function uniformAttentionDistance(grid: readonly [number, number], patch: readonly [number, number]): number {
  const [gh, gw] = grid;
  const [ph, pw] = patch;
  if (!(gh > 0 && gw > 0)) return Number.NaN;
  // Pairs at row offset dr and column offset dc: (gh−|dr|)(gw−|dc|); O(gh·gw) instead of O((gh·gw)²).
  let sum = 0;
  for (let dr = -(gh - 1); dr <= gh - 1; dr++) {
    for (let dc = -(gw - 1); dc <= gw - 1; dc++) sum += (gh - Math.abs(dr)) * (gw - Math.abs(dc)) * Math.hypot(ph * dr, pw * dc);
  }
  return sum / (gh * gw) ** 2;
}

/**
 * Fixed sparkline scales: attention distance from 0 to uniform attention (windowed models, whose tokens
 * never see the whole image: 0 to the image diagonal); head diversity from 0 to ln N (the KL of a head
 * focused on one key from a uniform one), or the largest value when that is higher.
 */
export function metricRanges(r: AnalysisResult): { distance: [number, number]; diversity: [number, number] } {
  const m = r.model;
  const adMax = Math.max(0, ...r.attentionDistance.perLayer.filter((v) => Number.isFinite(v)));
  const hdMax = Math.max(0, ...r.headDiversity.perLayer.filter((v) => Number.isFinite(v)));
  let distTop = adMax;
  let tokens = Number.NaN;
  if (m?.imageSize && m.patchSize) {
    const grid: [number, number] = [Math.floor(m.imageSize[0] / m.patchSize[0]), Math.floor(m.imageSize[1] / m.patchSize[1])];
    tokens = grid[0] * grid[1];
    const windowed = /swin/i.test(String(m.family));
    const top = windowed ? Math.hypot(m.imageSize[0], m.imageSize[1]) : uniformAttentionDistance(grid, m.patchSize);
    if (Number.isFinite(top) && top > 0) distTop = Math.max(top, adMax);
  }
  const klTop = Math.max(Number.isFinite(tokens) && tokens > 1 ? Math.log(tokens) : 1, hdMax);
  return { distance: [0, distTop > 0 ? distTop : 1], diversity: [0, klTop] };
}

/** Mean of the off-diagonal entries of a square matrix (NaN when smaller than 2×2). */
export function meanOffDiagonal(m: readonly (readonly number[])[]): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < m.length; i++) {
    const row = m[i]!;
    for (let j = 0; j < row.length; j++) {
      if (i !== j && Number.isFinite(row[j]!)) {
        sum += row[j]!;
        n++;
      }
    }
  }
  return n > 0 ? sum / n : Number.NaN;
}

function mean(xs: readonly number[]): number {
  const f = xs.filter((x) => Number.isFinite(x));
  return f.length > 0 ? f.reduce((a, b) => a + b, 0) / f.length : Number.NaN;
}

function fmt(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

/** "MAE ViT · 85.8 M params · F32 · 12×12 · 327 MiB · 1 finding (1 dangerous)". */
export function summaryLine(s: ModelSummary, sizeBytes: number, findings: { total: number; danger: number }): string {
  const parts = [
    familyLabel(s.family, 'short'),
    `${formatParams(s.params)} params`,
    s.dtype,
    `${s.layers ?? '?'}×${s.heads ?? '?'}`,
    formatBytesShort(sizeBytes),
    findings.total === 0
      ? 'no findings'
      : `${findings.total} finding${findings.total === 1 ? '' : 's'}${findings.danger > 0 ? ` (${findings.danger} dangerous)` : ''}`,
  ];
  return parts.join(' · ');
}

/** Compact analysis lines: attention distance first/middle/last + sparkline, head diversity, CKA. */
export function analysisLines(r: AnalysisResult): string[] {
  const ad = r.attentionDistance.perLayer;
  const L = ad.length;
  const out: string[] = [];
  const ranges = metricRanges(r);
  if (L > 0) {
    const mid = Math.floor((L - 1) / 2);
    out.push(
      `Attention distance ${sparkline(ad, ranges.distance)} first ${fmt(ad[0]!)} · middle ${fmt(ad[mid]!)} · last ${fmt(ad[L - 1]!)} px (bars 0–${fmt(ranges.distance[1], 0)} px)`,
    );
  }
  const hd = r.headDiversity.perLayer;
  if (hd.length > 0) out.push(`Head diversity ${sparkline(hd, ranges.diversity)} mean ${fmt(mean(hd), 2)} nats (bars 0–${fmt(ranges.diversity[1], 1)})`);
  // Without a batch of ≥ 4 images CKA is null: the hover leaves it out rather than show "—".
  const probes = `${r.probe.count} ${r.probe.source} probes on ${r.device.used}`;
  out.push(hasCka(r.cka) ? `CKA mean off-diagonal ${fmt(meanOffDiagonal(r.cka.matrix), 2)} · ${probes}` : probes);
  return out;
}

/** The checkpoint's training run: means over layers per checkpoint, on the metrics' meaningful scales. */
export function runLines(r: RunSummary, file: string): string[] {
  const ad = r.checkpoints.map((c) => c.attentionDistance);
  const hd = r.checkpoints.map((c) => c.headDiversity);
  const ranges = metricRanges({ model: r.model, attentionDistance: { perLayer: ad }, headDiversity: { perLayer: hd } } as unknown as AnalysisResult);
  const at = r.checkpoints.findIndex((c) => c.file === file);
  const pos = (i: number): string => {
    const c = r.checkpoints[i];
    return c?.step !== undefined ? `step ${c.step}` : c?.epoch !== undefined ? `epoch ${c.epoch}` : `#${i + 1}`;
  };
  const out = [`Run ${basename(r.folder)}: ${r.checkpoints.length} checkpoints by ${r.orderedBy}${at >= 0 ? `, this one is ${pos(at)}` : ''}`];
  if (ad.length) out.push(`Attention distance over the run ${sparkline(ad, ranges.distance)} ${fmt(ad[0]!)} → ${fmt(ad[ad.length - 1]!)} px (bars 0–${fmt(ranges.distance[1], 0)} px)`);
  if (hd.length) out.push(`Head diversity over the run ${sparkline(hd, ranges.diversity)} ${fmt(hd[0]!, 2)} → ${fmt(hd[hd.length - 1]!, 2)} nats (bars 0–${fmt(ranges.diversity[1], 1)})`);
  const cka = r.checkpoints.map((c) => c.ckaToFinal ?? Number.NaN);
  if (cka.some(Number.isFinite)) out.push(`CKA to the final checkpoint ${sparkline(cka, [0, 1])} (bars 0–1)`);
  return out;
}

export interface HoverParts {
  file: string;
  sizeBytes: number;
  summary?: ModelSummary;
  findings?: { total: number; danger: number };
  /** What torch.load(weights_only=True) would refuse, as one sentence (weightsOnlyNote). */
  weightsOnly?: string;
  error?: { problem: string; offset?: number };
  analysis?: AnalysisResult;
  /** The analysed training run the checkpoint belongs to. */
  run?: RunSummary;
  /** `command:` URIs, already encoded. */
  openCommand: string;
  analyzeCommand?: string;
}

/** The hover as trusted markdown (only the command links are markdown; everything else is escaped). */
export function hoverMarkdown(p: HoverParts): string {
  const lines: string[] = [`**Model Lens** · ${escapeMarkdown(basename(p.file))}`];
  if (p.summary && p.findings) lines.push(escapeMarkdown(summaryLine(p.summary, p.sizeBytes, p.findings)));
  if (p.weightsOnly) lines.push(`$(warning) ${escapeMarkdown(p.weightsOnly)}`);
  if (p.summary?.notAnalyzable) lines.push(`_${escapeMarkdown(`Not analyzable: ${p.summary.notAnalyzable}`)}_`);
  if (p.error) {
    lines.push(`$(error) ${escapeMarkdown(`${p.error.problem}${p.error.offset !== undefined ? ` (byte ${p.error.offset})` : ''}`)}`);
  }
  if (p.analysis) for (const l of analysisLines(p.analysis)) lines.push(escapeMarkdown(l));
  if (p.run) for (const l of runLines(p.run, p.file)) lines.push(escapeMarkdown(l));
  const links = [`[Open in Model Lens](${p.openCommand})`];
  if (p.analyzeCommand) links.push(`[${p.analysis ? 'Open analysis' : 'Analyze'}](${p.analyzeCommand})`);
  lines.push(links.join(' · '));
  // Two trailing spaces would be fragile; separate lines as paragraphs.
  return lines.join('\n\n');
}

/** The hover over a run folder's path: its last timeline's sparklines and a link that reopens it. */
export function runFolderMarkdown(r: RunSummary, timelineCommand: string): string {
  const lines = [`**Model Lens** · training run ${escapeMarkdown(basename(r.folder))}`];
  for (const l of runLines(r, '')) lines.push(escapeMarkdown(l));
  const last = r.checkpoints[r.checkpoints.length - 1];
  if (last) lines.push(escapeMarkdown(`Last checkpoint ${basename(last.file)}; analysed ${new Date(r.savedAt).toLocaleString()}`));
  lines.push(`[Open timeline](${timelineCommand})`);
  return lines.join('\n\n');
}
