// The training-run timeline webview: per-layer lines against step (colour = depth) for attention distance,
// head diversity and special-token mass, the CKA summaries, a step slider that shows the chosen checkpoint's
// per-head values, hover titles naming the file, JSON/CSV/PNG export. Charts sit side by side when the
// editor is wide and stack when it is narrow. File-derived strings are only ever set as text.
import type { TimelineCheckpoint, TimelineFromView, TimelineResult, TimelineToView, WeightsDiffResult } from '../src/protocol/timelineViewProtocol';

declare function acquireVsCodeApi(): { postMessage(m: TimelineFromView): void; setState(s: unknown): void; getState(): unknown };
const vscode = acquireVsCodeApi();
const SVG = 'http://www.w3.org/2000/svg';

const CSS = `
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 24px; }
h1 { font-size: 1.3em; margin: 12px 0 4px; }
.info, .status { opacity: .85; margin: 2px 0; }
.toolbar { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0; align-items: center; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; border: 1px solid var(--vscode-panel-border, #8884); padding: 8px; }
figcaption { display: flex; justify-content: space-between; font-weight: 600; margin-bottom: 4px; }
svg text { fill: var(--vscode-foreground); font-size: 11px; }
figure > svg { max-width: 760px; display: block; }
svg .grid { stroke: var(--vscode-panel-border, #8884); }
svg .marker { stroke: var(--vscode-focusBorder, #888); stroke-dasharray: 4 3; }
.slider { display: flex; gap: 12px; align-items: center; margin: 16px 0 8px; }
.slider input { flex: 1; }
.legend { font-size: 11px; opacity: .85; }
ul.skipped li { margin: 2px 0; }
`;

interface Series { label: string; colour: string; values: Array<number | null> }
interface Chart { id: string; title: string; xs: number[]; series: Series[]; range: [number, number | null]; xLabel: string; hover: (i: number) => string }

let result: TimelineResult | undefined;
let diff: WeightsDiffResult | undefined;
let running = true;
let watching = false;
let selected = -1;
let progressText = 'Starting…';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function svgEl(tag: string, attrs: Record<string, string | number>): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/** Shallow layers blue, deep layers red. */
function depthColour(layer: number, layers: number): string {
  const t = layers > 1 ? layer / (layers - 1) : 0;
  return `hsl(${Math.round(230 - 230 * t)}, 75%, 55%)`;
}

const baseName = (f: string): string => f.split(/[\\/]/).pop() ?? f;

function positions(t: TimelineResult): number[] {
  return t.checkpoints.map((c, i) => (t.run.orderedBy === 'step' ? c.step : t.run.orderedBy === 'epoch' ? c.epoch : undefined) ?? i + 1);
}

/** The smallest of 1, 2, 2.5, 4, 5, 8 × 10^k at or above v, so the four grid steps are round numbers. */
function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 4, 5, 8, 10]) if (f * p >= v) return f * p;
  return 10 * p;
}

