// Over 500 lines on purpose: the inspector page's state machine (summary, findings, variants, table,
// statistics) lives in one module; its pieces (table, histogram, format, dom) are separate files.
// The inspector webview: summary card, security findings, variant chooser, the tensor table and
// per-tensor statistics. State comes from the host over the RPC of src/protocol/rpc.ts; every string
// taken from the file is rendered with textContent.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { RpcEndpoint, RpcError, type RpcTransport } from '../src/protocol/rpc';
import {
  INSPECTOR_METHODS,
  type InspectorCommand,
  type InspectorData,
  type InspectorErrorView,
  type InspectorState,
  type TensorRow,
  type TensorStatsView,
} from '../src/protocol/webviewProtocol';
import { el, append, clear } from './inspectorDom';
import { VirtualTable, type Column } from './inspectorTable';
import { histogramView } from './inspectorHistogram';
import { formatBytes, formatCount, formatInt, formatMs, formatPair, formatPercent, formatShape, formatStat } from './inspectorFormat';
import { headsSourceLabel, errorTitle, errorHint } from './inspectorLabels';
import { familyLabel } from '../src/protocol/modelLabels';

type Finding = InspectorData['findings'][number];

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const transport: RpcTransport = {
  send: (m) => vscode.postMessage(m),
  onMessage: (h) => window.addEventListener('message', (e: MessageEvent) => h(e.data)),
  onClose: () => undefined,
};
const rpc = new RpcEndpoint(transport);
const root = document.getElementById('root') as HTMLElement;

/** Rows above this byte size wait for an explicit click before statistics are computed. */
const AUTO_STATS_BYTES = 64 * 1024 * 1024;

let state: InspectorState = { fileName: document.title, trusted: true, loading: true };
let table: VirtualTable<IndexedRow> | undefined;
let statsPane: HTMLElement | undefined;
let statsAbort: AbortController | undefined;
let trustBanner: HTMLElement | undefined;
const trustButtons: HTMLElement[] = [];
let histLog = false;
const statsCache = new Map<string, TensorStatsView>();

/** What survives the webview being hidden and shown again (VS Code keeps it with setState). */
interface SavedView {
  file: string;
  filter: string;
  sort?: { column: string | undefined; dir: 'asc' | 'desc' };
  selected?: string;
  scrollTop: number;
}

function loadSaved(file: string): SavedView | undefined {
  const s = vscode.getState() as Partial<SavedView> | undefined;
  if (!s || s.file !== file || typeof s.filter !== 'string' || typeof s.scrollTop !== 'number') return undefined;
  return s as SavedView;
}

interface IndexedRow extends TensorRow {
  index: number;
  /** Lower-cased "name dtype shape" for filtering. */
  haystack: string;
}

rpc.onNotification(INSPECTOR_METHODS.show, (params) => {
  if (typeof params !== 'object' || params === null) return;
  const next = params as InspectorState;
  if (next.data !== state.data) statsCache.clear();
  state = next;
  render();
});
rpc.onNotification(INSPECTOR_METHODS.trust, (params) => {
  const trusted = (params as { trusted?: unknown } | null)?.trusted;
  if (typeof trusted !== 'boolean') return;
  state = { ...state, trusted };
  applyTrust();
});

function runCommand(command: InspectorCommand): void {
  rpc.notify(INSPECTOR_METHODS.runCommand, { command });
}

function button(label: string, command: InspectorCommand, opts: { secondary?: boolean; needsTrust?: boolean; disabled?: boolean; title?: string } = {}): HTMLElement {
  const b = el('vscode-button', { title: opts.title ?? '' }, label);
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.disabled) b.setAttribute('disabled', '');
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) runCommand(command);
  });
  if (opts.needsTrust) trustButtons.push(b);
  return b;
}

function render(): void {
  clear(root);
  trustButtons.length = 0;
  table?.dispose();
  table = undefined;
  statsPane = undefined;
  statsAbort?.abort();
  if (state.error) renderError(state.error);
  else if (state.data) renderData(state.data);
  else {
    root.appendChild(
      el('div', { cls: 'loading' }, el('vscode-progress-ring', {}), el('span', {}, `Reading the header of ${state.fileName}…`)),
    );
  }
}

