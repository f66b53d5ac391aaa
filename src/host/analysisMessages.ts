// Validation of everything the analysis webview sends to the host. A webview is untrusted input: each
// message must be a known method with well-formed params, or it is dropped before reaching any handler.
// No vscode import, so node tests cover it directly.
import { CANCEL_METHOD, type RpcMessage } from '../protocol/rpc';
import {
  ANALYSIS_VIEW_METHODS as M,
  CHART_IDS,
  CSV_METRICS,
  MAX_PNG_DATA_URL_CHARS,
  PNG_DATA_URL_PREFIX,
  VIEW_COMMANDS,
  type ChartId,
  type CsvMetric,
  type ExportRequest,
  type ViewCommand,
  type OpenAttentionParams,
} from '../protocol/analysisViewProtocol';

/** Notifications a view may send (all carry empty params). */
const VIEW_NOTES: ReadonlySet<string> = new Set([M.ready, M.cancel, M.rerun, M.showLog, M.openMetricsDocs]);

/** A message from the view that passed validation. */
export type ValidViewMessage =
  | { kind: 'note'; method: typeof M.ready | typeof M.cancel | typeof M.rerun | typeof M.showLog; params: Record<string, never> }
  | { kind: 'note'; method: typeof CANCEL_METHOD; params: { id: number } }
  | { kind: 'note'; method: typeof M.command; params: { command: ViewCommand } }
  | { kind: 'note'; method: typeof M.openAttention; params: OpenAttentionParams }
  | { kind: 'req'; id: number; method: typeof M.export; params: ExportRequest }
  | { kind: 'res'; id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } };

