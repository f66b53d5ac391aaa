// RPC handlers of the attention view (attention/map, attention/probes). Parameters come from another
// process and are checked here; the work is done by the AttentionService.
import type { DeviceName } from '../analysis/resultSchema';
import type { AttentionKind } from '../analysis/attentionMaps';
import { ModelLensError } from '../formats/errors';
import type { RpcEndpoint } from '../protocol/rpc';
import { ATTENTION_MAP, ATTENTION_PROBES, type AttentionImageRef, type AttentionMapParams, type AttentionProbesParams } from '../protocol/workerProtocol';
import { AttentionService } from './attentionService';
import { MAX_IMAGE_SIZE } from '../model/imageSize';

const DEVICES: readonly DeviceName[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];
const KINDS: readonly AttentionKind[] = ['cls', 'query', 'rollout'];

function bad(problem: string): never {
  throw new ModelLensError('corrupt', '(request)', problem);
}
const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const obj = (v: unknown, what: string): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : bad(`${what} must be an object`));
const str = (v: unknown, what: string): string => (typeof v === 'string' && v.length > 0 ? v : bad(`${what} must be a non-empty string`));

function imageRef(raw: unknown): AttentionImageRef {
  const r = obj(raw, 'image');
  if (r['file'] !== undefined) return { file: str(r['file'], 'image.file') };
  if (isInt(r['synthetic'], 0)) return { synthetic: r['synthetic'] };
  return bad('image must be {file} or {synthetic: index}');
}

export function parseAttentionMapParams(raw: unknown): AttentionMapParams {
  const p = obj(raw, 'attention/map params');
  const device = (p['device'] ?? 'auto') as DeviceName;
  if (!DEVICES.includes(device)) bad(`device must be one of ${DEVICES.join('|')}`);
  const kind = p['kind'] as AttentionKind;
  if (!KINDS.includes(kind)) bad(`kind must be one of ${KINDS.join('|')}`);
  if (!isInt(p['layer'], 0)) bad('layer must be an integer >= 0');
  const out: AttentionMapParams = { file: str(p['file'], 'file'), device, image: imageRef(p['image']), layer: p['layer'], kind };
  if (p['variant'] !== undefined) out.variant = str(p['variant'], 'variant');
  if (p['heads'] !== undefined) out.heads = isInt(p['heads'], 1) ? p['heads'] : bad('heads must be an integer >= 1');
  if (p['query'] !== undefined) {
    const q = p['query'];
    if (!Array.isArray(q) || q.length !== 2 || !isInt(q[0], 0) || !isInt(q[1], 0)) bad('query must be [row, col] with integers >= 0');
    out.query = [q[0] as number, q[1] as number];
  }
  if (p['withImage'] === true) out.withImage = true;
  if (p['imageSize'] !== undefined) out.imageSize = isInt(p['imageSize'], 1) && p['imageSize'] <= MAX_IMAGE_SIZE ? p['imageSize'] : bad(`imageSize must be an integer in 1..${MAX_IMAGE_SIZE}`);
  return out;
}

export function parseAttentionProbesParams(raw: unknown): AttentionProbesParams {
  const p = obj(raw, 'attention/probes params');
  const size = p['inputSize'];
  if (!Array.isArray(size) || size.length !== 2 || !isInt(size[0], 1) || !isInt(size[1], 1) || size[0] > 4096 || size[1] > 4096) bad('inputSize must be [h, w] in 1..4096');
  if (!isInt(p['thumb'], 8)) bad('thumb must be an integer >= 8');
  const out: AttentionProbesParams = { inputSize: [size[0] as number, size[1] as number], thumb: p['thumb'] };
  if (p['images'] !== undefined) out.images = str(p['images'], 'images');
  if (p['limit'] !== undefined) out.limit = isInt(p['limit'], 1) ? Math.min(p['limit'], 256) : bad('limit must be an integer >= 1');
  return out;
}

/** Registers the attention methods; the service (and its warm session) lives as long as the worker. */
export function registerAttentionHandlers(rpc: RpcEndpoint, service = new AttentionService()): AttentionService {
  rpc.handle(ATTENTION_MAP, (raw) => service.map(parseAttentionMapParams(raw)));
  rpc.handle(ATTENTION_PROBES, (raw) => service.probes(parseAttentionProbesParams(raw)));
  return service;
}
