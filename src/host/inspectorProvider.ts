// "Model Lens Inspector": a CustomReadonlyEditor whose webview shows the header, findings and tensor
// table of a checkpoint. The header is read in the host (cached, bounded); tensor statistics are
// computed by the worker from ranged reads. Every webview message is validated before use.
import * as vscode from 'vscode';
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { RpcEndpoint, type RpcTransport } from '../protocol/rpc';
import {
  INSPECTOR_METHODS,
  parseReady,
  parseRunCommand,
  parseSelectVariant,
  parseTensorStatsRequest,
  type InspectorCommand,
  type InspectorState,
  type TensorStatsView,
} from '../protocol/webviewProtocol';
import { TENSOR_STATS, type TensorStatsParams } from '../protocol/workerProtocol';
import { ModelLensError } from '../core/errors';
import { inspectorHtml, makeNonce } from './inspectorHtml';
import { toErrorView, toInspectorData, toStatsView } from './inspectorData';
import type { HostServices } from './services';

/** View types: the default editor for five extensions, and an option for `.bin` (often not a checkpoint). */
export const INSPECTOR_VIEW_TYPE = 'modelLens.inspector';
export const INSPECTOR_BIN_VIEW_TYPE = 'modelLens.inspector.bin';
export const INSPECTOR_VIEW_TYPES: readonly string[] = [INSPECTOR_VIEW_TYPE, INSPECTOR_BIN_VIEW_TYPE];

/** The view type that opens `uri` (`.bin` files need the option-priority one). */
export function viewTypeFor(uri: vscode.Uri): string {
  return uri.path.toLowerCase().endsWith('.bin') ? INSPECTOR_BIN_VIEW_TYPE : INSPECTOR_VIEW_TYPE;
}

class InspectorDocument implements vscode.CustomDocument {
  /** Weight set chosen in the view (EMA vs model); shared by every editor of this document. */
  variant: string | undefined;
  constructor(readonly uri: vscode.Uri) {}
  dispose(): void {}
}

interface OpenEditor {
  doc: InspectorDocument;
  rpc: RpcEndpoint;
  reload(): void;
}

export class InspectorProvider implements vscode.CustomReadonlyEditorProvider<InspectorDocument> {
  private readonly editors = new Set<OpenEditor>();

