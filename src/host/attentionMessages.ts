// Validation of everything the attention webview sends to the host: a known method with well-formed
// params, or the message is dropped. No vscode import, so node tests cover it directly.
import { CANCEL_METHOD, type RpcMessage } from '../protocol/rpc';
import { ATTENTION_KINDS, ATTENTION_VIEW_METHODS as M, type AttentionExportRequest, type AttentionKind, type AttentionViewMapRequest } from '../protocol/attentionViewProtocol';
import { MAX_PNG_DATA_URL_CHARS } from '../protocol/analysisViewProtocol';
import { decodePngDataUrl } from './analysisMessages';

export type ValidAttentionMessage =
  | { kind: 'note'; method: typeof M.ready; params: Record<string, never> }
  | { kind: 'note'; method: typeof CANCEL_METHOD; params: { id: number } }
  | { kind: 'req'; id: number; method: typeof M.probes; params: Record<string, never> }
  | { kind: 'req'; id: number; method: typeof M.map; params: AttentionViewMapRequest }
  | { kind: 'req'; id: number; method: typeof M.exportPng; params: AttentionExportRequest };

export type AttentionValidation = { ok: true; message: ValidAttentionMessage } | { ok: false; reason: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isIndex = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < max;

function onlyKeys(o: Record<string, unknown>, keys: string[]): string | undefined {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field ${extra[0]!.slice(0, 40)}` : undefined;
}

export function validateMapRequest(p: unknown): { ok: true; request: AttentionViewMapRequest } | { ok: false; reason: string } {
  if (!isObj(p)) return { ok: false, reason: 'map params must be an object' };
  const extra = onlyKeys(p, ['generation', 'image', 'layer', 'kind', 'query', 'withImage']);
  if (extra) return { ok: false, reason: extra };
  if (!isIndex(p['generation'], 2 ** 31) || !isIndex(p['image'], 100_000) || !isIndex(p['layer'], 10_000)) return { ok: false, reason: 'generation, image and layer must be integers >= 0' };
  if (!(ATTENTION_KINDS as readonly unknown[]).includes(p['kind'])) return { ok: false, reason: 'kind must be cls, query or rollout' };
  const req: AttentionViewMapRequest = { generation: p['generation'], image: p['image'], layer: p['layer'], kind: p['kind'] as AttentionKind };
  const q = p['query'];
  if (q !== undefined) {
    if (!Array.isArray(q) || q.length !== 2 || !isIndex(q[0], 100_000) || !isIndex(q[1], 100_000)) return { ok: false, reason: 'query must be [row, col]' };
    req.query = [q[0], q[1]];
  }
  if (p['withImage'] !== undefined) {
    if (typeof p['withImage'] !== 'boolean') return { ok: false, reason: 'withImage must be a boolean' };
    req.withImage = p['withImage'];
  }
  return { ok: true, request: req };
}

export function validateExportPng(p: unknown): { ok: true; request: AttentionExportRequest } | { ok: false; reason: string } {
  if (!isObj(p)) return { ok: false, reason: 'export params must be an object' };
  const extra = onlyKeys(p, ['dataUrl', 'name']);
  if (extra) return { ok: false, reason: extra };
  const { dataUrl, name } = p;
  if (typeof dataUrl !== 'string' || dataUrl.length > MAX_PNG_DATA_URL_CHARS) return { ok: false, reason: 'dataUrl must be a PNG data URL' };
  try {
    decodePngDataUrl(dataUrl);
  } catch (e) {
    return { ok: false, reason: `dataUrl: ${(e as Error).message}` };
  }
  if (typeof name !== 'string' || name.length === 0 || name.length > 200) return { ok: false, reason: 'name must be a short string' };
  return { ok: true, request: { dataUrl, name: safeFileName(name) } };
}

/** A file name without folders or characters that file systems refuse. */
export function safeFileName(name: string): string {
  const base = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').replace(/^\.+/, '').slice(0, 120);
  return /\.png$/i.test(base) ? base : `${base || 'attention'}.png`;
}

/** Validates one raw message from the attention webview. */
export function validateAttentionMessage(raw: unknown): AttentionValidation {
  if (!isObj(raw)) return { ok: false, reason: 'message is not an object' };
  if (raw['kind'] === 'note') {
    const params = raw['params'] ?? {};
    if (raw['method'] === CANCEL_METHOD) {
      if (!isObj(params) || !isId(params['id'])) return { ok: false, reason: '$/cancel needs a numeric id' };
      return { ok: true, message: { kind: 'note', method: CANCEL_METHOD, params: { id: params['id'] } } };
    }
    if (raw['method'] !== M.ready) return { ok: false, reason: `unknown notification ${JSON.stringify(raw['method'])?.slice(0, 80)}` };
    if (!isObj(params) || Object.keys(params).length > 0) return { ok: false, reason: `${M.ready} takes no params` };
    return { ok: true, message: { kind: 'note', method: M.ready, params: {} } };
  }
  if (raw['kind'] === 'req') {
    const id = raw['id'];
    if (!isId(id)) return { ok: false, reason: 'request without a numeric id' };
    const method = raw['method'];
    if (method === M.probes) {
      const params = raw['params'] ?? {};
      if (!isObj(params) || Object.keys(params).length > 0) return { ok: false, reason: `${M.probes} takes no params` };
      return { ok: true, message: { kind: 'req', id, method: M.probes, params: {} } };
    }
    if (method === M.map) {
      const v = validateMapRequest(raw['params']);
      return v.ok ? { ok: true, message: { kind: 'req', id, method: M.map, params: v.request } } : v;
    }
    if (method === M.exportPng) {
      const v = validateExportPng(raw['params']);
      return v.ok ? { ok: true, message: { kind: 'req', id, method: M.exportPng, params: v.request } } : v;
    }
    return { ok: false, reason: `unknown request ${JSON.stringify(method)?.slice(0, 80)}` };
  }
  return { ok: false, reason: `unknown message kind ${JSON.stringify(raw['kind'])?.slice(0, 40)}` };
}

export function asAttentionRpc(m: ValidAttentionMessage): RpcMessage {
  return m as RpcMessage;
}
