// The hover's markdown, built without vscode so tests pin it: one compact summary line, the cached
// analysis (if any) as numbers and a sparkline, and command links. Every file-derived string is escaped.
import { basename } from 'node:path';
import type { ModelSummary } from '../model/modelTypes';
import type { AnalysisResult } from '../analysis/resultSchema';
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

/** One block character per value, scaled between the series' min and max. */
export function sparkline(values: readonly number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      const k = hi > lo ? Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1)) : Math.floor(BARS.length / 2);
      return BARS[k]!;
    })
    .join('');
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
  if (L > 0) {
    const mid = Math.floor((L - 1) / 2);
    out.push(
      `Attention distance ${sparkline(ad)} first ${fmt(ad[0]!)} · middle ${fmt(ad[mid]!)} · last ${fmt(ad[L - 1]!)} px`,
    );
  }
  const hd = r.headDiversity.perLayer;
  if (hd.length > 0) out.push(`Head diversity ${sparkline(hd)} mean ${fmt(mean(hd), 2)} nats`);
  // Without a batch of ≥ 4 images CKA is null: the hover leaves it out rather than show "—".
  const probes = `${r.probe.count} ${r.probe.source} probes on ${r.device.used}`;
  out.push(hasCka(r.cka) ? `CKA mean off-diagonal ${fmt(meanOffDiagonal(r.cka.matrix), 2)} · ${probes}` : probes);
  return out;
}

export interface HoverParts {
  file: string;
  sizeBytes: number;
  summary?: ModelSummary;
  findings?: { total: number; danger: number };
  error?: { problem: string; offset?: number };
  analysis?: AnalysisResult;
  /** `command:` URIs, already encoded. */
  openCommand: string;
  analyzeCommand?: string;
}

/** The hover as trusted markdown (only the command links are markdown; everything else is escaped). */
export function hoverMarkdown(p: HoverParts): string {
  const lines: string[] = [`**Model Lens** · ${escapeMarkdown(basename(p.file))}`];
  if (p.summary && p.findings) lines.push(escapeMarkdown(summaryLine(p.summary, p.sizeBytes, p.findings)));
  if (p.summary?.notAnalyzable) lines.push(`_${escapeMarkdown(`Not analyzable: ${p.summary.notAnalyzable}`)}_`);
  if (p.error) {
    lines.push(`$(error) ${escapeMarkdown(`${p.error.problem}${p.error.offset !== undefined ? ` (byte ${p.error.offset})` : ''}`)}`);
  }
  if (p.analysis) for (const l of analysisLines(p.analysis)) lines.push(escapeMarkdown(l));
  const links = [`[Open in Model Lens](${p.openCommand})`];
  if (p.analyzeCommand) links.push(`[${p.analysis ? 'Open analysis' : 'Analyze'}](${p.analyzeCommand})`);
  lines.push(links.join(' · '));
  // Two trailing spaces would be fragile; separate lines as paragraphs.
  return lines.join('\n\n');
}
