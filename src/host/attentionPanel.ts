// The attention panel: one webview beside the analysis view showing a checkpoint's attention maps on the
// probe images (command modelLens.showAttention, or a click on a head's dot in the analysis charts). The
// view asks for maps by strip position; the host turns that into a worker request, so file paths never
// come from the webview.
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { validatedWebviewTransport } from './webviewTransport';
import { RpcEndpoint } from '../protocol/rpc';
import {
  ATTENTION_VIEW_METHODS as M,
  type AttentionExportRequest,
  type AttentionExportResponse,
  type AttentionKind,
  type AttentionStrip,
  type AttentionViewMapRequest,
  type AttentionViewState,
} from '../protocol/attentionViewProtocol';
import {
  ATTENTION_MAP, ATTENTION_PROBES,
  type AttentionMapParams, type AttentionMapResult, type AttentionProbesParams, type AttentionProbesResult,
} from '../protocol/workerProtocol';
import { chartPageCsp, webviewPage } from './webviewHtml';
import { SYNTHETIC_PROBES } from '../analysis/probes';
import { asAttentionRpc, validateAttentionMessage } from './attentionMessages';
import { decodePngDataUrl } from './analysisMessages';
import type { HostServices } from './services';

export const ATTENTION_VIEW_TYPE = 'modelLens.attention';
/** Probe images in the strip (the analysis may use more; the strip is for picking one). */
const STRIP_LIMIT = 48;
const THUMB = 64;

/** What the panel shows: a checkpoint and where to start. Layer and head are 0-based. */
export interface AttentionTarget {
  file: string;
  variant?: string | undefined;
  layer?: number | undefined;
  head?: number | undefined;
  kind?: AttentionKind | undefined;
}

export function attentionHtml(cspSource: string, scriptUri: string, nonce: string, title: string): string {
  const csp = chartPageCsp(cspSource, nonce);
  return webviewPage({ csp, nonce, scriptUri, title, main: '<main id="model-lens-attention"></main>' });
}

