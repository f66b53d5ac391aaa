// Over 500 lines on purpose: the view's DOM for every state (progress, error, result, compare) is
// built in one place so that text-only rendering of file-derived strings is checked in one file.
// The analysis view's DOM: header (models, device, probes), warnings, progress/cancel, the charts with
// their table views and export buttons. Every file-derived string goes in as text, never as HTML.
import type { Chart } from 'chart.js' with { 'resolution-mode': 'import' };
import type { AnalysisProgress, AnalysisResult, AnalysisViewState, ChartId, CsvMetric, ExportRequest, ModelSummary, ViewCommand } from '../src/protocol/analysisViewProtocol';
import { chartPng, createChart, matrixChartConfig, metricChartConfig, type MetricSeries } from './analysisCharts';
import {
  ckaCellText,
  collectWarnings,
  deviceInfo,
  formatMs,
  formatValue,
  modelRows,
  offDiagonalMean,
  probeRows,
  scaleColor,
  SYNTHETIC_VIEW_TEXT,
  textOn,
  uniformAttentionDistance,
  viridis,
} from './analysisData';
import { baseName, ckaUnavailableText, compareLabels, hasCka, matrixCols, modelLabel } from '../src/protocol/analysisExport';
import { readTheme, type ChartTheme } from './analysisTheme';
import { errorCardModel } from './analysisErrors';

/** What the view asks of its host (the extension, or the standalone page). */
export interface ViewBridge {
  readonly mode: 'webview' | 'standalone';
  cancel(): void;
  rerun(): void;
  showLog(): void;
  /** Runs one of the view's follow-up actions in the host (webview mode only). */
  command(c: ViewCommand): void;
  /** Saves an export; resolves with a short status line ("" when the user cancelled). */
  save(req: ExportRequest, result: AnalysisResult): Promise<string>;
  /** Opens the attention maps of model `model` (0 = A) at a 0-based layer and head (webview only). */
  openAttention?(model: number, layer: number, head: number): void;
  /** Opens the metric definitions (docs/metrics.md shipped with the extension); absent in a standalone report. */
  openMetricsDocs?(): void;
}

type Child = Node | string | null | undefined | false;

/** Creates an element; strings become text nodes (never parsed as HTML). */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; attrs?: Record<string, string> } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function button(label: string, onClick: () => void, opts: { primary?: boolean; title?: string } = {}): HTMLButtonElement {
  const b = el('button', { class: opts.primary ? 'ml-btn ml-primary' : 'ml-btn', attrs: { type: 'button' } }, label);
  if (opts.title) b.title = opts.title;
  b.addEventListener('click', onClick);
  return b;
}

function swatch(color: string): HTMLElement {
  const s = el('span', { class: 'ml-swatch', attrs: { 'aria-hidden': 'true' } });
  s.style.background = color; // CSSOM, allowed by the CSP (no inline style attribute)
  return s;
}

function rangeText(values: number[], digits: number, unit: string): string {
  const f = values.filter((v) => Number.isFinite(v));
  if (f.length === 0) return 'no values';
  return `${Math.min(...f).toFixed(digits)}–${Math.max(...f).toFixed(digits)} ${unit}`;
}

/** Tab-separated copy of a table, for pasting into a spreadsheet. */
function tableTsv(table: HTMLTableElement): string {
  return Array.from(table.rows)
    .map((r) => Array.from(r.cells).map((c) => c.textContent ?? '').join('\t'))
    .join('\n');
}

type MetricKey = 'attentionDistance' | 'headDiversity' | 'specialMass' | 'attentionEntropy';

interface MetricSpec {
  id: ChartId;
  metric: MetricKey;
  title: string;
  yTitle: string;
  unit: string;
  digits: number;
  tableDigits: number;
  meanStyle: 'line' | 'dots';
  note: string;
}

