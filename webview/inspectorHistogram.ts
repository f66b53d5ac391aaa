// Draws a tensor's value histogram on a small canvas in theme colours, with a readout of the bin
// under the pointer (so exact counts are available without a chart library).
import { el, themeColor } from './inspectorDom';
import { formatInt, formatStat } from './inspectorFormat';

export interface HistogramData {
  counts: readonly number[];
  min: number;
  max: number;
}

/** Builds the histogram widget: canvas, axis labels and a hover readout. */
export function histogramView(data: HistogramData, opts: { log: boolean }): HTMLElement {
  const canvas = el('canvas', { cls: 'hist-canvas', attrs: { role: 'img' } });
  const total = data.counts.reduce((a, b) => a + b, 0);
  canvas.setAttribute('aria-label', `Histogram of ${formatInt(total)} finite values from ${formatStat(data.min)} to ${formatStat(data.max)} in ${data.counts.length} bins`);
  const readout = el('div', { cls: 'hist-readout' }, '\u00a0');
  const axis = el('div', { cls: 'hist-axis' }, el('span', {}, formatStat(data.min)), el('span', {}, formatStat(data.max)));
  const wrap = el('div', { cls: 'hist' }, canvas, axis, readout);
  const bins = data.counts.length;
  const draw = (): void => draw_(canvas, data, opts.log);
  new ResizeObserver(draw).observe(canvas);
  canvas.addEventListener('mousemove', (e) => {
    if (bins === 0) return;
    const rect = canvas.getBoundingClientRect();
    const b = Math.min(bins - 1, Math.max(0, Math.floor(((e.clientX - rect.left) / rect.width) * bins)));
    const w = (data.max - data.min) / bins;
    const lo = data.min + b * w;
    const c = data.counts[b] ?? 0;
    readout.textContent = `[${formatStat(lo)}, ${formatStat(lo + w)}${b === bins - 1 ? ']' : ')'}: ${formatInt(c)} (${total > 0 ? ((100 * c) / total).toFixed(2) : '0'} %)`;
  });
  canvas.addEventListener('mouseleave', () => (readout.textContent = '\u00a0'));
  return wrap;
}

function draw_(canvas: HTMLCanvasElement, data: HistogramData, log: boolean): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (w === 0 || h === 0) return;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const bar = themeColor('--vscode-charts-blue', '#3794ff');
  const zero = themeColor('--vscode-charts-red', '#f14c4c');
  const base = themeColor('--vscode-editorWidget-border', '#454545');
  const n = data.counts.length;
  if (n === 0) return;
  const f = (c: number): number => (log ? Math.log10(1 + c) : c);
  let peak = 0;
  for (const c of data.counts) peak = Math.max(peak, f(c));
  const bw = w / n;
  ctx.fillStyle = bar;
  for (let i = 0; i < n; i++) {
    const c = data.counts[i] ?? 0;
    if (c === 0) continue;
    const bh = peak > 0 ? Math.max(1, (f(c) / peak) * (h - 2)) : 0;
    ctx.fillRect(i * bw, h - bh, Math.max(1, bw - (bw > 3 ? 1 : 0)), bh);
  }
  ctx.fillStyle = base;
  ctx.fillRect(0, h - 1, w, 1);
  // Mark zero when it lies inside the range: weight histograms are read relative to it.
  if (data.min < 0 && data.max > 0) {
    const x = ((0 - data.min) / (data.max - data.min)) * w;
    ctx.fillStyle = zero;
    ctx.fillRect(Math.round(x), 0, 1, h);
  }
}
