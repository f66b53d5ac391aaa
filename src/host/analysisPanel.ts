// The analysis panels: one webview per checkpoint or comparison, opened beside the code, re-revealed
// when asked again, restored after a reload by a WebviewPanelSerializer from the state the webview
// saved with setState (no retainContextWhenHidden). Every message from a webview is validated first.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { validatedWebviewTransport } from './webviewTransport';
import { RpcEndpoint } from '../protocol/rpc';
import {
  ANALYSIS_VIEW_METHODS as M,
  type AnalysisProgress,
  type AnalysisViewState,
  type ChartId,
  type ExportRequest,
  type ExportResponse,
  type OpenAttentionParams,
  type RenderPngResponse,
  type ViewCommand,
} from '../protocol/analysisViewProtocol';
import type { AnalysisResult } from '../analysis/resultSchema';
import { exportFileName, toCsv } from '../protocol/analysisExport';
import { asRpcMessage, decodePngDataUrl, validateViewMessage } from './analysisMessages';
import { analysisHtml, panelKey, panelTitle, restoredState, storedVariants, type Variants } from './analysisPanelModel';

/** View type of the analysis panels (also the serializer's). */
export const ANALYSIS_VIEW_TYPE = 'modelLens.analysis';

/** What a panel asks of the commands module (which owns jobs, cache and trust). */
export interface PanelActions {
  cancel(key: string): void;
  rerun(files: string[], variants: Variants): void;
  showLog(): void;
  /** A follow-up the view offers (error card, probe warning) for this panel. */
  command(c: ViewCommand, panel: AnalysisPanel): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

/** One open analysis panel. */
export class AnalysisPanel {
  private state: AnalysisViewState;
  private rpc: RpcEndpoint | undefined;
  private readyWaiters: (() => void)[] = [];
  private viewReady = false;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    state: AnalysisViewState,
    private readonly extensionUri: vscode.Uri,
    private readonly actions: PanelActions,
    private readonly onDispose: (p: AnalysisPanel) => void,
  ) {
    this.state = state;
    panel.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
    this.connect();
    this.setHtml();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.onDidChangeViewState((e) => {
        // A hidden webview is torn down (no retainContextWhenHidden); it says "ready" again when shown.
        if (!e.webviewPanel.visible) this.viewReady = false;
      }),
    );
  }

  get key(): string {
    return this.state.key;
  }

  get files(): string[] {
    return this.state.files;
  }

  /** Weight variant per file (null: the file's default set). */
  get variants(): Variants {
    return this.state.variants ?? [];
  }

  /** The result shown, if any. */
  get result(): AnalysisResult | undefined {
    return this.state.phase === 'done' ? this.state.result : undefined;
  }

  get phase(): AnalysisViewState['phase'] {
    return this.state.phase;
  }

  /** The error shown, if the run failed. */
  get error(): AnalysisViewState['error'] {
    return this.state.phase === 'error' ? this.state.error : undefined;
  }

  /** Replaces the state and sends it to the view. */
  show(state: Partial<AnalysisViewState> & Pick<AnalysisViewState, 'phase'>): void {
    const prev = this.state;
    this.state = { key: this.state.key, files: this.state.files, title: this.state.title, phase: state.phase };
    if (prev.variants) this.state.variants = prev.variants;
    if (state.progress) this.state.progress = state.progress;
    if (state.result) this.state.result = state.result;
    if (state.error) this.state.error = state.error;
    if (state.cached) this.state.cached = true;
    this.rpc?.notify(M.show, this.state);
  }

  /** Per-batch progress of the running job. */
  progress(p: AnalysisProgress): void {
    if (this.state.phase !== 'running') return;
    this.state.progress = p;
    this.rpc?.notify(M.progress, p);
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  /** PNG of one chart, rendered by the view (revealing it first when it is hidden). */
  async renderPng(chart: ChartId): Promise<Uint8Array> {
    if (!this.panel.visible || !this.viewReady) {
      this.panel.reveal(undefined, true);
      await this.waitReady(10_000);
    }
    const res = await Promise.race([
      this.rpc!.request<RenderPngResponse>(M.renderPng, { chart }),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error('the analysis view did not answer in time')), 10_000)),
    ]);
    return decodePngDataUrl(res.dataUrl);
  }

  /** Saves an export through a save dialog next to the checkpoint. */
  async saveExport(req: ExportRequest): Promise<ExportResponse> {
    const r = this.result;
    if (!r) throw new Error('This panel has no result to export yet.');
    const dir = dirname(this.files[0] ?? r.model.file);
    let name: string;
    let bytes: Uint8Array;
    let filters: Record<string, string[]>;
    if (req.format === 'json') {
      name = exportFileName(r, 'json', 'json');
      bytes = Buffer.from(`${JSON.stringify(r, null, 2)}\n`, 'utf8');
      filters = { 'Analysis JSON': ['json'] };
    } else if (req.format === 'csv') {
      if (req.metric === 'crossCka' && !r.compare) throw new Error('Cross-model CKA exists only for comparisons.');
      name = exportFileName(r, req.metric, 'csv');
      bytes = Buffer.from(toCsv(r, req.metric), 'utf8');
      filters = { CSV: ['csv'] };
    } else {
      name = exportFileName(r, req.chart, 'png');
      bytes = decodePngDataUrl(req.dataUrl);
      filters = { 'PNG image': ['png'] };
    }
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(dir, name)), filters, title: `Export ${name}` });
    if (!target) return { saved: false };
    await vscode.workspace.fs.writeFile(target, bytes);
    this.actions.log('info', `Exported ${target.fsPath}`);
    void announceExport(target);
    return { saved: true, path: target.fsPath };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.rpc?.close('panel closed');
    for (const d of this.disposables) d.dispose();
    this.onDispose(this);
    this.panel.dispose();
  }

  private waitReady(ms: number): Promise<void> {
    if (this.viewReady) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the analysis view did not load in time')), ms);
      this.readyWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  private setHtml(): void {
    const w = this.panel.webview;
    const script = w.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview', 'analysis.js')).toString();
    w.html = analysisHtml(w.cspSource, script, randomBytes(16).toString('base64'), this.state.title);
  }

  private connect(): void {
    const transport = validatedWebviewTransport(this.panel.webview, this.disposables, validateViewMessage, asRpcMessage, (reason) => this.actions.log('warn', `Analysis view sent an invalid message (dropped): ${reason}`));
    const rpc = new RpcEndpoint(transport);
    this.rpc = rpc;
    rpc.onNotification(M.ready, () => {
      this.viewReady = true;
      rpc.notify(M.show, this.state);
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      waiters.forEach((w) => w());
    });
    rpc.onNotification(M.cancel, () => this.actions.cancel(this.key));
    rpc.onNotification(M.rerun, () => this.actions.rerun(this.files, this.variants));
    rpc.onNotification(M.showLog, () => this.actions.showLog());
    // The page ships inside the extension, so the link works offline and from an installed VSIX.
    rpc.onNotification(M.openMetricsDocs, () => void vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(this.extensionUri, 'docs', 'metrics.md')));
    rpc.onNotification(M.command, (params) => this.actions.command((params as { command: ViewCommand }).command, this));
    rpc.onNotification(M.openAttention, (params) => {
      const p = params as OpenAttentionParams;
      const file = this.files[p.model];
      if (file === undefined) return;
      const variant = this.variants[p.model] ?? undefined;
      void vscode.commands.executeCommand('modelLens.showAttention', { file, ...(variant ? { variant } : {}), layer: p.layer, head: p.head });
    });
    rpc.handle(M.export, async (params) => await this.saveExport(params as ExportRequest));
  }
}