  constructor(private readonly services: HostServices) {
    services.context.subscriptions.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        for (const e of this.editors) e.rpc.notify(INSPECTOR_METHODS.trust, { trusted: true });
      }),
      vscode.workspace.onDidChangeConfiguration((ev) => {
        if (ev.affectsConfiguration('modelLens.headsOverride')) for (const e of this.editors) e.reload();
      }),
    );
  }

  static register(services: HostServices): vscode.Disposable[] {
    const provider = new InspectorProvider(services);
    const opts = { supportsMultipleEditorsPerDocument: true, webviewOptions: { retainContextWhenHidden: false } };
    return INSPECTOR_VIEW_TYPES.map((t) => vscode.window.registerCustomEditorProvider(t, provider, opts));
  }

  openCustomDocument(uri: vscode.Uri): InspectorDocument {
    return new InspectorDocument(uri);
  }

  resolveCustomEditor(doc: InspectorDocument, panel: vscode.WebviewPanel): void {
    const { context, log } = this.services;
    const file = doc.uri.fsPath;
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      enableCommandUris: false,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist'), vscode.Uri.joinPath(context.extensionUri, 'media')],
    };
    webview.html = inspectorHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview', 'inspector.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(context.extensionUri, 'media', 'inspector.css')).toString(),
      title: basename(file),
    });
    const disposables: vscode.Disposable[] = [];
    const closeHandlers: Array<(r: string) => void> = [];
    const transport: RpcTransport = {
      send: (m) => void webview.postMessage(m),
      onMessage: (h) => disposables.push(webview.onDidReceiveMessage(h)),
      onClose: (h) => closeHandlers.push(h),
    };
    const rpc = new RpcEndpoint(transport);
    let state: InspectorState = { fileName: basename(file), trusted: vscode.workspace.isTrusted, loading: true };
    let generation = 0;
    const push = (): void => rpc.notify(INSPECTOR_METHODS.show, { ...state, trusted: vscode.workspace.isTrusted });

    const load = (): void => {
      const gen = ++generation;
      state = { fileName: basename(file), trusted: vscode.workspace.isTrusted, loading: true };
      const opts = doc.variant !== undefined ? { variant: doc.variant } : undefined;
      this.services.headers.inspect(file, opts).then(
        (ic) => {
          if (gen !== generation) return;
          state = { ...state, loading: false, data: toInspectorData(ic) };
          log.info(`Inspected ${file}: ${ic.checkpoint.tensors.length} tensors, ${ic.summary.family} (${ic.readMs.toFixed(1)} ms uncached)`);
          push();
        },
        (e: unknown) => {
          if (gen !== generation) return;
          state = { ...state, loading: false, error: toErrorView(e, file) };
          log.warn(`Cannot inspect ${file}: ${e instanceof Error ? e.message : String(e)}`);
          push();
        },
      );
    };
    const editor: OpenEditor = { doc, rpc, reload: () => { load(); push(); } };
    this.editors.add(editor);

    rpc.onNotification(INSPECTOR_METHODS.ready, (p) => {
      if (!parseReady(p)) return;
      push();
    });
    rpc.onNotification(INSPECTOR_METHODS.selectVariant, (p) => {
      const v = parseSelectVariant(p);
      if (!v || !state.data?.variants.some((x) => x.key === v.variant)) {
        log.warn(`Inspector: ignored an invalid variant selection from the webview`);
        return;
      }
      doc.variant = v.variant;
      editor.reload();
    });
    rpc.onNotification(INSPECTOR_METHODS.runCommand, (p) => {
      const c = parseRunCommand(p);
      if (!c) {
        log.warn('Inspector: ignored an invalid command message from the webview');
        return;
      }
      void this.run(c.command, doc, editor);
    });
    rpc.handle(INSPECTOR_METHODS.tensorStats, async (p, ctx): Promise<TensorStatsView> => {
      const req = parseTensorStatsRequest(p);
      if (!req) throw new ModelLensError('corrupt', file, 'invalid tensor statistics request');
      if (!state.data?.tensors.some((t) => t.name === req.name)) throw new ModelLensError('not-found', file, `no tensor named ${JSON.stringify(req.name.slice(0, 200))}`);
      const params: TensorStatsParams = { file, tensor: req.name };
      if (doc.variant !== undefined) params.variant = doc.variant;
      else if (state.data.selectedVariant !== undefined) params.variant = state.data.selectedVariant;
      const t0 = performance.now();
      try {
        const raw = await this.services.worker.request<unknown>(TENSOR_STATS, params, ctx.signal);
        return toStatsView(req.name, raw, performance.now() - t0);
      } catch (e) {
        if (!ctx.signal.aborted) log.warn(`Tensor statistics of ${req.name} in ${file} failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      }
    });

    // Re-read when the file changes on disk (a training run overwriting its checkpoint).
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(file)), basename(file)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onChange = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => editor.reload(), 500);
    };
    disposables.push(watcher, watcher.onDidChange(onChange), watcher.onDidCreate(onChange), watcher.onDidDelete(onChange));

    panel.onDidDispose(() => {
      this.editors.delete(editor);
      if (timer) clearTimeout(timer);
      for (const h of closeHandlers) h('inspector closed');
      for (const d of disposables) d.dispose();
    });
    load();
  }

  private async run(command: InspectorCommand, doc: InspectorDocument, editor: OpenEditor): Promise<void> {
    switch (command) {
      case 'analyze':
        await vscode.commands.executeCommand('modelLens.analyze', doc.uri);
        return;
      case 'compareWith':
        await vscode.commands.executeCommand('modelLens.compareWith', doc.uri);
        return;
      case 'reopenWithDefault':
        await vscode.commands.executeCommand('modelLens.reopenWithDefault', doc.uri);
        return;
      case 'showLog':
        this.services.log.show(true);
        return;
      case 'reload':
        this.services.headers.clear();
        editor.reload();
        return;
    }
  }
}