/** Outcome of validating one message. */
export type Validation = { ok: true; message: ValidViewMessage } | { ok: false; reason: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function onlyKeys(o: Record<string, unknown>, keys: string[]): string | undefined {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  return extra.length ? `unexpected field${extra.length > 1 ? 's' : ''} ${extra.slice(0, 3).join(', ')}` : undefined;
}

/** The PNG bytes of a data: URL from the view; throws when it is not a PNG of reasonable size. */
export function decodePngDataUrl(url: string): Uint8Array {
  if (!url.startsWith(PNG_DATA_URL_PREFIX)) throw new Error('not a data:image/png;base64 URL');
  if (url.length > MAX_PNG_DATA_URL_CHARS) throw new Error(`PNG too large (${url.length} chars)`);
  const b64 = url.slice(PNG_DATA_URL_PREFIX.length);
  if (b64.length === 0 || b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error('PNG data is not valid base64');
  const bytes = Buffer.from(b64, 'base64');
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 8 || sig.some((b, i) => bytes[i] !== b)) throw new Error('data is not a PNG image');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Checks the params of `analysisView/export`; returns the request or the reason it is refused. */
export function validateExportRequest(p: unknown): { ok: true; request: ExportRequest } | { ok: false; reason: string } {
  if (!isObj(p)) return { ok: false, reason: 'export params must be an object' };
  switch (p['format']) {
    case 'json': {
      const extra = onlyKeys(p, ['format']);
      return extra ? { ok: false, reason: extra } : { ok: true, request: { format: 'json' } };
    }
    case 'csv': {
      const extra = onlyKeys(p, ['format', 'metric']);
      if (extra) return { ok: false, reason: extra };
      const metric = p['metric'];
      if (typeof metric !== 'string' || !(CSV_METRICS as readonly string[]).includes(metric)) return { ok: false, reason: `unknown CSV metric ${JSON.stringify(metric)}` };
      return { ok: true, request: { format: 'csv', metric: metric as CsvMetric } };
    }
    case 'png': {
      const extra = onlyKeys(p, ['format', 'chart', 'dataUrl']);
      if (extra) return { ok: false, reason: extra };
      const chart = p['chart'];
      if (typeof chart !== 'string' || !(CHART_IDS as readonly string[]).includes(chart)) return { ok: false, reason: `unknown chart ${JSON.stringify(chart)}` };
      const dataUrl = p['dataUrl'];
      if (typeof dataUrl !== 'string') return { ok: false, reason: 'dataUrl must be a string' };
      try {
        decodePngDataUrl(dataUrl);
      } catch (e) {
        return { ok: false, reason: `dataUrl: ${(e as Error).message}` };
      }
      return { ok: true, request: { format: 'png', chart: chart as ChartId, dataUrl } };
    }
    default:
      return { ok: false, reason: `unknown export format ${JSON.stringify(p['format'])}` };
  }
}

/** Validates one raw message from the analysis webview. */
export function validateViewMessage(raw: unknown): Validation {
  if (!isObj(raw)) return { ok: false, reason: 'message is not an object' };
  const kind = raw['kind'];
  if (kind === 'note') {
    const method = raw['method'];
    if (typeof method !== 'string') return { ok: false, reason: 'notification without a method' };
    const params = raw['params'] ?? {};
    if (method === CANCEL_METHOD) {
      if (!isObj(params) || !isId(params['id'])) return { ok: false, reason: '$/cancel needs a numeric id' };
      return { ok: true, message: { kind: 'note', method: CANCEL_METHOD, params: { id: params['id'] } } };
    }
    if (method === M.command) {
      const cmd = isObj(params) ? params['command'] : undefined;
      if (!isObj(params) || onlyKeys(params, ['command']) || typeof cmd !== 'string' || !(VIEW_COMMANDS as readonly string[]).includes(cmd)) {
        return { ok: false, reason: `${M.command} needs one known command` };
      }
      return { ok: true, message: { kind: 'note', method: M.command, params: { command: cmd as ViewCommand } } };
    }
    if (method === M.openAttention) {
      const ok = isObj(params) && !onlyKeys(params, ['model', 'layer', 'head']) && [params['model'], params['layer'], params['head']].every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 100_000) && (params['model'] as number) <= 1;
      if (!ok) return { ok: false, reason: `${M.openAttention} needs {model: 0|1, layer, head} (integers >= 0)` };
      const p = params as unknown as OpenAttentionParams;
      return { ok: true, message: { kind: 'note', method: M.openAttention, params: { model: p.model, layer: p.layer, head: p.head } } };
    }
    if (!VIEW_NOTES.has(method)) return { ok: false, reason: `unknown notification ${JSON.stringify(method).slice(0, 80)}` };
    if (!isObj(params) || Object.keys(params).length > 0) return { ok: false, reason: `${method} takes no params` };
    return { ok: true, message: { kind: 'note', method: method as typeof M.ready, params: {} } };
  }
  if (kind === 'req') {
    if (!isId(raw['id'])) return { ok: false, reason: 'request without a numeric id' };
    if (raw['method'] !== M.export) return { ok: false, reason: `unknown request ${JSON.stringify(raw['method']).slice(0, 80)}` };
    const v = validateExportRequest(raw['params']);
    if (!v.ok) return v;
    return { ok: true, message: { kind: 'req', id: raw['id'], method: M.export, params: v.request } };
  }
  if (kind === 'res') {
    // Answers to the host's own requests (renderPng); the endpoint matches them by id.
    if (!isId(raw['id']) || typeof raw['ok'] !== 'boolean') return { ok: false, reason: 'malformed response' };
    const out: ValidViewMessage = { kind: 'res', id: raw['id'], ok: raw['ok'] };
    if (raw['ok']) {
      const result = raw['result'];
      if (!isObj(result) || typeof result['dataUrl'] !== 'string') return { ok: false, reason: 'response result must be {dataUrl}' };
      out.result = { dataUrl: result['dataUrl'] };
    } else {
      const err = raw['error'];
      out.error = isObj(err) ? { code: String(err['code'] ?? 'error').slice(0, 100), message: String(err['message'] ?? '').slice(0, 2000) } : { code: 'error', message: 'unknown error' };
    }
    return { ok: true, message: out };
  }
  return { ok: false, reason: `unknown message kind ${JSON.stringify(kind)?.slice(0, 40)}` };
}

/** Narrow a validated message to the RPC shape the endpoint consumes. */
export function asRpcMessage(m: ValidViewMessage): RpcMessage {
  return m as RpcMessage;
}
