// Export helpers shared by the analysis view and the extension host (Export Analysis): model labels,
// CSV of each metric, export file names. In the protocol layer because the webview may import only
// src/protocol and the host must not import webview code.
import { MIN_CKA_BATCH } from '../analysis/hsic';
import type { AnalysisResult, CkaBlock, CsvMetric, MetricBlock, ModelSummary } from './analysisViewProtocol';

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Number of columns of a matrix (the longest row). */
export function matrixCols(matrix: number[][]): number {
  return matrix.reduce((m, r) => Math.max(m, r.length), 0);
}

/** Last path component, for either separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** Short name for a model in legends: the file's base name. */
export function modelLabel(m: ModelSummary): string {
  return baseName(m.file);
}

/** Distinct labels for the two models of a comparison (same base name → "A: x" / "B: x"). */
export function compareLabels(a: ModelSummary, b: ModelSummary): [string, string] {
  const la = modelLabel(a);
  const lb = modelLabel(b);
  return la === lb ? [`A: ${la}`, `B: ${lb}`] : [la, lb];
}

// ---- CSV ----

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvNum(v: unknown): string {
  // Shortest round-trip representation: the CSV carries exactly the numbers of the JSON.
  return finite(v) ? String(v) : '';
}

function metricCsv(rows: { label: string; block: MetricBlock }[], unit: string): string {
  const heads = rows.reduce((m, r) => Math.max(m, ...r.block.perHead.map((h) => h.length), 0), 0);
  // 95% bootstrap intervals go after the values (so the value columns keep their places): mean, then per head.
  const ci = rows.some((r) => r.block.ci95);
  const header = ['model', 'layer', `mean_${unit}`, ...Array.from({ length: heads }, (_, h) => `head_${h + 1}_${unit}`)];
  if (ci) header.push('mean_ci95_lo', 'mean_ci95_hi', ...Array.from({ length: heads }, (_, h) => [`head_${h + 1}_ci95_lo`, `head_${h + 1}_ci95_hi`]).flat());
  const lines = [header.join(',')];
  for (const { label, block } of rows) {
    const layers = Math.max(block.perLayer.length, block.perHead.length);
    for (let l = 0; l < layers; l++) {
      const ph = block.perHead[l] ?? [];
      const cells = [csvField(label), String(l + 1), csvNum(block.perLayer[l]), ...Array.from({ length: heads }, (_, h) => csvNum(ph[h]))];
      if (ci) {
        const pl = block.ci95?.perLayer[l];
        const pci = block.ci95?.perHead[l] ?? [];
        cells.push(csvNum(pl?.[0]), csvNum(pl?.[1]), ...Array.from({ length: heads }, (_, h) => [csvNum(pci[h]?.[0]), csvNum(pci[h]?.[1])]).flat());
      }
      lines.push(cells.join(','));
    }
  }
  return lines.join('\r\n') + '\r\n';
}

function matrixCsv(rows: { label: string; matrix: number[][] }[], rowName: string, colName: string): string {
  const cols = rows.reduce((m, r) => Math.max(m, matrixCols(r.matrix)), 0);
  const lines = [['model', rowName, ...Array.from({ length: cols }, (_, c) => `${colName}_${c + 1}`)].join(',')];
  for (const { label, matrix } of rows) {
    matrix.forEach((row, r) => {
      lines.push([csvField(label), String(r + 1), ...Array.from({ length: cols }, (_, c) => csvNum(row[c]))].join(','));
    });
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * Whether a result has CKA values: the unbiased estimator needs batches of at least MIN_CKA_BATCH images,
 * and a run without one stores null everywhere (JSON of NaN).
 */
export function hasCka(cka: CkaBlock): boolean {
  return cka.batches > 0 && cka.matrix.some((row) => row.some(finite));
}

/** What the view and the hover say instead of CKA values when a run had no batch large enough. */
export function ckaUnavailableText(r: AnalysisResult): string {
  return `CKA needs ≥ ${MIN_CKA_BATCH} images per batch; no batch of this run had that many (${r.probe.count} image${r.probe.count === 1 ? '' : 's'} in batches of ${r.probe.batchSize}). Use more probe images or a larger batch size.`;
}

/** Which CSV exports a result offers (crossCka only for comparisons; no CKA files when CKA is unavailable). */
export function csvMetricsOf(r: AnalysisResult): CsvMetric[] {
  const cka: CsvMetric[] = hasCka(r.cka) ? (r.compare ? ['cka', 'crossCka'] : ['cka']) : [];
  const extra: CsvMetric[] = (['specialMass', 'attentionEntropy'] as const).filter((m) => r[m] !== undefined);
  return ['attentionDistance', 'headDiversity', ...extra, ...cka];
}

/**
 * CSV of one metric. Per-head metrics: one row per model and layer (1-based), the per-layer mean, then
 * one column per head. CKA: one row per model and layer, one column per layer. Cross-CKA: rows are
 * layers of model A, columns layers of model B. Numbers are written in full precision.
 */
export function toCsv(r: AnalysisResult, metric: CsvMetric): string {
  const c = r.compare;
  const [la, lb] = c ? compareLabels(r.model, c.model) : [modelLabel(r.model), ''];
  switch (metric) {
    case 'attentionDistance':
      return metricCsv([{ label: la, block: r.attentionDistance }, ...(c ? [{ label: lb, block: c.attentionDistance }] : [])], 'px');
    case 'headDiversity':
      return metricCsv([{ label: la, block: r.headDiversity }, ...(c ? [{ label: lb, block: c.headDiversity }] : [])], 'nats');
    case 'specialMass':
    case 'attentionEntropy': {
      const a = r[metric];
      if (!a) throw new Error(`${metric} is not in this result`);
      const b = c?.[metric];
      return metricCsv([{ label: la, block: a }, ...(b ? [{ label: lb, block: b }] : [])], metric === 'specialMass' ? 'fraction' : 'nats');
    }
    case 'cka':
      return matrixCsv([{ label: la, matrix: r.cka.matrix }, ...(c ? [{ label: lb, matrix: c.cka.matrix }] : [])], 'layer', 'layer');
    case 'crossCka':
      if (!c) throw new Error('crossCka exists only in comparisons');
      return matrixCsv([{ label: `${la} vs ${lb}`, matrix: c.crossCka }], 'layer_a', 'layer_b');
  }
}

/** Base name (without extension) for exported files, safe for any file system. */
export function exportBaseName(r: AnalysisResult): string {
  const strip = (s: string): string => baseName(s).replace(/\.[^.]*$/, '');
  const raw = r.compare ? `${strip(r.model.file)}-vs-${strip(r.compare.model.file)}` : strip(r.model.file);
  const safe = raw.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 120);
  return safe || 'analysis';
}

/**
 * File name of one export. A metric's CSV and its chart's PNG share one kebab-case name
 * (…attention-distance.csv / …attention-distance.png).
 */
export function exportFileName(r: AnalysisResult, what: 'json' | CsvMetric | string, ext: 'json' | 'csv' | 'png'): string {
  const base = exportBaseName(r);
  if (what === 'json') return `${base}.analysis.json`;
  const kebab = what.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return `${base}.${kebab}.${ext}`;
}