function applyTrust(): void {
  for (const b of trustButtons) {
    if (state.trusted) b.removeAttribute('disabled');
    else b.setAttribute('disabled', '');
  }
  if (trustBanner) trustBanner.hidden = state.trusted;
}

function renderError(err: InspectorErrorView): void {
  const card = el(
    'section',
    { cls: `card error-card ${err.code === 'git-lfs-pointer' ? 'lfs' : ''}`, attrs: { role: 'alert' } },
    el('h1', {}, errorTitle(err.code)),
    el('p', { cls: 'problem' }, err.problem.charAt(0).toUpperCase() + err.problem.slice(1)),
    el(
      'dl',
      { cls: 'kv' },
      el('dt', {}, 'File'),
      el('dd', { cls: 'mono' }, err.file),
      err.offset !== undefined ? el('dt', {}, 'Byte offset') : null,
      err.offset !== undefined ? el('dd', { cls: 'mono' }, `${formatInt(err.offset)} (0x${err.offset.toString(16)})`) : null,
      el('dt', {}, 'Error code'),
      el('dd', { cls: 'mono' }, err.code),
    ),
  );
  const hint = errorHint(err.code);
  if (hint) card.appendChild(el('p', { cls: 'hint' }, hint));
  card.appendChild(
    el(
      'div',
      { cls: 'actions' },
      button('Reopen with Default Editor', 'reopenWithDefault', { secondary: true }),
      button('Reload', 'reload', { secondary: true }),
      button('Show Log', 'showLog', { secondary: true }),
    ),
  );
  root.appendChild(card);
}

function renderData(d: InspectorData): void {
  root.appendChild(summaryCard(d));
  trustBanner = el(
    'div',
    { cls: 'banner info', attrs: { role: 'status' } },
    'Restricted Mode: the header and tensor statistics are shown; analysis waits until you trust this workspace.',
  );
  root.appendChild(trustBanner);
  const f = findingsSection(d.findings, d.format, d.weightsOnly);
  if (f) root.appendChild(f);
  const details = detailsSection(d);
  // For an ONNX graph the graph summary is the headline; for weights, the tensors are.
  if (details && d.onnx) root.appendChild(details);
  root.appendChild(tensorSection(d));
  if (details && !d.onnx) root.appendChild(details);
  applyTrust();
}

