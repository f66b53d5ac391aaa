// Structural check of a model-lens/analysis@1 result, for everything that reads one it did not just compute:
// the result cache, a restored panel's state, a JSON file opened in the analysis view. It lives in the
// protocol layer so that core, host and webview share one copy (the webview may import only src/protocol).
import { ANALYSIS_SCHEMA, type AnalysisResult, type CkaBlock, type MetricBlock } from '../analysis/resultSchema';
import type { ModelSummary } from '../model/modelTypes';

function isNumMatrix(v: unknown): v is number[][] {
  return Array.isArray(v) && v.every((row) => Array.isArray(row) && row.every((x) => x === null || typeof x === 'number'));
}

function isMetric(v: unknown): v is MetricBlock {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return isNumMatrix(b['perHead']) && Array.isArray(b['perLayer']) && (b['perLayer'] as unknown[]).every((x) => x === null || typeof x === 'number');
}

function isCka(v: unknown): v is CkaBlock {
  if (typeof v !== 'object' || v === null) return false;
  const b = v as Record<string, unknown>;
  return isNumMatrix(b['matrix']) && typeof b['batches'] === 'number';
}

function isModel(v: unknown): v is ModelSummary {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Record<string, unknown>;
  return typeof m['file'] === 'string' && typeof m['family'] === 'string';
}

/** Why `v` is not a displayable `model-lens/analysis@1` result, or undefined when it is. */
export function resultProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Record<string, unknown>;
  if (r['schema'] !== ANALYSIS_SCHEMA) return `schema is ${JSON.stringify(r['schema'])}, expected ${JSON.stringify(ANALYSIS_SCHEMA)}`;
  if (!isModel(r['model'])) return 'model is missing or malformed';
  const probe = r['probe'] as Record<string, unknown> | undefined;
  if (typeof probe !== 'object' || probe === null || typeof probe['count'] !== 'number' || typeof probe['batchSize'] !== 'number') return 'probe is missing or malformed';
  const dev = r['device'] as Record<string, unknown> | undefined;
  if (typeof dev !== 'object' || dev === null || typeof dev['used'] !== 'string' || typeof dev['requested'] !== 'string') return 'device is missing or malformed';
  if (!isMetric(r['attentionDistance'])) return 'attentionDistance is missing or malformed';
  if (!isMetric(r['headDiversity'])) return 'headDiversity is missing or malformed';
  if (!isCka(r['cka'])) return 'cka is missing or malformed';
  if (!Array.isArray(r['warnings']) || !(r['warnings'] as unknown[]).every((w) => typeof w === 'string')) return 'warnings is missing or malformed';
  const c = r['compare'];
  if (c !== undefined) {
    if (typeof c !== 'object' || c === null) return 'compare is malformed';
    const cc = c as Record<string, unknown>;
    if (!isModel(cc['model']) || !isMetric(cc['attentionDistance']) || !isMetric(cc['headDiversity']) || !isCka(cc['cka']) || !isNumMatrix(cc['crossCka'])) {
      return 'compare is missing a field or malformed';
    }
  }
  return undefined;
}

/** True when `v` can be displayed as an analysis result. */
export function isAnalysisResult(v: unknown): v is AnalysisResult {
  return resultProblem(v) === undefined;
}