/** A line chart; `range` is the metric's meaningful range so a flat series looks flat. */
function lineChart(c: Chart, marker: number | undefined): SVGSVGElement {
  const w = 520;
  const h = 250;
  const m = { l: 48, r: 10, t: 10, b: 36 };
  const all = c.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const lo = c.range[0];
  const hi = c.range[1] ?? niceCeil(Math.max(lo + 1e-9, ...all) * 1.05);
  const x0 = Math.min(...c.xs);
  const x1 = Math.max(...c.xs);
  const px = (x: number): number => m.l + (x1 > x0 ? ((x - x0) / (x1 - x0)) * (w - m.l - m.r) : (w - m.l - m.r) / 2);
  const py = (v: number): number => h - m.b - ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (h - m.t - m.b);
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img', 'aria-label': c.title }) as SVGSVGElement;
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    svg.append(svgEl('line', { class: 'grid', x1: m.l, x2: w - m.r, y1: py(v), y2: py(v) }));
    const t = svgEl('text', { x: m.l - 6, y: py(v) + 4, 'text-anchor': 'end' });
    t.textContent = String(Number(v.toPrecision(4)));
    svg.append(t);
  }
  const every = Math.max(1, Math.ceil(c.xs.length / 10));
  c.xs.forEach((x, i) => {
    if (i % every !== 0 && i !== c.xs.length - 1) return;
    const t = svgEl('text', { x: px(x), y: h - m.b + 14, 'text-anchor': 'middle' });
    t.textContent = String(x);
    svg.append(t);
  });
  const xl = svgEl('text', { x: (m.l + w - m.r) / 2, y: h - 4, 'text-anchor': 'middle' });
  xl.textContent = c.xLabel;
  svg.append(xl);
  if (marker !== undefined && c.xs[marker] !== undefined) svg.append(svgEl('line', { class: 'marker', x1: px(c.xs[marker]!), x2: px(c.xs[marker]!), y1: m.t, y2: h - m.b }));
  for (const s of c.series) {
    const pts = s.values.map((v, i) => (v !== null && Number.isFinite(v) ? `${px(c.xs[i]!).toFixed(1)},${py(v).toFixed(1)}` : '')).filter(Boolean);
    svg.append(svgEl('polyline', { fill: 'none', stroke: s.colour, 'stroke-width': 1.8, points: pts.join(' ') }));
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      const dot = svgEl('circle', { cx: px(c.xs[i]!).toFixed(1), cy: py(v).toFixed(1), r: 3, fill: s.colour });
      const title = svgEl('title', {});
      title.textContent = `${s.label}: ${v.toFixed(4)}\n${c.hover(i)}`;
      dot.append(title);
      svg.append(dot);
    });
  }
  return svg;
}

function perLayer(t: TimelineResult, pick: (c: TimelineCheckpoint) => number[] | undefined): Series[] {
  const layers = t.checkpoints[0]?.attentionDistance.perLayer.length ?? 0;
  return Array.from({ length: layers }, (_, l) => ({ label: `layer ${l + 1}`, colour: depthColour(l, layers), values: t.checkpoints.map((c) => pick(c)?.[l] ?? null) }));
}

function runCharts(t: TimelineResult): Chart[] {
  const xs = positions(t);
  const xLabel = t.run.orderedBy === 'step' || t.run.orderedBy === 'epoch' ? t.run.orderedBy : `checkpoint (by ${t.run.orderedBy})`;
  const hover = (i: number): string => {
    const c = t.checkpoints[i];
    return c ? `${baseName(c.file)}${c.step !== undefined ? ` · step ${c.step}` : ''}${c.epoch !== undefined ? ` · epoch ${c.epoch}` : ''}` : '';
  };
  const charts: Chart[] = [
    { id: 'attention-distance', title: 'Attention distance per layer (px)', xs, series: perLayer(t, (c) => c.attentionDistance.perLayer), range: [0, null], xLabel, hover },
    { id: 'head-diversity', title: 'Head diversity per layer (nats)', xs, series: perLayer(t, (c) => c.headDiversity.perLayer), range: [0, null], xLabel, hover },
  ];
  if (t.checkpoints.length > 0 && t.checkpoints.every((c) => c.specialMass)) {
    charts.push({ id: 'special-mass', title: 'Special-token mass per layer', xs, series: perLayer(t, (c) => c.specialMass?.perLayer), range: [0, 1], xLabel, hover });
  }
  charts.push({ id: 'cka', title: 'CKA summaries', xs, xLabel, hover, range: [0, 1], series: [
    { label: 'mean off-diagonal', colour: 'hsl(210, 80%, 55%)', values: t.checkpoints.map((c) => c.ckaSummary.meanOffDiagonal) },
    { label: 'first vs last layer', colour: 'hsl(0, 75%, 58%)', values: t.checkpoints.map((c) => c.ckaSummary.firstLast) },
    { label: 'to final checkpoint', colour: 'hsl(130, 60%, 45%)', values: t.checkpoints.map((c) => c.ckaSummary.toFinalMean) },
  ] });
  return charts;
}