const METRICS: MetricSpec[] = [
  {
    id: 'attention-distance',
    metric: 'attentionDistance',
    title: 'Average attention distance',
    yTitle: 'Mean attention distance (px)',
    unit: 'px',
    digits: 3,
    tableDigits: 2,
    meanStyle: 'line',
    note:
      'Attention-weighted distance in pixels between a query patch and the patches it attends to (patch tokens only), averaged over query patches and probe images. One dot per head; the line is the layer mean. Low = local attention, high = global.',
  },
  {
    id: 'head-diversity',
    metric: 'headDiversity',
    title: 'Attention head diversity',
    yTitle: 'KL divergence (nats)',
    unit: 'nats',
    digits: 4,
    tableDigits: 3,
    meanStyle: 'dots',
    note:
      "KL divergence of each head's attention distribution from the other heads of the same layer, averaged over query patches and probe images. Small dots: heads; large dots joined by a line: layer mean. Low = the heads attend alike (diversity collapsed).",
  },
  {
    id: 'special-mass',
    metric: 'specialMass',
    title: 'Special-token mass',
    yTitle: 'Share of attention on special tokens',
    unit: '',
    digits: 4,
    tableDigits: 3,
    meanStyle: 'line',
    note:
      'Share of a patch query\'s attention that goes to the special tokens (CLS, distillation, registers), averaged over query patches and probe images. A head with a large distance and a large mass is parked on CLS rather than looking far away. 0 for models without special tokens.',
  },
  {
    id: 'attention-entropy',
    metric: 'attentionEntropy',
    title: 'Attention entropy',
    yTitle: 'Entropy (nats)',
    unit: 'nats',
    digits: 3,
    tableDigits: 3,
    meanStyle: 'line',
    note:
      'Entropy of each head\'s attention over the patch keys (rows renormalised), averaged over query patches and probe images. log N for uniform attention; low = the head attends to few patches.',
  },
];

/** Bars on the layer means and interval columns: what they are, in one line. */
const INTERVAL_NOTE = 'Bars: 95% bootstrap intervals of the layer means over probe images (1000 resamples, fixed seed).';

