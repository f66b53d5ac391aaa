// Entry of the attention bundle: connects the AttentionView to the host over the typed RPC.
import { RpcEndpoint, type RpcTransport } from '../src/protocol/rpc';
import { ATTENTION_VIEW_METHODS as M, type AttentionExportResponse, type AttentionMapResult, type AttentionStrip, type AttentionViewState } from '../src/protocol/attentionViewProtocol';
import { ATTENTION_CSS, AttentionView } from './attentionView';
import { watchTheme } from './analysisTheme';

interface VsCodeApi {
  postMessage(message: unknown): void;
}

declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

const scriptNonce = (document.currentScript as HTMLScriptElement | null)?.nonce || document.querySelector<HTMLScriptElement>('script[nonce]')?.nonce || '';

function isState(v: unknown): v is AttentionViewState {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s['generation'] === 'number' && typeof s['title'] === 'string' && typeof s['layer'] === 'number' && (s['head'] === null || typeof s['head'] === 'number') && ['cls', 'query', 'rollout'].includes(s['kind'] as string) && typeof s['probeSource'] === 'string';
}

function start(): void {
  const style = document.createElement('style');
  if (scriptNonce) style.nonce = scriptNonce;
  style.textContent = ATTENTION_CSS;
  document.head.append(style);
  const root = document.getElementById('model-lens-attention') ?? document.body.appendChild(document.createElement('main'));
  root.classList.add('ma-root');
  if (typeof acquireVsCodeApi !== 'function') {
    root.textContent = 'The attention view runs inside VS Code.';
    return;
  }
  const api = acquireVsCodeApi();
  const transport: RpcTransport = {
    send: (m) => api.postMessage(m),
    onMessage: (h) => window.addEventListener('message', (e: MessageEvent) => h(e.data)),
    onClose: () => undefined,
  };
  const rpc = new RpcEndpoint(transport);
  const view = new AttentionView(root, {
    probes: () => rpc.request<AttentionStrip>(M.probes, {}),
    map: (req) => rpc.request<AttentionMapResult>(M.map, req),
    exportPng: async (dataUrl, name) => {
      const res = await rpc.request<AttentionExportResponse>(M.exportPng, { dataUrl, name });
      return res.saved && res.path ? `Saved ${res.path}` : '';
    },
  });
  rpc.onNotification(M.show, (params) => {
    if (isState(params)) void view.show(params);
  });
  watchTheme(() => view.refreshTheme());
  rpc.notify(M.ready, {});
}

start();