/** Per-head values of one checkpoint: x = layer, one series per head. */
function headCharts(t: TimelineResult, i: number): Chart[] {
  const c = t.checkpoints[i];
  if (!c) return [];
  const layers = c.attentionDistance.perHead.length;
  const xs = Array.from({ length: layers }, (_, l) => l + 1);
  const heads = Math.max(...c.attentionDistance.perHead.map((r) => r.length));
  const series = (rows: number[][]): Series[] => Array.from({ length: heads }, (_, h) => ({ label: `head ${h + 1}`, colour: `hsl(${Math.round((360 * h) / heads)}, 65%, 55%)`, values: rows.map((r) => r[h] ?? null) }));
  const hover = (l: number): string => `${baseName(c.file)} · layer ${l + 1}`;
  return [
    { id: 'heads-attention-distance', title: `Attention distance per head — ${baseName(c.file)}`, xs, series: series(c.attentionDistance.perHead), range: [0, null], xLabel: 'layer', hover },
    { id: 'heads-head-diversity', title: `Head diversity per head — ${baseName(c.file)}`, xs, series: series(c.headDiversity.perHead), range: [0, null], xLabel: 'layer', hover },
  ];
}

/** Draws an SVG chart onto a canvas and sends it to the host as PNG. */
function exportPng(svg: SVGSVGElement, name: string): void {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const fg = getComputedStyle(document.body).color;
  clone.setAttribute('width', '1040');
  clone.setAttribute('height', '500');
  clone.querySelectorAll('text').forEach((t) => t.setAttribute('fill', fg));
  clone.querySelectorAll('.grid, .marker').forEach((l) => l.setAttribute('stroke', '#8888'));
  const img = new Image();
  img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = 1040;
    canvas.height = 500;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = getComputedStyle(document.body).backgroundColor || '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0);
    vscode.postMessage({ type: 'exportPng', name, dataUrl: canvas.toDataURL('image/png') });
  };
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(new XMLSerializer().serializeToString(clone))}`;
}

function figure(c: Chart, marker: number | undefined): HTMLElement {
  const f = el('figure');
  const cap = el('figcaption');
  cap.append(el('span', undefined, c.title));
  const png = el('button', 'secondary', 'PNG');
  png.title = 'Save this chart as PNG';
  const svg = lineChart(c, marker);
  png.addEventListener('click', () => exportPng(svg, c.id));
  cap.append(png);
  f.append(cap, svg);
  if (c.series.length > 1 && c.series[0]?.label.startsWith('layer')) f.append(el('div', 'legend', `Lines are layers: blue = layer 1 … red = layer ${c.series.length}. Hover a point for its checkpoint.`));
  else {
    const legend = el('div', 'legend');
    for (const s of c.series) {
      const swatch = el('span', undefined, '━ ');
      swatch.style.color = s.colour;
      legend.append(swatch, el('span', undefined, `${s.label}   `));
    }
    f.append(legend);
  }
  return f;
}

/** Horizontal bars: one per block, ‖B − A‖ / ‖A‖, from zero (a block that did not move has no bar). */
function barChart(d: WeightsDiffResult): SVGSVGElement {
  const rowH = 18;
  const m = { l: 170, r: 70, t: 6, b: 6 };
  const w = 620;
  const h = m.t + m.b + rowH * d.blocks.length;
  const max = Math.max(1e-12, ...d.blocks.map((b) => b.relativeChange ?? 0));
  const svg = svgEl('svg', { viewBox: `0 0 ${w} ${h}`, width: '100%', role: 'img', 'aria-label': 'Relative change per block' }) as SVGSVGElement;
  d.blocks.forEach((b, i) => {
    const y = m.t + i * rowH;
    const label = svgEl('text', { x: m.l - 6, y: y + rowH * 0.7, 'text-anchor': 'end' });
    label.textContent = b.block;
    const v = b.relativeChange ?? 0;
    const bw = (v / max) * (w - m.l - m.r);
    const bar = svgEl('rect', { x: m.l, y: y + 2, width: Math.max(0, bw).toFixed(1), height: rowH - 4, fill: depthColour(i, d.blocks.length) });
    const title = svgEl('title', {});
    title.textContent = `${b.block}: ‖B − A‖/‖A‖ = ${b.relativeChange === null ? '—' : b.relativeChange.toExponential(3)} over ${b.tensors} tensor(s)`;
    bar.append(title);
    const value = svgEl('text', { x: m.l + bw + 4, y: y + rowH * 0.7 });
    value.textContent = b.relativeChange === null ? '—' : b.relativeChange.toExponential(2);
    svg.append(label, bar, value);
  });
  return svg;
}

function renderDiff(root: HTMLElement, d: WeightsDiffResult): void {
  root.append(el('h1', undefined, `Weights diff: ${baseName(d.a.file)} → ${baseName(d.b.file)}`));
  root.append(el('p', 'info', `A: ${d.a.file} (${d.a.format}, ${d.a.tensors} tensors) · B: ${d.b.file} (${d.b.format}, ${d.b.tensors} tensors)`));
  const bar = el('div', 'toolbar');
  const json = el('button', undefined, 'Export JSON');
  json.addEventListener('click', () => vscode.postMessage({ type: 'export', format: 'json' }));
  bar.append(json);
  root.append(bar);
  const f = el('figure');
  const cap = el('figcaption');
  cap.append(el('span', undefined, 'Which blocks moved: ‖B − A‖ / ‖A‖ per block'));
  const svg = barChart(d);
  const png = el('button', 'secondary', 'PNG');
  png.addEventListener('click', () => exportPng(svg, 'weights-diff'));
  cap.append(png);
  f.append(cap, svg);
  root.append(f);
  const lists: Array<[string, string[]]> = [
    ['Missing in B', d.missing],
    ['Unexpected in B', d.unexpected],
    ['Shape mismatch', d.shapeMismatch.map((x) => `${x.name}: [${x.a.join(', ')}] vs [${x.b.join(', ')}]`)],
    ['Dtype mismatch', d.dtypeMismatch.map((x) => `${x.name}: ${x.a} vs ${x.b}`)],
  ];
  for (const [title, items] of lists) {
    root.append(el('h2', undefined, `${title} (${items.length})`));
    if (!items.length) continue;
    const ul = el('ul', 'skipped');
    for (const it of items.slice(0, 200)) ul.append(el('li', undefined, it));
    if (items.length > 200) ul.append(el('li', undefined, `… ${items.length - 200} more (Export JSON lists all)`));
    root.append(ul);
  }
}

function render(): void {
  const root = document.getElementById('root') as HTMLElement;
  root.replaceChildren();
  if (diff) return renderDiff(root, diff);
  const t = result;
  root.append(el('h1', undefined, t?.run.folder ? `Training run: ${baseName(t.run.folder)}` : 'Training run'));
  if (t) root.append(el('p', 'info', `${t.checkpoints.length} checkpoint(s), ordered by ${t.run.orderedBy}${t.run.orderedBy === 'mtime' ? ' (no step or epoch keys and no numbers in the names)' : ''}; ${t.probe.count} probe images (${t.probe.source}); device ${t.device.used}.`));
  root.append(el('p', 'status', running ? progressText : t ? (watching ? 'Done. Watching the folder: a new checkpoint is analysed once its size has been stable for a few seconds.' : 'Done.') : progressText));
  const bar = el('div', 'toolbar');
  if (running) {
    const cancel = el('button', 'secondary', 'Cancel');
    cancel.addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
    bar.append(cancel);
  }
  if (t?.run.folder !== undefined) {
    const w = el('button', watching ? undefined : 'secondary', watching ? 'Watching folder: on' : 'Watch folder: off');
    w.title = 'Analyse each new checkpoint written to the run folder once its size has been stable for a few seconds';
    w.setAttribute('aria-pressed', String(watching));
    w.addEventListener('click', () => vscode.postMessage({ type: 'watch', on: !watching }));
    bar.append(w);
  }
  if (t && t.checkpoints.length > 0) {
    for (const format of ['json', 'csv'] as const) {
      const b = el('button', undefined, `Export ${format.toUpperCase()}`);
      b.addEventListener('click', () => vscode.postMessage({ type: 'export', format }));
      bar.append(b);
    }
  }
  root.append(bar);
  if (!t || t.checkpoints.length === 0) return;
  if (selected < 0 || selected >= t.checkpoints.length) selected = t.checkpoints.length - 1;
  const charts = el('div', 'charts');
  for (const c of runCharts(t)) charts.append(figure(c, selected));
  root.append(charts);
  const slider = el('div', 'slider');
  const input = el('input');
  input.type = 'range';
  input.min = '0';
  input.max = String(t.checkpoints.length - 1);
  input.value = String(selected);
  input.setAttribute('aria-label', 'Checkpoint shown below');
  const c = t.checkpoints[selected] as TimelineCheckpoint;
  const label = el('span', undefined, `${baseName(c.file)}${c.step !== undefined ? ` · step ${c.step}` : ''}${c.epoch !== undefined ? ` · epoch ${c.epoch}` : ''}${c.cached ? ' (cached)' : ''}`);
  input.addEventListener('input', () => {
    selected = Number(input.value);
    render();
    (document.querySelector('.slider input') as HTMLInputElement | null)?.focus();
  });
  slider.append(el('span', undefined, 'Checkpoint'), input, label);
  root.append(slider);
  const heads = el('div', 'charts');
  for (const h of headCharts(t, selected)) heads.append(figure(h, undefined));
  root.append(heads);
  if (t.skipped.length) {
    root.append(el('h2', undefined, `Skipped (${t.skipped.length})`));
    const ul = el('ul', 'skipped');
    for (const s of t.skipped) ul.append(el('li', undefined, `${baseName(s.file)}: ${s.reason}`));
    root.append(ul);
  }
}

function onMessage(m: TimelineToView): void {
  if (m.type === 'timeline') {
    // A slider at the last checkpoint follows checkpoints appended by watch mode.
    const atLast = result !== undefined && selected === result.checkpoints.length - 1;
    result = m.result;
    if (atLast) selected = result.checkpoints.length - 1;
    running = m.running;
    vscode.setState({ result, running: false });
  } else if (m.type === 'watching') {
    watching = m.on;
  } else if (m.type === 'weightsDiff') {
    diff = m.diff;
    running = false;
  } else if (m.type === 'progress') {
    running = true;
    progressText = `Analysing checkpoint ${m.done + 1} of ${m.total}: ${baseName(m.file)}`;
  } else if (m.type === 'error') {
    running = false;
    progressText = m.message;
  }
  render();
}

const sheet = new CSSStyleSheet();
sheet.replaceSync(CSS);
document.adoptedStyleSheets = [sheet];
const saved = vscode.getState() as { result?: TimelineResult } | undefined;
if (saved?.result) {
  result = saved.result;
  running = false;
}
window.addEventListener('message', (e: MessageEvent) => {
  const m = e.data as TimelineToView | null;
  if (m && typeof m === 'object' && (m.type === 'timeline' || m.type === 'progress' || m.type === 'error' || m.type === 'weightsDiff' || m.type === 'watching')) onMessage(m);
});
render();
vscode.postMessage({ type: 'ready' });
