// DOM-free helpers of the analysis view: data shaping for the charts, colour scale, formatting and
// warnings. Node tests import this file directly. CSV/export names are in src/protocol/analysisExport.ts and
// the structural check of results in src/protocol/analysisResultCheck.ts (shared with the host).
import { baseName } from '../src/protocol/analysisExport';
import { analysedSizeText } from '../src/protocol/modelLabels';
import type { AnalysisResult, MetricBlock, ModelSummary } from '../src/protocol/analysisViewProtocol';

/** One head of one layer; `x` is the plotted position (layer, possibly shifted in comparisons). */
export interface HeadPoint {
  x: number;
  y: number;
  layer: number;
  head: number;
}

/** Mean of one layer. */
export interface LayerPoint {
  x: number;
  y: number;
  layer: number;
}

/** One heatmap cell: column `x`, row `y` (both 1-based layers), value `v`. */
export interface MatrixCell {
  x: number;
  y: number;
  v: number;
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Per-head dots, layers and heads 1-based; non-finite values (JSON null) are left out. */
export function headPoints(block: MetricBlock, xOffset = 0): HeadPoint[] {
  const out: HeadPoint[] = [];
  block.perHead.forEach((row, l) => {
    row.forEach((v, h) => {
      if (finite(v)) out.push({ x: l + 1 + xOffset, y: v, layer: l + 1, head: h + 1 });
    });
  });
  return out;
}

/** Per-layer means, layers 1-based; non-finite values are left out. */
export function layerPoints(block: MetricBlock, xOffset = 0): LayerPoint[] {
  const out: LayerPoint[] = [];
  block.perLayer.forEach((v, l) => {
    if (finite(v)) out.push({ x: l + 1 + xOffset, y: v, layer: l + 1 });
  });
  return out;
}

/** Heatmap cells of a rows×cols matrix: x = column + 1, y = row + 1; non-finite values left out. */
export function matrixCells(matrix: number[][]): MatrixCell[] {
  const out: MatrixCell[] = [];
  matrix.forEach((row, r) => {
    row.forEach((v, c) => {
      if (finite(v)) out.push({ x: c + 1, y: r + 1, v });
    });
  });
  return out;
}

/** Mean of the off-diagonal entries of a square matrix (how similar layers are to each other). */
export function offDiagonalMean(matrix: number[][]): number | null {
  let sum = 0;
  let n = 0;
  matrix.forEach((row, r) =>
    row.forEach((v, c) => {
      if (r !== c && finite(v)) {
        sum += v;
        n++;
      }
    }),
  );
  return n > 0 ? sum / n : null;
}

// Viridis anchor colours at t = 0, 0.1, ..., 1 (the published matplotlib colormap values, sampled).
// Perceptually uniform and legible on both light and dark backgrounds, and for colour-blind readers.
const VIRIDIS: readonly [number, number, number][] = [
  [68, 1, 84],
  [72, 36, 117],
  [65, 68, 135],
  [53, 95, 141],
  [42, 120, 142],
  [33, 145, 140],
  [34, 168, 132],
  [68, 191, 112],
  [122, 209, 81],
  [189, 223, 38],
  [253, 231, 37],
];

/** Colour of `t` in [0,1] on the viridis scale (clamped); RGB 0..255. */
export function viridis(t: number): [number, number, number] {
  const x = Number.isFinite(t) ? Math.min(1, Math.max(0, t)) : 0;
  const pos = x * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** CSS colour of value `v` on a fixed [min,max] scale; values outside are clamped (the tooltip keeps the exact value). */
export function scaleColor(v: number, min = 0, max = 1): string {
  const [r, g, b] = viridis((v - min) / (max - min));
  return `rgb(${r}, ${g}, ${b})`;
}

/** Black or white, whichever reads better on the given colour (WCAG relative luminance). */
export function textOn(rgb: [number, number, number]): '#000000' | '#ffffff' {
  const lin = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * lin[0]! + 0.7152 * lin[1]! + 0.0722 * lin[2]!;
  return lum > 0.179 ? '#000000' : '#ffffff';
}

/** "86.6M", "1.2B", "5.3K". */
export function formatParams(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

/** A value for display with `digits` decimals; "—" when missing. */
export function formatValue(v: unknown, digits: number): string {
  return finite(v) ? v.toFixed(digits) : '—';
}

/** "1.23 s" / "850 ms". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

/** Label/value rows describing a model, for the header. All values are plain text. */
export function modelRows(m: ModelSummary): [string, string][] {
  const dims = (p: [number, number] | null): string => (p ? (p[0] === p[1] ? `${p[0]}` : `${p[0]}×${p[1]}`) : '—');
  const rows: [string, string][] = [
    ['File', baseName(m.file)],
    ['Family', m.family],
    ['Layers × heads', `${m.layers ?? '?'} × ${m.heads ?? '?'}${m.headsSource === 'override' ? ' (heads overridden)' : m.headsSource === 'dim/64' ? ' (heads guessed as dim/64)' : ''}`],
    ['Width', m.dim !== null ? String(m.dim) : '—'],
    ['Patch', m.patchSize ? `${dims(m.patchSize)} px` : '—'],
    ['Input', m.imageSize ? `${dims(m.imageSize)} px${m.nativeImageSize && dims(m.nativeImageSize) !== dims(m.imageSize) ? ` (native ${dims(m.nativeImageSize)} px)` : ''}` : '—'],
    ['Parameters', formatParams(m.params)],
    ['Dtype', m.dtype],
  ];
  if (m.stages?.length) {
    // Hierarchical: heads and windows differ per stage; "layers × heads" alone would mislead.
    rows[2] = ['Layers × heads', m.stages.map((s) => `${s.layers}×${s.heads}`).join(' · ')];
    rows.push(['Stages', m.stages.map((s, i) => `${i + 1}: ${s.grid}² tokens of ${s.tokenPx} px, window ${s.window}`).join('; ')]);
  }
  return rows;
}

export type WarningKind = 'synthetic' | 'fallback' | 'cka-batch' | 'other';

/** A warning shown in the callout. */
export interface ViewWarning {
  kind: WarningKind;
  text: string;
}

function kindOf(text: string): WarningKind {
  if (/synthetic set|probe(?:s| images) are (?:the built-in )?synthetic/i.test(text)) return 'synthetic';
  if (/fall(?:back|s back|ing back| back)|fell back/i.test(text)) return 'fallback';
  if (/cka/i.test(text) && /batch/i.test(text)) return 'cka-batch';
  return 'other';
}

/**
 * The result's own warnings, plus the ones the view must always show (synthetic probes, a device the
 * user asked for that was not available, a CKA batch left out) when the engine did not already word them.
 * With device `auto` a CPU run is the normal outcome on a machine without a GPU, not a warning: the Run
 * card says where it ran and why (deviceInfo).
 */
export function collectWarnings(r: AnalysisResult): ViewWarning[] {
  const asked = r.device.requested !== 'auto';
  const out: ViewWarning[] = r.warnings
    .filter((w) => typeof w === 'string' && w.length > 0)
    .map((text) => ({ kind: kindOf(text), text }))
    .filter((w) => w.kind !== 'fallback' || asked);
  const has = (k: WarningKind): boolean => out.some((w) => w.kind === k);
  if (r.probe.source === 'synthetic' && !has('synthetic')) {
    out.push({ kind: 'synthetic', text: SYNTHETIC_VIEW_TEXT });
  }
  if (asked && r.device.fallbackReason && r.device.used !== r.device.requested && !has('fallback')) {
    out.push({ kind: 'fallback', text: `You asked for ${deviceLabel(r.device.requested)}, which was not available; ran on ${deviceLabel(r.device.used)}: ${r.device.fallbackReason}` });
  }
  const bs = r.probe.batchSize;
  const tail = bs > 0 ? r.probe.count % bs : 0;
  if (tail > 0 && tail < 4 && !has('cka-batch')) {
    out.push({ kind: 'cka-batch', text: `The last batch has ${tail} image${tail === 1 ? '' : 's'} (fewer than 4) and was left out of CKA; CKA uses ${r.cka.batches} batch${r.cka.batches === 1 ? '' : 'es'}.` });
  }
  return out;
}

/** What the view says about synthetic probes (the engine's own wording names a CLI flag). */
export const SYNTHETIC_VIEW_TEXT =
  'Probe images are the built-in synthetic set, which can change the conclusions (on the demo pair it moves the supervised model’s mean CKA from 0.60 to 0.99). Choose a folder of natural images for paper-grade numbers.';

const DEVICE_LABELS: Record<string, string> = { cpu: 'CPU', cuda: 'CUDA', webgpu: 'WebGPU', dml: 'DirectML', coreml: 'CoreML', auto: 'auto' };

/** "CPU", "CUDA", "WebGPU", … for a device name. */
export function deviceLabel(d: string): string {
  return DEVICE_LABELS[d] ?? d;
}

/** The Run card's device line: where it ran and, one click away, why (when auto found no GPU). */
export interface DeviceInfo {
  text: string;
  /** Why this device: shown behind a disclosure, not as a warning. */
  detail?: string;
}

export function deviceInfo(r: AnalysisResult): DeviceInfo {
  const d = r.device;
  const used = deviceLabel(d.used);
  if (d.requested === 'auto') {
    if (!d.fallbackReason) return { text: used };
    return { text: used, detail: `Device “auto” found no GPU it could use here, so the run used the ${used}. Providers tried: ${d.fallbackReason}. Model Lens: Select Compute Device chooses another.` };
  }
  if (d.requested === d.used) return { text: used };
  return { text: `${used} (requested ${deviceLabel(d.requested)}; see warnings)` };
}

/** Text of the device line: "CPU", or "CPU (requested CUDA; see warnings)". */
export function deviceText(r: AnalysisResult): string {
  return deviceInfo(r).text;
}

/** "3 batches of 16 + 1 of 8" for 56 images in batches of 16; "4 batches of 16"; "1 batch of 3". */
export function batchPlan(count: number, batchSize: number): string {
  if (!(count > 0) || !(batchSize > 0)) return `batches of ${batchSize}`;
  const full = Math.floor(count / batchSize);
  const tail = count % batchSize;
  if (full === 0) return `1 batch of ${tail}`;
  const head = `${full} batch${full === 1 ? '' : 'es'} of ${batchSize}`;
  return tail > 0 ? `${head} + 1 of ${tail}` : head;
}

/** Label/value rows describing the probe set and the CKA batches, for the header. */
export function probeRows(r: AnalysisResult): [string, string][] {
  const p = r.probe;
  const pp = p.preprocess ?? ({} as Partial<AnalysisResult['probe']['preprocess']>);
  const src = p.source === 'folder' ? (p.bundled ? 'bundled photographs' : pp.folder ? `folder ${baseName(pp.folder)}` : 'folder') : p.source === 'synthetic' ? 'synthetic (built-in)' : String(p.source);
  const size = Array.isArray(pp.size) ? ` at ${pp.size[0]}×${pp.size[1]} px` : '';
  const skipped = pp.skipped ? ` (${pp.skipped} unreadable skipped)` : '';
  const bs = p.batchSize;
  const tail = bs > 0 ? p.count % bs : 0;
  // CKA uses every batch of at least 4 images; a smaller last batch is left out (and said so).
  const ckaText =
    !(r.cka.batches > 0)
      ? 'no batch of 4 or more images'
      : tail > 0 && tail < 4
        ? `${batchPlan(p.count - tail, bs)}; the last ${tail} left out`
        : batchPlan(p.count, bs);
  // An input size the user chose: the size the run used and each model's native one.
  const sizeA = analysedSizeText(r.model);
  const sizeB = r.compare ? analysedSizeText(r.compare.model) : undefined;
  const sized: [string, string][] = sizeA === undefined ? [] : sizeB === undefined || sizeB === sizeA ? [['Input size', sizeA]] : [['Input size', `A ${sizeA}; B ${sizeB}`]];
  return [
    ['Probes', src],
    ['Images', `${p.count}${skipped} in ${batchPlan(p.count, bs)}${size}`],
    ...sized,
    ['CKA', `${ckaText}${r.compare ? ', same batches for both models' : ''}`],
  ];
}

/** Upper end of a y axis: a little above the largest value, so the top dots are not clipped. */
export function suggestedMax(values: number[]): number | undefined {
  const f = values.filter((v) => Number.isFinite(v));
  if (f.length === 0) return undefined;
  const m = Math.max(...f);
  return m > 0 ? m * 1.05 : undefined;
}

/** What a click on CKA cell (row, col) shows: the value, the batches behind it and both layers' per-layer metrics (1-based). */
export function ckaCellText(matrix: number[][], batches: number, ad: MetricBlock, hd: MetricBlock, row: number, col: number): string {
  const v = matrix[row - 1]?.[col - 1];
  const layer = (l: number): string => `attention distance ${formatValue(ad.perLayer[l - 1], 1)} px, head diversity ${formatValue(hd.perLayer[l - 1], 3)} nats`;
  return `Layer ${row} × layer ${col}: CKA ${formatValue(v, 3)} over ${batches} batch${batches === 1 ? '' : 'es'}. Layer ${row}: ${layer(row)}. Layer ${col}: ${layer(col)}.`;
}

/**
 * Average attention distance of uniform attention over a gh×gw grid of ph×pw-pixel patches: the mean
 * distance between patch centres over all query/key pairs (self pairs included), computed exactly.
 */
export function uniformAttentionDistance(gh: number, gw: number, ph: number, pw: number): number {
  // Σ over pairs depends only on the offset (dr, dc), which occurs (gh−|dr|)(gw−|dc|) times.
  if (!(gh > 0 && gw > 0)) return NaN;
  let sum = 0;
  for (let dr = -(gh - 1); dr < gh; dr++) {
    for (let dc = -(gw - 1); dc < gw; dc++) sum += (gh - Math.abs(dr)) * (gw - Math.abs(dc)) * Math.hypot(ph * dr, pw * dc);
  }
  const n = gh * gw;
  return sum / (n * n);
}