/** The one attention panel; re-targeted (not duplicated) when opened for another file or head. */
export class AttentionPanel {
  private target: AttentionTarget;
  private generation = 1;
  private strip: AttentionProbesResult | undefined;
  private stripFor = '';
  private rpc: RpcEndpoint | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    target: AttentionTarget,
    private readonly services: HostServices,
    private readonly extensionUri: vscode.Uri,
    private readonly onDispose: () => void,
  ) {
    this.target = target;
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')] };
    this.connect();
    const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'attention.js')).toString();
    panel.webview.html = attentionHtml(panel.webview.cspSource, script, randomBytes(16).toString('base64'), `Attention: ${basename(target.file)}`);
    this.disposables.push(panel.onDidDispose(() => this.dispose()));
  }

  /** Shows another file or another layer/head in the same panel. */
  retarget(target: AttentionTarget): void {
    this.target = target;
    this.generation++;
    this.panel.title = `Attention: ${basename(target.file)}`;
    this.rpc?.notify(M.show, this.state());
    this.panel.reveal(undefined, false);
  }

  private state(): AttentionViewState {
    const folder = this.services.settings().probeImagesFolder;
    return {
      generation: this.generation,
      title: basename(this.target.file),
      layer: this.target.layer ?? 0,
      head: this.target.head ?? null,
      kind: this.target.kind ?? 'cls',
      probeSource: folder === undefined ? 'bundled photographs' : folder === SYNTHETIC_PROBES ? 'synthetic probe images' : `images in ${basename(folder)}`,
    };
  }

  private async probes(): Promise<AttentionProbesResult> {
    const s = this.services.settings();
    // The strip's thumbnails are cut at the size the maps are computed at: the setting's, else the model's own.
    const inputSize: [number, number] = s.imageSize !== undefined
      ? [s.imageSize, s.imageSize]
      : await this.services.headers
        .inspect(this.target.file, this.target.variant !== undefined ? { variant: this.target.variant } : undefined)
        .then((h): [number, number] => h.summary.imageSize ?? [224, 224], (): [number, number] => [224, 224]);
    const params: AttentionProbesParams = { inputSize, thumb: THUMB, limit: Math.min(s.probeCount, STRIP_LIMIT) };
    if (s.probeImagesFolder) params.images = s.probeImagesFolder;
    const key = JSON.stringify(params);
    if (!this.strip || this.stripFor !== key) {
      this.strip = await this.services.worker.request<AttentionProbesResult>(ATTENTION_PROBES, params);
      this.stripFor = key;
    }
    return this.strip;
  }

  private async map(req: AttentionViewMapRequest, signal: AbortSignal): Promise<AttentionMapResult> {
    if (req.generation !== this.generation) throw new Error('superseded');
    const strip = await this.probes();
    const item = strip.items[req.image];
    if (!item) throw new Error(`no probe image ${req.image + 1} (the strip has ${strip.items.length})`);
    const s = this.services.settings();
    const params: AttentionMapParams = { file: this.target.file, device: s.device, image: item.ref, layer: req.layer, kind: req.kind };
    if (this.target.variant !== undefined) params.variant = this.target.variant;
    if (s.headsOverride !== undefined) params.heads = s.headsOverride;
    if (s.imageSize !== undefined) params.imageSize = s.imageSize;
    if (req.query) params.query = req.query;
    if (req.withImage) params.withImage = true;
    return this.services.worker.request<AttentionMapResult>(ATTENTION_MAP, params, signal);
  }

  private async exportPng(req: AttentionExportRequest): Promise<AttentionExportResponse> {
    const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(dirname(this.target.file), req.name)), filters: { 'PNG image': ['png'] }, title: `Export ${req.name}` });
    if (!target) return { saved: false };
    await vscode.workspace.fs.writeFile(target, decodePngDataUrl(req.dataUrl));
    this.services.log.info(`Exported ${target.fsPath}`);
    void vscode.window.showInformationMessage(`Model Lens: exported ${basename(target.fsPath)}`);
    return { saved: true, path: target.fsPath };
  }

  dispose(): void {
    this.rpc?.close('panel closed');
    for (const d of this.disposables.splice(0)) d.dispose();
    this.onDispose();
  }

  private connect(): void {
    const transport = validatedWebviewTransport(this.panel.webview, this.disposables, validateAttentionMessage, asAttentionRpc, (reason) => this.services.log.warn(`Attention view sent an invalid message (dropped): ${reason}`));
    const rpc = new RpcEndpoint(transport);
    this.rpc = rpc;
    rpc.onNotification(M.ready, () => rpc.notify(M.show, this.state()));
    rpc.handle(M.probes, async (): Promise<AttentionStrip> => {
      const strip = await this.probes();
      return { thumb: strip.thumb, items: strip.items.map((i) => ({ name: i.name, rgb: i.rgb })) };
    });
    rpc.handle(M.map, (params, ctx) => this.map(params as AttentionViewMapRequest, ctx.signal));
    rpc.handle(M.exportPng, (params) => this.exportPng(params as AttentionExportRequest));
  }
}

/** Registers modelLens.showAttention; returns the opener the analysis panels use for drill-down. */
export function registerAttention(context: vscode.ExtensionContext, services: HostServices): (target: AttentionTarget) => void {
  let current: AttentionPanel | undefined;
  const open = (target: AttentionTarget): void => {
    if (!services.requireTrust('Showing attention maps')) return;
    if (current) {
      current.retarget(target);
      return;
    }
    const wp = vscode.window.createWebviewPanel(ATTENTION_VIEW_TYPE, `Attention: ${basename(target.file)}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: false }, { enableScripts: true, localResourceRoots: [] });
    current = new AttentionPanel(wp, target, services, context.extensionUri, () => {
      current = undefined;
    });
  };
  context.subscriptions.push(
    vscode.commands.registerCommand('modelLens.showAttention', (arg: unknown) => {
      const o = typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) ? (arg as Record<string, unknown>) : undefined;
      const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
      const file = typeof o?.['file'] === 'string' ? o['file'] : services.targetUri(arg)?.fsPath;
      if (!file) {
        void vscode.window.showInformationMessage('Model Lens: open a checkpoint in the inspector (or right-click one) to see its attention maps.');
        return;
      }
      open({ file, variant: typeof o?.['variant'] === 'string' ? o['variant'] : undefined, layer: int(o?.['layer']), head: int(o?.['head']) });
    }),
    { dispose: () => current?.panel.dispose() },
  );
  return open;
}
