// Turns reader output into what the inspector webview shows. No vscode import, so tests cover it.
import { basename } from 'node:path';
import type { TensorInfo } from '../formats/checkpoint';
import { isModelLensError } from '../formats/errors';
import type { InspectorData, InspectorErrorView, TensorRow, TensorStatsView } from '../protocol/webviewProtocol';
import type { InspectedCheckpoint } from './services';
import { weightsOnlyNote, weightsOnlyRefusals } from '../formats/weightsOnly';

/** Config text beyond this is cut: it is shown for reading, not for copying whole. */
const MAX_CONFIG_CHARS = 200_000;

function isContiguous(t: TensorInfo): boolean {
  if (!t.strides) return true;
  let expect = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if ((t.shape[i] ?? 0) !== 1 && t.strides[i] !== expect) return false;
    expect *= t.shape[i] ?? 1;
  }
  return true;
}

export function toTensorRow(t: TensorInfo, mainFile: string): TensorRow {
  const row: TensorRow = {
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    numel: t.shape.reduce((a, b) => a * b, 1),
    bytes: t.location.length,
    offset: t.location.offset,
  };
  if (t.location.file !== mainFile) row.file = t.location.file;
  if (!isContiguous(t)) row.strided = true;
  return row;
}

export function toInspectorData(ic: InspectedCheckpoint): InspectorData {
  const c = ic.checkpoint;
  const data: InspectorData = {
    file: c.file,
    fileName: basename(c.file),
    sizeBytes: c.sizeBytes,
    format: c.format,
    summary: ic.summary,
    tensors: c.tensors.map((t) => toTensorRow(t, c.file)),
    findings: c.findings,
    extras: c.extras,
    metadata: c.metadata,
    variants: c.variants,
    readMs: Math.round(ic.readMs * 10) / 10,
  };
  if (c.config && Object.keys(c.config).length > 0) {
    let text = JSON.stringify(c.config, null, 2);
    if (text.length > MAX_CONFIG_CHARS) text = `${text.slice(0, MAX_CONFIG_CHARS)}\n… (${text.length - MAX_CONFIG_CHARS} more characters)`;
    data.configText = text;
  }
  if (c.selectedVariant !== undefined) data.selectedVariant = c.selectedVariant;
  if (c.strippedPrefix !== undefined) data.strippedPrefix = c.strippedPrefix;
  if (c.onnx) data.onnx = c.onnx;
  const note = weightsOnlyNote(weightsOnlyRefusals(c.findings), c.findings.some((f) => f.severity === 'danger'));
  if (note) data.weightsOnly = note;
  return data;
}

/** Any failure as the inspector's error card: typed errors keep file, offset and problem. */
export function toErrorView(e: unknown, file: string): InspectorErrorView {
  if (isModelLensError(e)) {
    const v: InspectorErrorView = { code: e.code, file: e.file, problem: e.problem };
    if (e.offset !== undefined) v.offset = e.offset;
    return v;
  }
  const err = e as { code?: unknown; file?: unknown; offset?: unknown; message?: unknown } | null;
  const v: InspectorErrorView = {
    code: typeof err?.code === 'string' ? err.code : 'internal',
    file: typeof err?.file === 'string' ? err.file : file,
    problem: typeof err?.message === 'string' ? err.message : String(e),
  };
  if (typeof err?.offset === 'number') v.offset = err.offset;
  return v;
}

function num(v: unknown, fallback = Number.NaN): number {
  return typeof v === 'number' ? v : fallback;
}

/**
 * Normalises the worker's `tensor/stats` answer (R's tensorStats shape, passed through) into the
 * view's type; tolerant of field spellings so a rename on either side shows up as "—", not a crash.
 */
export function toStatsView(name: string, raw: unknown, ms: number): TensorStatsView {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const h = (typeof r['histogram'] === 'object' && r['histogram'] !== null ? r['histogram'] : undefined) as
    | Record<string, unknown>
    | number[]
    | undefined;
  let counts: number[] = [];
  let histMin = num(r['min']);
  let histMax = num(r['max']);
  if (Array.isArray(h)) counts = h.filter((x): x is number => typeof x === 'number');
  else if (h) {
    const cs = h['counts'] ?? h['bins'];
    if (Array.isArray(cs) || ArrayBuffer.isView(cs)) counts = Array.from(cs as ArrayLike<number>, Number);
    const edges = h['edges'];
    if (Array.isArray(edges) && edges.length >= 2) {
      histMin = num(edges[0], histMin);
      histMax = num(edges[edges.length - 1], histMax);
    }
    histMin = num(h['min'], histMin);
    histMax = num(h['max'], histMax);
  }
  const count = num(r['count'] ?? r['numel'], 0);
  const zeros = r['zerosFraction'] ?? r['zeroFraction'] ?? (typeof r['zeros'] === 'number' && count > 0 ? (r['zeros'] as number) / count : undefined);
  return {
    name,
    count,
    min: num(r['min']),
    max: num(r['max']),
    mean: num(r['mean']),
    std: num(r['std']),
    zerosFraction: num(zeros),
    nanCount: num(r['nanCount'] ?? r['nans'], 0),
    infCount: num(r['infCount'] ?? r['infs'], 0),
    histogram: counts,
    histMin,
    histMax,
    ms: Math.round(ms * 10) / 10,
  };
}