/** "Exported x.csv" with the next steps: open the file, or show it in the Explorer (or the OS). */
async function announceExport(target: vscode.Uri): Promise<void> {
  const choice = await vscode.window.showInformationMessage(`Model Lens: exported ${basename(target.fsPath)}`, 'Open', 'Reveal');
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target, { viewColumn: vscode.ViewColumn.Active });
  else if (choice === 'Reveal') {
    const inside = vscode.workspace.getWorkspaceFolder(target) !== undefined;
    await vscode.commands.executeCommand(inside ? 'revealInExplorer' : 'revealFileInOS', target);
  }
}

/** Creates, finds and restores analysis panels. */
export class AnalysisPanels implements vscode.Disposable {
  private readonly panels = new Map<string, AnalysisPanel>();
  private lastActive: AnalysisPanel | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly actions: PanelActions,
  ) {}

  get(key: string): AnalysisPanel | undefined {
    return this.panels.get(key);
  }

  all(): AnalysisPanel[] {
    return [...this.panels.values()];
  }

  /** The panel the user looked at last (for Export Analysis…). */
  active(): AnalysisPanel | undefined {
    const focused = this.all().find((p) => p.panel.active);
    return focused ?? (this.lastActive && this.panels.has(this.lastActive.key) ? this.lastActive : undefined);
  }

  /** The panel of these files (and weight variants), revealed; created beside the code when there is none. */
  open(files: string[], variants: Variants = [], focus = false): { panel: AnalysisPanel; created: boolean } {
    const key = panelKey(files, variants);
    const existing = this.panels.get(key);
    if (existing) {
      existing.reveal();
      return { panel: existing, created: false };
    }
    const title = panelTitle(files, variants);
    const wp = vscode.window.createWebviewPanel(ANALYSIS_VIEW_TYPE, title, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: !focus }, { enableScripts: true, localResourceRoots: [] });
    const state: AnalysisViewState = { key, files, title, phase: 'running', progress: { done: 0, total: 0, stage: 'Starting…' } };
    const stored = storedVariants(files, variants);
    if (stored) state.variants = stored;
    return { panel: this.adopt(wp, state), created: true };
  }

  /** Serializer hook: takes over a panel VS Code restored after a reload. */
  restore(wp: vscode.WebviewPanel, raw: unknown): AnalysisPanel | undefined {
    const state = restoredState(raw);
    if (!state) {
      wp.dispose();
      return undefined;
    }
    const other = this.panels.get(state.key);
    if (other) {
      // Two restored panels for the same files: keep one.
      wp.dispose();
      return other;
    }
    wp.title = state.title;
    return this.adopt(wp, state);
  }

  dispose(): void {
    for (const p of this.all()) p.dispose();
  }

  private adopt(wp: vscode.WebviewPanel, state: AnalysisViewState): AnalysisPanel {
    const p = new AnalysisPanel(wp, state, this.extensionUri, this.actions, (gone) => {
      if (this.panels.get(gone.key) === gone) this.panels.delete(gone.key);
      if (this.lastActive === gone) this.lastActive = undefined;
    });
    this.panels.set(state.key, p);
    this.lastActive = p;
    wp.onDidChangeViewState((e) => {
      if (e.webviewPanel.active) this.lastActive = p;
    });
    return p;
  }
}
