// Self-contained HTML report of a `model-lens/timeline@1` result (`lens timeline --html`): per-layer lines
// against the run's step, coloured by depth, and the CKA summaries. Plain SVG, no script; every string taken
// from a file is escaped.
import type { TimelineResult } from './timelineSchema';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Shallow layers blue, deep layers red (the colour says the depth). */
export function depthColour(layer: number, layers: number): string {
  const t = layers > 1 ? layer / (layers - 1) : 0;
  return `hsl(${Math.round(230 - 230 * t)}, 70%, 45%)`;
}

export interface Series {
  label: string;
  colour: string;
  values: Array<number | null>;
}

/** The x of each checkpoint: its step or epoch when the run is ordered by one, else its position. */
export function runPositions(t: TimelineResult): number[] {
  return t.checkpoints.map((c, i) => (t.run.orderedBy === 'step' ? c.step : t.run.orderedBy === 'epoch' ? c.epoch : undefined) ?? i + 1);
}

/**
 * A line chart; `range` is the metric's meaningful range (CKA 0–1, distances from 0), so a flat series
 * looks flat instead of being stretched to the plot's height.
 */
export function lineChartSvg(title: string, xs: readonly number[], series: readonly Series[], range: [number, number | null], files: readonly string[]): string {
  const w = 560;
  const h = 260;
  const m = { l: 52, r: 12, t: 28, b: 34 };
  const all = series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = range[0];
  const hi = range[1] ?? Math.max(lo + 1e-9, ...all) * 1.05;
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const px = (x: number): number => m.l + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (w - m.l - m.r) : (w - m.l - m.r) / 2);
  const py = (v: number): number => h - m.b - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - m.t - m.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}">`];
  parts.push(`<text x="${m.l}" y="18" font-size="13" font-weight="600">${esc(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/><text x="${m.l - 6}" y="${py(v) + 4}" font-size="11" text-anchor="end">${v.toFixed(hi - lo < 3 ? 2 : 0)}</text>`);
  }
  xs.forEach((x, i) => parts.push(`<text x="${px(x)}" y="${h - m.b + 16}" font-size="11" text-anchor="middle">${i === 0 || i === xs.length - 1 || xs.length <= 12 ? esc(String(x)) : ''}</text>`));
  for (const s of series) {
    const pts = s.values.map((v, i) => (v !== null && Number.isFinite(v) ? `${px(xs[i] as number).toFixed(1)},${py(v).toFixed(1)}` : '')).filter(Boolean);
    parts.push(`<polyline fill="none" stroke="${s.colour}" stroke-width="1.6" points="${pts.join(' ')}"><title>${esc(s.label)}</title></polyline>`);
    s.values.forEach((v, i) => {
      if (v !== null && Number.isFinite(v)) parts.push(`<circle cx="${px(xs[i] as number).toFixed(1)}" cy="${py(v).toFixed(1)}" r="2.5" fill="${s.colour}"><title>${esc(`${s.label} · ${files[i] ?? ''}: ${v.toFixed(4)}`)}</title></circle>`);
    });
  }
  parts.push('</svg>');
  return parts.join('');
}

export function renderTimelineHtml(t: TimelineResult): string {
  const xs = runPositions(t);
  const files = t.checkpoints.map((c) => c.file.split(/[\\/]/).pop() ?? c.file);
  const layers = t.checkpoints[0]?.attentionDistance.perLayer.length ?? 0;
  const perLayer = (pick: (i: number, l: number) => number | undefined): Series[] =>
    Array.from({ length: layers }, (_, l) => ({ label: `layer ${l + 1}`, colour: depthColour(l, layers), values: t.checkpoints.map((_, i) => pick(i, l) ?? null) }));
  const charts = [
    lineChartSvg('Attention distance per layer (px)', xs, perLayer((i, l) => t.checkpoints[i]?.attentionDistance.perLayer[l]), [0, null], files),
    lineChartSvg('Head diversity per layer (nats)', xs, perLayer((i, l) => t.checkpoints[i]?.headDiversity.perLayer[l]), [0, null], files),
  ];
  if (t.checkpoints.every((c) => c.specialMass)) charts.push(lineChartSvg('Special-token mass per layer', xs, perLayer((i, l) => t.checkpoints[i]?.specialMass?.perLayer[l]), [0, 1], files));
  charts.push(lineChartSvg('CKA summaries', xs, [
    { label: 'mean off-diagonal', colour: '#1f77b4', values: t.checkpoints.map((c) => c.ckaSummary.meanOffDiagonal) },
    { label: 'first vs last layer', colour: '#d62728', values: t.checkpoints.map((c) => c.ckaSummary.firstLast) },
    { label: 'to final checkpoint (mean over layers)', colour: '#2ca02c', values: t.checkpoints.map((c) => c.ckaSummary.toFinalMean) },
  ], [0, 1], files));
  const skipped = t.skipped.map((s) => `<li>${esc(s.file)}: ${esc(s.reason)}</li>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><title>Model Lens timeline</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}.charts{display:flex;flex-wrap:wrap;gap:16px}</style></head><body>
<h1>Training run: ${esc(t.run.folder ?? `${t.checkpoints.length} checkpoints`)}</h1>
<p>${t.checkpoints.length} checkpoint(s), ordered by ${esc(t.run.orderedBy)}; ${t.probe.count} probe images (${esc(t.probe.source)}); device ${esc(t.device.used)}. Lines are layers, blue = first, red = last.</p>
<div class="charts">${charts.join('')}</div>
${skipped ? `<h2>Skipped</h2><ul>${skipped}</ul>` : ''}
</body></html>
`;
}
