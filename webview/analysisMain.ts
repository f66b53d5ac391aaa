// Entry of the analysis bundle. Runs in two modes with the same rendering code:
// - in a VS Code webview (acquireVsCodeApi exists): talks to the host over the typed RPC, persists its
//   state with setState so a restored panel redraws without recomputing;
// - in the standalone HTML report: reads the result embedded in <script type="application/json" id="model-lens-result">.
import { RpcEndpoint, type RpcTransport } from '../src/protocol/rpc';
import { ANALYSIS_VIEW_METHODS as M, type AnalysisProgress, type AnalysisResult, type AnalysisViewState, type ExportRequest, type ExportResponse } from '../src/protocol/analysisViewProtocol';
import { isAnalysisResult, resultProblem } from '../src/protocol/analysisResultCheck';
import { exportFileName, toCsv } from '../src/protocol/analysisExport';
import { ANALYSIS_CSS } from './analysisStyles';
import { watchTheme } from './analysisTheme';
import { loadCharts } from './analysisCharts';
import { AnalysisView, type ViewBridge } from './analysisView';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

interface DebugWindow {
  __modelLensCharts?: Record<string, unknown>;
  __modelLensView?: { ready: boolean; mode: string; error?: string };
}

/** Persisted webview state (versioned so an old panel never feeds a newer view garbage). */
interface PersistedState {
  v: 1;
  view: AnalysisViewState;
}

// The script's nonce, read while the script runs, lets the injected <style> pass the page's CSP.
const scriptNonce = (document.currentScript as HTMLScriptElement | null)?.nonce || document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce || '';

function injectStyles(): void {
  const style = document.createElement('style');
  if (scriptNonce) style.nonce = scriptNonce;
  style.textContent = ANALYSIS_CSS;
  document.head.append(style);
}

function rootElement(): HTMLElement {
  let root = document.getElementById('model-lens-root');
  if (!root) {
    root = document.createElement('main');
    root.id = 'model-lens-root';
    document.body.append(root);
  }
  root.classList.add('ml-root');
  return root;
}

function isViewState(v: unknown): v is AnalysisViewState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  if (typeof s['key'] !== 'string' || typeof s['title'] !== 'string' || !Array.isArray(s['files'])) return false;
  if (!['running', 'done', 'error', 'cancelled'].includes(s['phase'] as string)) return false;
  return s['result'] === undefined || isAnalysisResult(s['result']);
}

function isProgress(v: unknown): v is AnalysisProgress {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return typeof p['done'] === 'number' && typeof p['total'] === 'number' && typeof p['stage'] === 'string';
}

function exposeDebug(view: AnalysisView, mode: string): void {
  const w = window as unknown as DebugWindow;
  Object.defineProperty(w, '__modelLensCharts', { configurable: true, get: () => view.chartInstances() });
  w.__modelLensView = { ready: true, mode };
}

function startWebview(api: VsCodeApi): void {
  const transport: RpcTransport = {
    send: (m) => api.postMessage(m),
    onMessage: (h) => window.addEventListener('message', (e: MessageEvent) => h(e.data)),
    onClose: () => undefined,
  };
  const rpc = new RpcEndpoint(transport);
  const bridge: ViewBridge = {
    mode: 'webview',
    cancel: () => rpc.notify(M.cancel, {}),
    rerun: () => rpc.notify(M.rerun, {}),
    showLog: () => rpc.notify(M.showLog, {}),
    command: (c) => rpc.notify(M.command, { command: c }),
    save: async (req: ExportRequest) => {
      const res = await rpc.request<ExportResponse>(M.export, req);
      return res.saved && res.path ? `Saved ${res.path}` : '';
    },
    openAttention: (model, layer, head) => rpc.notify(M.openAttention, { model, layer, head }),
    openMetricsDocs: () => rpc.notify(M.openMetricsDocs, {}),
  };
  const view = new AnalysisView(rootElement(), bridge);
  const persist = (): void => {
    const s = view.current();
    if (s) api.setState({ v: 1, view: s } satisfies PersistedState);
  };
  rpc.onNotification(M.show, (params) => {
    if (!isViewState(params)) return;
    view.show(params);
    persist();
  });
  rpc.onNotification(M.progress, (params) => {
    if (!isProgress(params)) return;
    view.progress(params);
    persist();
  });
  rpc.handle(M.renderPng, (params) => {
    const chart = (params as { chart?: unknown } | null)?.chart;
    const url = typeof chart === 'string' ? view.png(chart) : undefined;
    if (!url) throw new Error(`No chart ${String(chart)} is shown`);
    return { dataUrl: url };
  });
  // A restored panel redraws from its saved state at once; the host then sends whatever is newer.
  const saved = api.getState() as Partial<PersistedState> | undefined;
  if (saved && saved.v === 1 && isViewState(saved.view)) view.show(saved.view);
  else view.show(undefined);
  watchTheme(() => view.refreshTheme());
  exposeDebug(view, 'webview');
  rpc.notify(M.ready, {});
}

function download(name: string, href: string): void {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

function downloadText(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  download(name, url);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function startStandalone(): void {
  const body = document.body;
  body.classList.add('ml-standalone');
  // No theme given: follow the reader's system preference.
  if (!body.classList.contains('vscode-light') && !body.classList.contains('vscode-dark')) {
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    const apply = (): void => {
      body.classList.toggle('vscode-dark', !!mq?.matches);
      body.classList.toggle('vscode-light', !mq?.matches);
    };
    apply();
    mq?.addEventListener?.('change', apply);
  }
  const bridge: ViewBridge = {
    mode: 'standalone',
    cancel: () => undefined,
    rerun: () => undefined,
    showLog: () => undefined,
    command: () => undefined,
    save: async (req: ExportRequest, r: AnalysisResult) => {
      if (req.format === 'json') {
        const name = exportFileName(r, 'json', 'json');
        downloadText(name, `${JSON.stringify(r, null, 2)}\n`, 'application/json');
        return `Downloaded ${name}`;
      }
      if (req.format === 'csv') {
        const name = exportFileName(r, req.metric, 'csv');
        downloadText(name, toCsv(r, req.metric), 'text/csv');
        return `Downloaded ${name}`;
      }
      const name = exportFileName(r, req.chart, 'png');
      download(name, req.dataUrl);
      return `Downloaded ${name}`;
    },
  };
  const view = new AnalysisView(rootElement(), bridge);
  const holder = document.getElementById('model-lens-result');
  let parsed: unknown;
  let problem: string | undefined;
  try {
    parsed = JSON.parse(holder?.textContent ?? '');
    problem = resultProblem(parsed);
  } catch (e) {
    problem = `the embedded result is not JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  if (problem === undefined && isAnalysisResult(parsed)) {
    const r = parsed;
    view.show({ key: r.model.file, files: [r.model.file], title: r.model.file, phase: 'done', result: r });
  } else {
    view.show({ key: '', files: [], title: 'Model Lens report', phase: 'error', error: { code: 'bad-result', message: `Cannot show this report: ${problem ?? 'unknown problem'}` } });
  }
  watchTheme(() => view.refreshTheme());
  exposeDebug(view, 'standalone');
  if (problem) (window as unknown as DebugWindow).__modelLensView!.error = problem;
}

async function main(): Promise<void> {
  injectStyles();
  await loadCharts();
  const api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  if (api) startWebview(api);
  else startStandalone();
}

function start(): void {
  main().catch((e: unknown) => {
    const root = rootElement();
    root.textContent = `Model Lens could not start the analysis view: ${e instanceof Error ? e.message : String(e)}`;
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
