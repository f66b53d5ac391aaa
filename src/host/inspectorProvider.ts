// "Model Lens Inspector": a CustomReadonlyEditor whose webview shows the header, findings and tensor
// table of a checkpoint. The header is read in the host (cached, bounded); tensor statistics are
// computed by the worker from ranged reads. Every webview message is validated before use.
import * as vscode from 'vscode';
import { basename, dirname } from 'node:path';
import type { RpcTransport } from '../protocol/rpc';
import type { InspectorCommand } from '../protocol/webviewProtocol';
import { inspectorHtml, makeNonce } from './webviewHtml';
import { InspectorSession } from './inspectorSession';
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
  session: InspectorSession;
  reload(): void;
}

export class InspectorProvider implements vscode.CustomReadonlyEditorProvider<InspectorDocument> {
  private readonly editors = new Set<OpenEditor>();

  constructor(private readonly services: HostServices) {
    services.context.subscriptions.push(
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        for (const e of this.editors) e.session.trustChanged();
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
    const session = new InspectorSession(transport, {
      file,
      headers: this.services.headers,
      workerRequest: (method, params, signal) => this.services.worker.request(method, params, signal),
      runCommand: (command) => void this.run(command, doc, editor),
      isTrusted: () => vscode.workspace.isTrusted,
      log,
    });
    // Editors of the same document share the chosen weight set.
    session.variant = doc.variant;
    const editor: OpenEditor = {
      doc,
      session,
      reload: () => {
        doc.variant = session.variant;
        session.reload();
      },
    };
    this.editors.add(editor);

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
    session.reload();
  }

  private async run(command: InspectorCommand, doc: InspectorDocument, editor: OpenEditor): Promise<void> {
    switch (command) {
      case 'analyze':
      case 'compareWith': {
        // The weight set chosen in the inspector (e.g. EMA) is the one analysed.
        const variant = editor.session.variant;
        // focus: the user acted in the inspector, so the result is where their attention goes next.
        await vscode.commands.executeCommand(command === 'analyze' ? 'modelLens.analyze' : 'modelLens.compareWith', { uri: doc.uri, focus: true, ...(variant !== undefined ? { variant } : {}) });
        return;
      }
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
