// The RPC transport of a webview panel. Every message from the page is untrusted: it is validated
// before the RPC endpoint sees it, and an invalid one is reported and dropped.
import * as vscode from 'vscode';
import type { RpcMessage, RpcTransport } from '../protocol/rpc';

export type WebviewValidation<T> = { ok: true; message: T } | { ok: false; reason: string };

/**
 * A transport over `webview`: `validate` checks each incoming message, `toRpc` turns a valid one into
 * the RPC shape, `dropped` hears why an invalid one was dropped. The message subscription is added to
 * `disposables`, and disposing them tells the endpoint that the peer is gone (pending requests reject).
 */
export function validatedWebviewTransport<T>(
  webview: vscode.Webview,
  disposables: vscode.Disposable[],
  validate: (raw: unknown) => WebviewValidation<T>,
  toRpc: (message: T) => RpcMessage,
  dropped: (reason: string) => void,
): RpcTransport {
  const closers: ((reason: string) => void)[] = [];
  disposables.push({ dispose: () => closers.forEach((c) => c('panel closed')) });
  return {
    send: (m) => void webview.postMessage(m),
    onMessage: (h) =>
      disposables.push(
        webview.onDidReceiveMessage((raw: unknown) => {
          const v = validate(raw);
          if (!v.ok) {
            dropped(v.reason);
            return;
          }
          h(toRpc(v.message));
        }),
      ),
    onClose: (h) => closers.push(h),
  };
}