function summaryCard(d: InspectorData): HTMLElement {
  const s = d.summary;
  const arch = familyLabel(s.family);
  const badges = el('div', { cls: 'badges' }, badge(d.format), badge(arch));
  const dangers = d.findings.filter((f) => f.severity === 'danger').length;
  if (dangers > 0) badges.appendChild(el('span', { cls: 'pill danger' }, `${dangers} dangerous reference${dangers === 1 ? '' : 's'}`));
  const title = el('div', { cls: 'title-row' }, el('h1', { title: d.file }, d.fileName), badges);
  const analyzable = !s.notAnalyzable;
  const analyzeTitle = analyzable ? 'Average attention distance, head diversity and layer CKA (runs the model)' : `Not analyzable: ${s.notAnalyzable}`;
  const actions = el(
    'div',
    { cls: 'actions' },
    button('Analyze Attention & CKA', 'analyze', { needsTrust: analyzable, disabled: !analyzable, title: analyzeTitle }),
    button('Compare With…', 'compareWith', { secondary: true, needsTrust: analyzable, disabled: !analyzable, title: analyzeTitle }),
    button('Reopen with Default Editor', 'reopenWithDefault', { secondary: true }),
  );
  const lh =
    s.layers !== null || s.heads !== null
      ? `${s.layers ?? '?'} × ${s.heads ?? '?'}`
      : 'unknown';
  const dtypes = Object.entries(s.dtypes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} (${formatInt(v)})`)
    .join(', ');
  const rows: Array<[string, string | HTMLElement, string?]> = [
    ['File', el('span', { cls: 'mono path' }, d.file)],
    ['Size', `${formatBytes(d.sizeBytes)}`, `${formatInt(d.sizeBytes)} bytes`],
    ['Format', d.format + (d.strippedPrefix ? ` · prefix “${d.strippedPrefix}” stripped` : '')],
    ['Architecture', arch + (s.notAnalyzable ? ' (not analyzable)' : '')],
    [
      'Layers × heads',
      el(
        'span',
        {},
        lh,
        s.heads !== null
          ? el('span', { cls: 'muted' }, ` · heads from ${headsSourceLabel(s.headsSource)}`)
          : s.layers !== null
            ? el('span', { cls: 'muted' }, ' · heads unknown: set modelLens.headsOverride')
            : null,
      ),
    ],
    ['Embed dim', s.dim !== null ? String(s.dim) : 'unknown'],
    ['Patch size', s.patchSize ? `${formatPair(s.patchSize)} px` : 'unknown'],
    ['Image size', s.imageSize ? `${formatPair(s.imageSize)} px` : 'unknown'],
    ['Special tokens', s.specialTokens !== null ? String(s.specialTokens) : 'unknown'],
    ['Parameters', formatCount(s.params), formatInt(s.params)],
    ['Dtypes', dtypes.length > 0 ? dtypes : '—', s.dtype],
    ['Tensors', formatInt(d.tensors.length)],
  ];
  const kv = el('dl', { cls: 'kv summary' });
  for (const [k, v, t] of rows) {
    const dd = el('dd', t ? { title: t } : {});
    append(dd, v);
    append(kv, el('dt', {}, k), dd);
  }
  const card = el('section', { cls: 'card summary-card', attrs: { 'aria-label': 'Summary' } }, title, kv);
  if (s.notAnalyzable) card.appendChild(el('p', { cls: 'note' }, `Not analyzable: ${s.notAnalyzable}`));
  if (s.details && Object.keys(s.details).length > 0) {
    card.appendChild(el('p', { cls: 'muted small' }, Object.entries(s.details).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(' · ')));
  }
  card.appendChild(actions);
  card.appendChild(el('p', { cls: 'muted small' }, `Header read in ${formatMs(d.readMs)} — nothing in the file was executed.`));
  if (d.variants.length > 1) card.appendChild(variantChooser(d));
  return card;
}

function badge(text: string): HTMLElement {
  return el('span', { cls: 'pill' }, text);
}

function variantChooser(d: InspectorData): HTMLElement {
  const sel = el('vscode-single-select', { attrs: { 'aria-label': 'Weight set' } }) as HTMLElement & { value: string };
  for (const v of d.variants) {
    const o = el('vscode-option', { attrs: { value: v.key } }, `${v.key} (${formatInt(v.tensorCount)} tensors)`);
    if (v.key === d.selectedVariant) o.setAttribute('selected', '');
    sel.appendChild(o);
  }
  sel.addEventListener('change', () => {
    if (sel.value && sel.value !== d.selectedVariant) rpc.notify(INSPECTOR_METHODS.selectVariant, { variant: sel.value });
  });
  return el(
    'div',
    { cls: 'variants' },
    el('label', {}, 'Weights: '),
    sel,
    el('span', { cls: 'muted small' }, ` ${d.variants.length} weight sets in this file (e.g. EMA). The table, statistics and analysis follow this choice.`),
  );
}

const SEVERITY_ORDER: Record<Finding['severity'], number> = { danger: 0, warning: 1, info: 2 };

function findingsSection(findings: Finding[], format: string, weightsOnly: string | undefined): HTMLElement | undefined {
  const sorted = findings.slice().sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const danger = sorted.filter((f) => f.severity === 'danger');
  const other = sorted.filter((f) => f.severity !== 'danger');
  const section = el('section', { cls: 'card findings', attrs: { 'aria-label': 'Security findings' } });
  if (danger.length > 0) {
    section.appendChild(
      el(
        'div',
        { cls: 'banner danger', attrs: { role: 'alert' } },
        el('strong', {}, `⚠ ${danger.length} dangerous code reference${danger.length === 1 ? '' : 's'}. `),
        'Loading this file with torch.load(weights_only=False) or pickle would run them. Model Lens never executes anything in a checkpoint.',
      ),
    );
    section.appendChild(findingList(danger));
  }
  // Not a danger, but what users hit daily: their own torch.load refuses the file.
  if (weightsOnly && danger.length === 0) section.appendChild(el('div', { cls: 'banner warning weights-only', attrs: { role: 'note' } }, weightsOnly));
  if (other.length > 0) {
    const warn = other.filter((f) => f.severity === 'warning').length;
    const c = el('vscode-collapsible', {
      attrs: { title: `${other.length} other finding${other.length === 1 ? '' : 's'}${warn > 0 ? ` (${warn} warning${warn === 1 ? '' : 's'})` : ''}` },
    });
    if (danger.length === 0 && warn > 0) c.setAttribute('open', '');
    c.appendChild(findingList(other));
    section.appendChild(c);
  }
  if (findings.length === 0) {
    if (format.startsWith('pytorch')) section.appendChild(el('p', { cls: 'ok' }, '✓ No code references outside the allow-list.'));
    else return undefined;
  }
  return section;
}

function findingList(findings: Finding[]): HTMLElement {
  const ul = el('ul', { cls: 'finding-list' });
  for (const f of findings) {
    const where = f.module !== undefined ? `${f.module}${f.name !== undefined ? `.${f.name}` : ''}` : undefined;
    ul.appendChild(
      el(
        'li',
        { cls: `finding ${f.severity}` },
        el('span', { cls: `sev ${f.severity}` }, f.severity),
        where ? el('code', {}, where) : null,
        el('span', {}, f.message),
        f.offset !== undefined ? el('span', { cls: 'muted small' }, ` @ offset ${formatInt(f.offset)}`) : null,
      ),
    );
  }
  return ul;
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

function tensorSection(d: InspectorData): HTMLElement {
  const rows: IndexedRow[] = d.tensors.map((t, index) => ({
    ...t,
    index,
    haystack: `${t.name} ${t.dtype} ${formatShape(t.shape)} ${t.shape.join('x')}`.toLowerCase(),
  }));
  const columns: Column<IndexedRow>[] = [
    { id: 'index', label: '#', width: '52px', align: 'right', text: (r) => String(r.index + 1), compare: (a, b) => a.index - b.index },
    { id: 'name', label: 'Name', width: 'minmax(200px, 1fr)', text: (r) => r.name, title: (r) => r.name, compare: (a, b) => collator.compare(a.name, b.name) },
    { id: 'dtype', label: 'DType', width: '64px', text: (r) => r.dtype, compare: (a, b) => collator.compare(a.dtype, b.dtype) },
    {
      id: 'shape',
      label: 'Shape',
      width: 'minmax(100px, 160px)',
      text: (r) => formatShape(r.shape) + (r.strided ? ' (strided)' : ''),
      compare: (a, b) => a.shape.length - b.shape.length || compareShapes(a.shape, b.shape),
    },
    { id: 'numel', label: 'Elements', width: '96px', align: 'right', text: (r) => formatInt(r.numel), compare: (a, b) => a.numel - b.numel, firstSort: 'desc' },
    { id: 'bytes', label: 'Size', width: '80px', align: 'right', text: (r) => formatBytes(r.bytes), title: (r) => `${formatInt(r.bytes)} bytes`, compare: (a, b) => a.bytes - b.bytes, firstSort: 'desc' },
    {
      id: 'offset',
      label: 'Offset',
      width: '110px',
      align: 'right',
      text: (r) => formatInt(r.offset),
      title: (r) => (r.file ? `${r.file} @ ${r.offset}` : `byte ${r.offset}`),
      compare: (a, b) => collator.compare(a.file ?? '', b.file ?? '') || a.offset - b.offset,
    },
  ];
  const count = el('span', { cls: 'muted count', attrs: { 'aria-live': 'polite' } });
  const totalBytes = d.tensors.reduce((a, t) => a + t.bytes, 0);
  table = new VirtualTable<IndexedRow>(columns, {
    rowHeight: 24,
    emptyText: 'No tensor matches the filter.',
    onSelect: (r) => showTensor(r),
    onActivate: (r) => {
      showTensor(r);
      void requestStats(r);
    },
  });
  table.setRows(rows);
  const updateCount = (): void => {
    const t = table!;
    count.textContent =
      t.visibleCount === t.totalCount
        ? `${formatInt(t.totalCount)} tensors · ${formatBytes(totalBytes)}`
        : `${formatInt(t.visibleCount)} of ${formatInt(t.totalCount)} tensors`;
  };
  updateCount();
  const search = el('vscode-textfield', { attrs: { placeholder: 'Filter: name, dtype or shape (space-separated terms, all must match)', 'aria-label': 'Filter tensors' } }) as HTMLElement & { value: string };
  search.classList.add('search');
  let timer: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      applyFilter(search.value);
      save();
    }, 60);
  });
  statsPane = el('aside', { cls: 'stats card', attrs: { 'aria-label': 'Tensor statistics', 'aria-live': 'polite' } });
  showTensor(undefined);
  const applyFilter = (text: string): void => {
    const terms = text.toLowerCase().split(/\s+/).filter((x) => x.length > 0);
    table!.setFilter(terms.length === 0 ? undefined : (r) => terms.every((t) => r.haystack.includes(t)));
    updateCount();
  };
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  const save = (): void => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => {
      const t = table;
      if (!t) return;
      const saved: SavedView = { file: d.file, filter: search.value, sort: t.sort, scrollTop: t.scrollTop };
      if (t.selection) saved.selected = t.selection.name;
      vscode.setState(saved);
    }, 150);
  };
  const saved = loadSaved(d.file);
  if (saved) {
    search.value = saved.filter;
    applyFilter(saved.filter);
    if (saved.sort?.column) table.sortBy(saved.sort.column, saved.sort.dir);
    requestAnimationFrame(() => {
      if (!table) return;
      table.scrollTop = saved.scrollTop;
      if (saved.selected !== undefined) table.selectWhere((r) => r.name === saved.selected);
    });
  }
  table.onViewChange = save;
  const section = el(
    'section',
    { cls: 'tensors', attrs: { 'aria-label': 'Tensors' } },
    el('div', { cls: 'toolbar' }, el('h2', {}, 'Tensors'), search, count),
    el('div', { cls: 'table-and-stats' }, table.element, statsPane),
  );
  return section;
}

function compareShapes(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function showTensor(r: IndexedRow | undefined): void {
  if (!statsPane) return;
  statsAbort?.abort();
  clear(statsPane);
  if (!r) {
    statsPane.appendChild(el('p', { cls: 'muted' }, 'Select a tensor to see its statistics (arrow keys move, Enter computes).'));
    return;
  }
  append(
    statsPane,
    el('h3', { cls: 'tensor-name', title: r.name }, r.name),
    el(
      'dl',
      { cls: 'kv compact' },
      el('dt', {}, 'DType'), el('dd', {}, r.dtype),
      el('dt', {}, 'Shape'), el('dd', {}, `[${r.shape.join(', ')}]`),
      el('dt', {}, 'Elements'), el('dd', {}, formatInt(r.numel)),
      el('dt', {}, 'Bytes'), el('dd', {}, `${formatBytes(r.bytes)} @ ${formatInt(r.offset)}`),
      r.file ? el('dt', {}, 'In file') : null,
      r.file ? el('dd', { cls: 'mono path' }, r.file) : null,
    ),
  );
  const cached = statsCache.get(r.name);
  if (cached) {
    statsPane.appendChild(statsView(cached));
    return;
  }
  const go = el('vscode-button', { title: 'Reads this tensor’s bytes in the worker process' }, 'Compute statistics');
  go.addEventListener('click', () => void requestStats(r));
  statsPane.appendChild(el('div', { cls: 'actions' }, go));
  if (r.bytes <= AUTO_STATS_BYTES && r.numel > 0) void requestStats(r);
}

async function requestStats(r: IndexedRow): Promise<void> {
  if (!statsPane || table?.selection !== r) return;
  statsAbort?.abort();
  const abort = new AbortController();
  statsAbort = abort;
  const pane = statsPane;
  const slot = el('div', { cls: 'stats-slot' }, el('div', { cls: 'loading small' }, el('vscode-progress-ring', {}), el('span', {}, 'Computing…')));
  pane.querySelector('.stats-slot')?.remove();
  pane.querySelector('.actions')?.remove();
  pane.appendChild(slot);
  try {
    const s = await rpc.request<TensorStatsView>(INSPECTOR_METHODS.tensorStats, { name: r.name }, abort.signal);
    statsCache.set(r.name, s);
    if (abort.signal.aborted) return;
    slot.replaceWith(statsView(s));
  } catch (e) {
    if (abort.signal.aborted || (e instanceof RpcError && e.code === 'cancelled')) return;
    clear(slot);
    slot.appendChild(el('p', { cls: 'error-text', attrs: { role: 'alert' } }, e instanceof Error ? e.message : String(e)));
  }
}

function statsView(s: TensorStatsView): HTMLElement {
  const kv = el('dl', { cls: 'kv compact stats-grid' });
  const add = (k: string, v: string, title?: string): void => append(kv, el('dt', {}, k), el('dd', title ? { title } : {}, v));
  add('Min', formatStat(s.min), String(s.min));
  add('Max', formatStat(s.max), String(s.max));
  add('Mean', formatStat(s.mean), String(s.mean));
  add('Std', formatStat(s.std), String(s.std));
  add('Zeros', formatPercent(s.zerosFraction), String(s.zerosFraction));
  if (s.nanCount > 0) add('NaN', formatInt(s.nanCount));
  if (s.infCount > 0) add('±Inf', formatInt(s.infCount));
  const wrap = el('div', { cls: 'stats-slot' }, kv);
  if (s.histogram.length > 0 && s.histMax >= s.histMin) {
    const logBox = el('vscode-checkbox', { attrs: { label: 'log scale' } }) as HTMLElement & { checked: boolean };
    if (histLog) logBox.setAttribute('checked', '');
    const holder = el('div', {}, histogramView({ counts: s.histogram, min: s.histMin, max: s.histMax }, { log: histLog }));
    logBox.addEventListener('change', () => {
      histLog = logBox.checked;
      clear(holder);
      holder.appendChild(histogramView({ counts: s.histogram, min: s.histMin, max: s.histMax }, { log: histLog }));
    });
    append(wrap, el('div', { cls: 'hist-head' }, el('span', { cls: 'muted small' }, `Histogram, ${s.histogram.length} bins`), logBox), holder);
  }
  wrap.appendChild(el('p', { cls: 'muted small' }, `${formatInt(s.count)} values · computed in the worker in ${formatMs(s.ms)}`));
  return wrap;
}

function detailsSection(d: InspectorData): HTMLElement | undefined {
  const parts: HTMLElement[] = [];
  if (d.onnx) {
    const o = d.onnx;
    const c = el('vscode-collapsible', { attrs: { title: `ONNX graph: ${formatInt(o.nodeCount)} nodes`, open: '' } });
    const io = (label: string, xs: typeof o.inputs): HTMLElement =>
      el('div', {}, el('h4', {}, label), el('ul', { cls: 'plain' }, ...xs.map((x) => el('li', { cls: 'mono' }, `${x.name}: ${x.elemType} [${x.shape.join(', ')}]`))));
    const ops = Object.entries(o.opCounts).sort((a, b) => b[1] - a[1]);
    c.appendChild(
      el(
        'div',
        { cls: 'onnx' },
        el('p', {}, `IR ${o.irVersion} · opset ${o.opsets.map((x) => `${x.domain || 'ai.onnx'} ${x.version}`).join(', ')}${o.producer ? ` · produced by ${o.producer}` : ''}`),
        io('Inputs', o.inputs),
        io('Outputs', o.outputs),
        el('h4', {}, 'Operators'),
        el('div', { cls: 'op-grid' }, ...ops.map(([k, v]) => el('span', { cls: 'op' }, el('code', {}, k), ` ×${v}`))),
      ),
    );
    parts.push(c);
  }
  if (d.extras.length > 0) {
    const c = el('vscode-collapsible', { attrs: { title: `Other entries (${d.extras.length})`, open: '' } });
    const dl = el('dl', { cls: 'kv extras' });
    for (const x of d.extras) append(dl, el('dt', { cls: 'mono' }, x.key), el('dd', { cls: 'mono' }, x.value));
    c.appendChild(dl);
    parts.push(c);
  }
  const meta = Object.entries(d.metadata);
  if (meta.length > 0) {
    const c = el('vscode-collapsible', { attrs: { title: `Metadata (${meta.length})` } });
    const dl = el('dl', { cls: 'kv extras' });
    for (const [k, v] of meta) append(dl, el('dt', { cls: 'mono' }, k), el('dd', { cls: 'mono' }, v));
    c.appendChild(dl);
    parts.push(c);
  }
  if (d.configText) {
    const c = el('vscode-collapsible', { attrs: { title: 'Config' } });
    c.appendChild(el('pre', { cls: 'config' }, d.configText));
    parts.push(c);
  }
  if (parts.length === 0) return undefined;
  return el('section', { cls: 'details', attrs: { 'aria-label': 'Details' } }, ...parts);
}

render();
rpc.notify(INSPECTOR_METHODS.ready, {});