/** Renders an AnalysisViewState; re-renders fully on state or theme changes (charts are cheap to rebuild). */
export class AnalysisView {
  private state: AnalysisViewState | undefined;
  private theme: ChartTheme;
  private readonly charts = new Map<ChartId, Chart>();
  private readonly openTables = new Set<string>();
  /** CKA heatmap display choices (kept across re-renders). */
  private ckaValues = false;
  private ckaStretch = false;
  private statusEl: HTMLElement | undefined;
  private progressFill: HTMLElement | undefined;
  private progressLabel: HTMLElement | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: ViewBridge,
  ) {
    this.theme = readTheme();
  }

  /** Chart instances by id (debug hook and tests read their data back). */
  chartInstances(): Record<string, Chart> {
    return Object.fromEntries(this.charts);
  }

  /** Shows a new state. */
  show(state: AnalysisViewState | undefined): void {
    this.state = state;
    this.render();
  }

  /** Updates the progress bar in place; no re-render. */
  progress(p: AnalysisProgress): void {
    if (!this.state || this.state.phase !== 'running') return;
    this.state = { ...this.state, progress: p };
    this.paintProgress(p);
  }

  /** PNG data: URL of a shown chart, or undefined. */
  png(id: string): string | undefined {
    const chart = this.charts.get(id as ChartId);
    return chart ? chartPng(chart) : undefined;
  }

  /** The state currently shown. */
  current(): AnalysisViewState | undefined {
    return this.state;
  }

  /** Re-reads the theme's colours and redraws. */
  refreshTheme(): void {
    this.theme = readTheme();
    this.render();
  }

  private destroyCharts(): void {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
  }

  private render(): void {
    const scroll = window.scrollY;
    this.destroyCharts();
    this.root.replaceChildren();
    this.progressFill = undefined;
    this.progressLabel = undefined;
    const s = this.state;
    const pending: (() => void)[] = [];
    this.root.append(this.topbar(s));
    if (!s) {
      this.root.append(el('p', { class: 'ml-note' }, 'Waiting for the analysis…'));
      return;
    }
    if (s.phase === 'running') this.root.append(this.progressBox(s));
    if (s.phase === 'error') this.root.append(this.errorBox(s));
    if (s.phase === 'cancelled') {
      this.root.append(
        el('div', { class: 'ml-callout', attrs: { role: 'status' } }, el('h2', {}, 'Analysis cancelled'), this.bridge.mode === 'webview' ? button('Run again', () => this.bridge.rerun(), { primary: true }) : null),
      );
    }
    if (s.result && s.phase === 'done') this.renderResult(s.result, pending);
    for (const f of pending) f();
    window.scrollTo(0, scroll);
  }

  private topbar(s: AnalysisViewState | undefined): HTMLElement {
    const r = s?.result;
    const title = r
      ? r.compare
        ? `${compareLabels(r.model, r.compare.model).join('  vs  ')}`
        : modelLabel(r.model)
      : s?.files.length
        ? s.files.map(baseName).join('  vs  ')
        : (s?.title ?? 'Model Lens analysis');
    const sub = r
      ? `${r.compare ? 'Comparison' : 'Analysis'} · attention distance, head diversity, CKA (Xie et al., arXiv 2205.13543)${s?.cached ? ' · from cache' : ''}`
      : s?.phase === 'running'
        ? `${s.files.length === 2 ? 'Comparison' : 'Analysis'} running · attention distance, head diversity, CKA`
        : '';
    const actions = el('div', { class: 'ml-actions' });
    if (r && s?.phase === 'done') {
      actions.append(button('Export JSON', () => this.save({ format: 'json' }), { title: 'The full result, schema model-lens/analysis@1' }));
    }
    // Each follow-up appears once: the error card and the cancelled note carry their own.
    if (this.bridge.mode === 'webview' && s?.phase === 'done') {
      actions.append(button('Re-run', () => this.bridge.rerun(), { title: 'Run the analysis again, ignoring the cache' }));
    }
    if (this.bridge.mode === 'webview' && s?.phase !== 'error') actions.append(button('Show log', () => this.bridge.showLog()));
    this.statusEl = el('div', { class: 'ml-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    return el('header', { class: 'ml-topbar' }, el('div', {}, el('h1', {}, title), sub ? el('p', { class: 'ml-subtitle' }, sub) : null), el('div', {}, actions, this.statusEl));
  }

  private progressBox(s: AnalysisViewState): HTMLElement {
    const fill = el('div', { class: 'ml-progress-fill' });
    const label = el('p', { class: 'ml-progress-label' });
    this.progressFill = fill;
    this.progressLabel = label;
    const bar = el('div', { class: 'ml-progress-bar', attrs: { role: 'progressbar', 'aria-label': 'Analysis progress' } }, fill);
    const box = el(
      'section',
      { class: 'ml-progress', attrs: { 'aria-busy': 'true' } },
      label,
      el('div', { class: 'ml-progress-row' }, bar, this.bridge.mode === 'webview' ? button('Cancel', () => this.bridge.cancel()) : null),
    );
    this.paintProgress(s.progress ?? { done: 0, total: 0, stage: 'Starting…' });
    return box;
  }

  private paintProgress(p: AnalysisProgress): void {
    if (!this.progressFill || !this.progressLabel) return;
    const known = p.total > 0;
    const frac = known ? Math.min(1, Math.max(0, p.done / p.total)) : 0;
    this.progressFill.classList.toggle('ml-indeterminate', !known);
    this.progressFill.style.width = known ? `${(frac * 100).toFixed(1)}%` : '';
    const bar = this.progressFill.parentElement;
    if (bar) {
      if (known) {
        bar.setAttribute('aria-valuemin', '0');
        bar.setAttribute('aria-valuemax', String(p.total));
        bar.setAttribute('aria-valuenow', String(p.done));
      } else bar.removeAttribute('aria-valuenow');
    }
    this.progressLabel.textContent = `${p.stage}${known ? ` — ${p.done} / ${p.total}` : ''}`;
  }

  private errorBox(s: AnalysisViewState): HTMLElement {
    // The inspector's error card: title, the problem, file / offset / code, a hint, one primary action.
    const m = errorCardModel(s);
    const dl = el('dl', { class: 'ml-error-facts' });
    for (const [k, v] of m.facts) dl.append(el('dt', {}, k), el('dd', {}, v));
    const actions = el('div', { class: 'ml-actions' });
    if (this.bridge.mode === 'webview') {
      const p = m.primary;
      if (p) actions.append(button(p.label, () => (p.command === 'rerun' ? this.bridge.rerun() : this.bridge.command(p.command)), { primary: true, title: p.title }));
      actions.append(button('Show log', () => this.bridge.showLog()));
    }
    return el(
      'section',
      { class: 'ml-callout ml-error', attrs: { role: 'alert' } },
      el('h2', {}, m.title),
      el('p', { class: 'ml-error-problem' }, m.problem),
      m.facts.length > 0 ? dl : null,
      m.hint ? el('p', { class: 'ml-error-hint' }, m.hint) : null,
      actions.childElementCount > 0 ? actions : null,
    );
  }

  private series(r: AnalysisResult, metric: MetricKey): MetricSeries[] {
    const c = r.compare;
    const uniform = (m: ModelSummary): number | undefined => {
      // Plain ViTs: uniform attention over the model's own patch grid (windowed models have per-stage references).
      if (metric !== 'attentionDistance' || m.stages?.length || !m.imageSize || !m.patchSize) return undefined;
      return uniformAttentionDistance(Math.floor(m.imageSize[0] / m.patchSize[0]), Math.floor(m.imageSize[1] / m.patchSize[1]), m.patchSize[0], m.patchSize[1]);
    };
    const a = r[metric];
    if (!a) return [];
    if (!c) return [{ label: modelLabel(r.model), block: a, color: this.theme.series[0], stages: r.model.stages, uniformDistance: uniform(r.model) }];
    const [la, lb] = compareLabels(r.model, c.model);
    const b = c[metric];
    return [
      { label: la, short: 'A', block: a, color: this.theme.series[0], stages: r.model.stages, uniformDistance: uniform(r.model) },
      ...(b ? [{ label: lb, short: 'B', block: b, color: this.theme.series[1], stages: c.model.stages, uniformDistance: uniform(c.model) }] : []),
    ];
  }

  /** The Run card's lines about the options and intervals, and the link to the definitions. */
  private optionRows(r: AnalysisResult): [string, string][] {
    const o = r.options;
    const rows: [string, string][] = [];
    rows.push(['Conventions', o ? `distance ${o.distanceConvention}, CKA tokens ${o.ckaTokens}` : 'distance renormalised, CKA tokens all (defaults)']);
    if (r.attentionDistance.ci95) rows.push(['Intervals', `95% bootstrap over ${r.probe.count} probe images${r.cka.ci95 ? ` and over ${r.cka.batches} CKA batches` : ''}`]);
    return rows;
  }

  private docsLink(): HTMLElement {
    if (!this.bridge.openMetricsDocs) return el('p', { class: 'ml-note' }, 'Definitions and conventions: docs/metrics.md in the Model Lens repository.');
    const a = el('a', { attrs: { href: '#', class: 'ml-docs-link', 'data-docs': 'metrics' } }, 'Metric definitions and conventions');
    a.addEventListener('click', (e) => {
      e.preventDefault();
      this.bridge.openMetricsDocs?.();
    });
    return el('p', { class: 'ml-note' }, a);
  }

  private renderResult(r: AnalysisResult, pending: (() => void)[]): void {
    const c = r.compare;
    const labels = c ? compareLabels(r.model, c.model) : [modelLabel(r.model)];
    // Header: models, run.
    const cards = el('div', { class: 'ml-cards' });
    cards.append(this.modelCard(r.model, c ? `Model A: ${labels[0]}` : 'Model', c ? this.theme.series[0] : undefined));
    if (c) cards.append(this.modelCard(c.model, `Model B: ${labels[1]}`, this.theme.series[1]));
    const runRows: [string, string | Node][] = [['Device', this.deviceValue(r)], ...probeRows(r), ...this.optionRows(r), ['Time', `${formatMs(r.timing.totalMs)} total, ${formatMs(r.timing.inferenceMs)} inference`]];
    const run = this.card('Run', runRows);
    run.append(this.docsLink());
    cards.append(run);
    this.root.append(cards);
    // Warnings.
    const warnings = collectWarnings(r);
    if (warnings.length > 0) {
      this.root.append(
        el('div', { class: 'ml-callout', attrs: { role: 'note', 'aria-label': 'Warnings' } }, el('h2', {}, warnings.length === 1 ? 'Warning' : `Warnings (${warnings.length})`), el('ul', {}, ...warnings.map((w) => this.warningItem(w.kind, w.text)))),
      );
    }
    // Side by side when the editor is wide enough (CSS grid), stacked otherwise.
    const pair = el('div', { class: 'ml-metric-pair' });
    this.root.append(pair);
    for (const spec of METRICS) this.metricSection(r, spec, pending, pair);
    this.ckaSection(r, pending);
    // Cross-model CKA uses the same batches: without CKA there is none (the CKA section says why).
    if (c && hasCka(r.cka)) this.crossSection(r, pending);
    this.root.append(
      el('footer', { class: 'ml-foot' }, `Model Lens · schema ${r.schema} · CKA estimator ${r.cka.estimator} · layers numbered from 1 (layer n is transformer block n−1).`),
    );
  }

  private card(title: string | Node, rows: [string, string | Node][]): HTMLElement {
    const dl = el('dl');
    for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
    return el('section', { class: 'ml-card' }, el('h2', {}, title), dl);
  }

  /** "CPU", with the reason behind a disclosure when auto found no GPU (a normal outcome, not a warning). */
  private deviceValue(r: AnalysisResult): Node {
    const d = deviceInfo(r);
    const span = el('span', { class: 'ml-device' }, d.text);
    if (!d.detail) return span;
    const details = el('details', { class: 'ml-why' }, el('summary', {}, 'why?'), el('p', {}, d.detail));
    return el('span', {}, span, ' ', details);
  }

  private warningItem(kind: string, text: string): HTMLElement {
    if (kind !== 'synthetic' || this.bridge.mode !== 'webview') return el('li', {}, text);
    // In the editor the fix is one click, not a CLI flag.
    return el('li', {}, SYNTHETIC_VIEW_TEXT, ' ', button('Choose Probe Images…', () => this.bridge.command('chooseProbeImages'), { primary: true, title: 'Pick a folder of your own PNG/JPEG images (modelLens.probeImagesFolder)' }));
  }

  private modelCard(m: ModelSummary, title: string, color?: string): HTMLElement {
    const h = el('span', {});
    if (color) h.append(swatch(color));
    h.append(title);
    const card = this.card(h, modelRows(m));
    card.querySelector('dd')?.setAttribute('title', m.file);
    return card;
  }

  private sectionHead(title: string, actions: HTMLElement[]): HTMLElement {
    return el('div', { class: 'ml-section-head' }, el('h2', {}, title), el('div', { class: 'ml-actions' }, ...actions));
  }

  private tableToggle(key: string, wrap: HTMLElement): HTMLButtonElement {
    const open = this.openTables.has(key);
    wrap.classList.toggle('ml-hidden', !open);
    const b = button(open ? 'Hide table' : 'Show table', () => {
      const now = !this.openTables.has(key);
      if (now) this.openTables.add(key);
      else this.openTables.delete(key);
      wrap.classList.toggle('ml-hidden', !now);
      b.textContent = now ? 'Hide table' : 'Show table';
      b.setAttribute('aria-expanded', String(now));
      // The table opens below the chart, usually out of sight: bring it into view.
      if (now) wrap.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
    });
    b.setAttribute('aria-expanded', String(open));
    return b;
  }

  private pngButton(id: ChartId): HTMLButtonElement {
    return button('PNG', () => {
      const chart = this.charts.get(id);
      if (chart) this.save({ format: 'png', chart: id, dataUrl: chartPng(chart) });
    }, { title: 'Save this chart as a PNG image' });
  }

  private csvButton(metric: CsvMetric): HTMLButtonElement {
    return button('CSV', () => this.save({ format: 'csv', metric }), { title: 'Save these numbers as CSV' });
  }

  private canvasFor(id: ChartId, label: string): [HTMLElement, HTMLCanvasElement] {
    const canvas = el('canvas', { attrs: { role: 'img', 'aria-label': label, 'data-chart': id } });
    return [el('div', { class: 'ml-chart-wrap' }, canvas), canvas];
  }

  private metricSection(r: AnalysisResult, spec: MetricSpec, pending: (() => void)[], parent: HTMLElement = this.root): void {
    const series = this.series(r, spec.metric);
    if (series.length === 0) return;
    const ci = series.some((s) => s.block.ci95);
    const aria = `${spec.title} per head and layer. ${series.map((s) => `${s.label}: layer means ${rangeText(s.block.perLayer, spec.tableDigits, spec.unit)}`).join('; ')}. The table view lists every value.`;
    const [wrap, canvas] = this.canvasFor(spec.id, aria);
    wrap.classList.add('ml-metric');
    const tables = el('div', { class: 'ml-table-wrap' }, ...series.map((s) => this.metricTable(s, spec, series.length > 1)));
    const section = el(
      'section',
      { class: 'ml-section', attrs: { id: spec.id } },
      this.sectionHead(spec.title, [this.tableToggle(spec.id, tables), this.csvButton(spec.metric), this.pngButton(spec.id)]),
      el('p', { class: 'ml-note' }, spec.note, ci ? ` ${INTERVAL_NOTE}` : '', spec.metric === 'attentionDistance' && series.some((s) => s.uniformDistance !== undefined) ? ' Dashed: uniform attention over all patches of the model\'s grid.' : '', spec.metric === 'attentionDistance' && r.options?.distanceConvention === 'vit' ? ' Convention vit: rows not renormalised after dropping special tokens.' : ''),
      this.bridge.openAttention ? el('p', { class: 'ml-note ml-drill' }, "Click a head's dot to see its attention maps on the probe images.") : null,
      wrap,
      tables,
    );
    parent.append(section);
    pending.push(() => {
      // The exported PNG names the models, since its legend only says A and B.
      const title = series.length > 1 ? `${spec.title} — A: ${series[0]!.label} · B: ${series[1]!.label}` : `${spec.title} — ${series[0]!.label}`;
      // Attention maps are drawn for plain ViTs; windowed (Swin) heads have no drill-down.
      const open = series.some((x) => x.stages?.length) ? undefined : this.bridge.openAttention?.bind(this.bridge);
      const onHead = open ? (s: number, layer: number, head: number): void => open(s, layer - 1, head - 1) : undefined;
      this.charts.set(spec.id, createChart(canvas, metricChartConfig({ title, yTitle: spec.yTitle, unit: spec.unit, digits: spec.digits, series, meanStyle: spec.meanStyle, theme: this.theme, uniformReference: spec.metric === 'attentionDistance', ...(onHead ? { onHead } : {}) })));
    });
  }

  private metricTable(s: MetricSeries, spec: MetricSpec, named: boolean): HTMLElement {
    const heads = s.block.perHead.reduce((m, row) => Math.max(m, row.length), 0);
    const layers = Math.max(s.block.perHead.length, s.block.perLayer.length);
    const ci = s.block.ci95;
    const table = el('table', { class: 'ml-table' });
    table.append(el('caption', {}, `${spec.title}${spec.unit ? ` (${spec.unit})` : ''}${named ? ` — ${s.label}` : ''}: one row per layer; mean${ci ? ', its 95% bootstrap interval' : ''}, then one column per head.`));
    const head = el('tr', {}, el('th', { attrs: { scope: 'col' } }, 'Layer'), el('th', { attrs: { scope: 'col' } }, 'Mean'), ci ? el('th', { attrs: { scope: 'col' } }, '95% CI') : null);
    for (let h = 0; h < heads; h++) head.append(el('th', { attrs: { scope: 'col' } }, `H${h + 1}`));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    for (let l = 0; l < layers; l++) {
      const stage = s.stages?.findIndex((st) => l >= st.firstLayer && l < st.firstLayer + st.layers) ?? -1;
      const tr = el('tr', {}, el('th', { attrs: { scope: 'row' } }, stage >= 0 ? `${l + 1} · stage ${stage + 1}` : String(l + 1)), el('td', { class: 'ml-mean' }, formatValue(s.block.perLayer[l], spec.tableDigits)));
      const lci = ci?.perLayer[l];
      if (ci) tr.append(el('td', { class: 'ml-ci' }, lci ? `${formatValue(lci[0], spec.tableDigits)}–${formatValue(lci[1], spec.tableDigits)}` : '—'));
      const row = s.block.perHead[l] ?? [];
      for (let h = 0; h < heads; h++) tr.append(el('td', {}, formatValue(row[h], spec.tableDigits)));
      body.append(tr);
    }
    table.append(body);
    return el('div', {}, el('div', { class: 'ml-actions' }, button('Copy table', () => void this.copy(table), { title: 'Copy as tab-separated values' })), table);
  }

  private matrixTable(matrix: number[][], caption: string, rowName: string, colName: string): HTMLElement {
    const cols = matrixCols(matrix);
    const table = el('table', { class: 'ml-table' });
    table.append(el('caption', {}, caption));
    const head = el('tr', {}, el('th', { attrs: { scope: 'col' } }, `${rowName} \\ ${colName}`));
    for (let c = 0; c < cols; c++) head.append(el('th', { attrs: { scope: 'col' } }, String(c + 1)));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    matrix.forEach((row, r) => {
      const tr = el('tr', {}, el('th', { attrs: { scope: 'row' } }, String(r + 1)));
      for (let c = 0; c < cols; c++) {
        const v = row[c];
        const td = el('td', {}, formatValue(v, 3));
        if (typeof v === 'number' && Number.isFinite(v)) {
          const rgb = viridis(v);
          td.style.backgroundColor = scaleColor(v);
          td.style.color = textOn(rgb);
        }
        tr.append(td);
      }
      body.append(tr);
    });
    table.append(body);
    return el('div', {}, el('div', { class: 'ml-actions' }, button('Copy table', () => void this.copy(table), { title: 'Copy as tab-separated values' })), table);
  }

  private heatmap(id: ChartId, title: string, heading: Node | string, matrix: number[][], xTitle: string, yTitle: string, pending: (() => void)[], sub?: string, detail?: (row: number, col: number) => string, ci?: Array<Array<[number, number]>>): HTMLElement {
    const mean = offDiagonalMean(matrix);
    const cols = matrixCols(matrix);
    // Optional stretch for matrices near 1: the scale starts at the smallest value (rounded down to 0.05).
    const finiteVals = matrix.flat().filter((v) => typeof v === 'number' && Number.isFinite(v));
    const min = this.ckaStretch && finiteVals.length ? Math.min(0.95, Math.floor(Math.min(...finiteVals) * 20) / 20) : 0;
    const aria = `${title}: ${matrix.length}×${matrixCols(matrix)} heatmap on a ${min > 0 ? `stretched ${min.toFixed(2)} to 1` : 'fixed 0 to 1'} colour scale${mean !== null && matrix.length === matrixCols(matrix) ? `, mean off-diagonal ${mean.toFixed(3)}` : ''}. The table view lists every value.`;
    const [wrap, canvas] = this.canvasFor(id, aria);
    const detailEl = detail ? el('p', { class: 'ml-heat-sub ml-cka-detail', attrs: { 'aria-live': 'polite', 'data-chart-detail': id } }, 'Click a cell for both layers\' values.') : null;
    const onCell = detail && detailEl ? (row: number, col: number): void => void (detailEl.textContent = detail(row, col)) : undefined;
    pending.push(() => {
      this.charts.set(id, createChart(canvas, matrixChartConfig({ title, matrix, xTitle, yTitle, valueLabel: 'CKA', min, max: 1, theme: this.theme, showValues: this.ckaValues, ci, ...(onCell ? { onCell } : {}) })));
    });
    // A wide cross-model matrix (e.g. 12 vs 24 layers) gets more room so its cells stay legible.
    const wide = cols > matrix.length * 1.3;
    const box = el(
      'div',
      { class: wide ? 'ml-heat ml-heat-wide' : 'ml-heat' },
      el('h3', {}, heading, el('span', { class: 'ml-actions' }, this.pngButton(id))),
      sub ? el('p', { class: 'ml-heat-sub' }, sub) : null,
      wrap,
      detailEl,
    );
    // Small models (2-4 layers) would get huge cells; cap a cell near 64 px (axes and scale need ~170 px).
    wrap.style.maxWidth = `${Math.max(300, Math.min(wide ? 900 : 560, cols * 64 + 170))}px`;
    return box;
  }

  private ckaSection(r: AnalysisResult, pending: (() => void)[]): void {
    if (!hasCka(r.cka)) {
      // Null values would draw an empty, misleading heatmap: say why there is none instead.
      this.root.append(
        el('section', { class: 'ml-section', attrs: { id: 'cka' } }, this.sectionHead('Layer-by-layer representation similarity (CKA)', []), el('p', { class: 'ml-note ml-cka-missing' }, ckaUnavailableText(r))),
      );
      return;
    }
    const c = r.compare;
    const labels = c ? compareLabels(r.model, c.model) : [modelLabel(r.model)];
    const meanA = offDiagonalMean(r.cka.matrix);
    const grid = el('div', { class: 'ml-heat-grid' });
    const headA = el('span', {});
    if (c) headA.append(swatch(this.theme.series[0]));
    headA.append(`${c ? 'A: ' : ''}${labels[0]}`);
    const subOf = (m: number | null): string => `Mean off-diagonal CKA ${m !== null ? m.toFixed(3) : '—'}`;
    grid.append(this.heatmap('cka', c ? `CKA, ${labels[0]}` : 'Layer-by-layer CKA', headA, r.cka.matrix, 'Layer', 'Layer', pending, subOf(meanA), (row, col) => ckaCellText(r.cka.matrix, r.cka.batches, r.attentionDistance, r.headDiversity, row, col), r.cka.ci95?.matrix));
    const tables = el('div', { class: 'ml-table-wrap' }, this.matrixTable(r.cka.matrix, `CKA between layers${c ? ` — ${labels[0]}` : ''}: rows and columns are layers.`, 'Layer', 'Layer'));
    if (c) {
      const meanB = offDiagonalMean(c.cka.matrix);
      const headB = el('span', {}, swatch(this.theme.series[1]), `B: ${labels[1]}`);
      grid.append(this.heatmap('cka-b', `CKA, ${labels[1]}`, headB, c.cka.matrix, 'Layer', 'Layer', pending, subOf(meanB), (row, col) => ckaCellText(c.cka.matrix, c.cka.batches, c.attentionDistance, c.headDiversity, row, col), c.cka.ci95?.matrix));
      tables.append(this.matrixTable(c.cka.matrix, `CKA between layers — ${labels[1]}: rows and columns are layers.`, 'Layer', 'Layer'));
    }
    const tokens = { all: 'all tokens', patch: 'patch tokens', cls: 'class token', mean: 'mean of the patch tokens' }[r.options?.ckaTokens ?? 'all'];
    const note = `Linear CKA between the outputs of every pair of transformer blocks (${tokens}), minibatch unbiased estimator over ${r.cka.batches} batch${r.cka.batches === 1 ? '' : 'es'}. 1 = same representation up to rotation and scale; colour scale ${this.ckaStretch ? 'stretched to the values shown' : 'fixed 0–1'}. High values everywhere = layers represent the input alike. Hover a cell for its value${r.cka.ci95 ? ' and its 95% bootstrap interval over batches' : ''}.`;
    this.root.append(
      el('section', { class: 'ml-section', attrs: { id: 'cka' } }, this.sectionHead('Layer-by-layer representation similarity (CKA)', [this.ckaToggle('values'), this.ckaToggle('stretch'), this.tableToggle('cka', tables), this.csvButton('cka')]), el('p', { class: 'ml-note' }, note), grid, tables),
    );
  }

  /** The heatmaps' display switches: values written in the cells, colour scale stretched to the values. */
  private ckaToggle(which: 'values' | 'stretch'): HTMLButtonElement {
    const on = which === 'values' ? this.ckaValues : this.ckaStretch;
    const b = button(which === 'values' ? (on ? 'Hide values' : 'Values in cells') : on ? 'Scale 0–1' : 'Stretch colours', () => {
      if (which === 'values') this.ckaValues = !this.ckaValues;
      else this.ckaStretch = !this.ckaStretch;
      this.render();
    }, { title: which === 'values' ? 'Write each CKA value in its cell' : 'Stretch the colour scale to the smallest value shown (for matrices near 1); the fixed 0–1 scale is the default' });
    b.setAttribute('aria-pressed', String(on));
    b.dataset['ckaToggle'] = which;
    return b;
  }

  private crossSection(r: AnalysisResult, pending: (() => void)[]): void {
    const c = r.compare!;
    const [la, lb] = compareLabels(r.model, c.model);
    const head = el('span', {}, `${la} (rows) × ${lb} (columns)`);
    const grid = el('div', { class: 'ml-heat-grid' }, this.heatmap('cross-cka', `Cross-model CKA, ${la} vs ${lb}`, head, c.crossCka, 'Layer of B', 'Layer of A', pending, undefined, undefined, c.crossCkaCi95));
    const tables = el('div', { class: 'ml-table-wrap' }, this.matrixTable(c.crossCka, `CKA between layers of ${la} (rows) and ${lb} (columns).`, 'A', 'B'));
    this.root.append(
      el(
        'section',
        { class: 'ml-section', attrs: { id: 'cross-cka' } },
        this.sectionHead('Cross-model CKA', [this.tableToggle('cross-cka', tables), this.csvButton('crossCka')]),
        el('p', { class: 'ml-note' }, 'CKA between each layer of model A and each layer of model B, on the same probe batches. A bright diagonal means the two models build similar representations at the same depth.'),
        grid,
        tables,
      ),
    );
  }

  private async copy(table: HTMLTableElement): Promise<void> {
    try {
      await navigator.clipboard.writeText(tableTsv(table));
      this.setStatus('Table copied as tab-separated values.');
    } catch {
      this.setStatus('Could not copy; select the table and copy it instead.');
    }
  }

  private setStatus(text: string): void {
    if (this.statusEl) this.statusEl.textContent = text;
  }

  private save(req: ExportRequest): void {
    const r = this.state?.result;
    if (!r) return;
    this.bridge.save(req, r).then(
      (msg) => this.setStatus(msg),
      (err: unknown) => this.setStatus(`Export failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }
}
