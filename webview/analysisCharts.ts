// Over 500 lines on purpose: every chart (head dots, layer means with intervals, stage marks, reference
// lines, heatmaps) shares one set of chart.js plugins and theme hooks, which fix the drawing order.
// The paper's three charts on chart.js: per-head dots with per-layer means (Fig. 2 and 3 style) and a
// layer×layer CKA heatmap with a colour scale (Fig. 4 style). Only the controllers used are registered.
import type { Chart, ChartConfiguration, Plugin, TooltipItem } from 'chart.js' with { 'resolution-mode': 'import' };
import type { MetricBlock, StageSummary } from '../src/protocol/analysisViewProtocol';
import { headPoints, layerPoints, matrixCells, scaleColor, suggestedMax, textOn, viridis, type HeadPoint, type LayerPoint, type MatrixCell } from './analysisData';
import { matrixCols } from '../src/protocol/analysisExport';
import { withAlpha, type ChartTheme } from './analysisTheme';

type ChartClass = typeof import('chart.js', { with: { 'resolution-mode': 'import' } }).Chart;

// chart.js ships as an ES module and this file type-checks as CommonJS, so the registered Chart class
// comes from analysisChartLib.mts through import(); esbuild inlines it (nothing is fetched at run time).
async function loadLib(): Promise<ChartClass> {
  const lib = await import('./analysisChartLib.mjs');
  return lib.Chart;
}

let chartClass: ChartClass | undefined;

/** Loads and registers the chart controllers this view uses (scatter, line, matrix); call before createChart. */
export async function loadCharts(): Promise<void> {
  chartClass ??= await loadLib();
}

/** One model's series on a per-head chart. */
export interface MetricSeries {
  /** Full name (file), used in tooltips. */
  label: string;
  /** Short legend prefix in comparisons ("A", "B"), so the legend fits a narrow panel. */
  short?: string;
  block: MetricBlock;
  color: string;
  /** Hierarchical models: the stages, marked on the layer axis. */
  stages?: StageSummary[] | undefined;
  /** Plain ViTs: distance of uniform attention over the model's own patch grid (the dashed reference). */
  uniformDistance?: number | undefined;
}

/** Options of a per-head metric chart. */
export interface MetricChartOptions {
  title: string;
  yTitle: string;
  unit: string;
  /** Decimals in tooltips. */
  digits: number;
  series: MetricSeries[];
  /** Fig. 2 draws the layer mean as a line, Fig. 3 as large dots. */
  meanStyle: 'line' | 'dots';
  theme: ChartTheme;
  /** Draw each stage's uniform-attention distance (windowed models) as a dashed reference. */
  uniformReference?: boolean;
  /** A click on a head's dot (series index, 1-based layer and head): the drill-down into attention maps. */
  onHead?: (series: number, layer: number, head: number) => void;
}

/** Options of a heatmap. */
export interface MatrixChartOptions {
  title: string;
  matrix: number[][];
  xTitle: string;
  yTitle: string;
  /** What a cell's value is, for the tooltip and the scale title ("CKA"). */
  valueLabel: string;
  min: number;
  max: number;
  theme: ChartTheme;
  /** A click on a cell (1-based row and column). */
  onCell?: (row: number, col: number) => void;
  /** Write each cell's value in the cell. */
  showValues?: boolean;
  /** 95% intervals per cell, shown on hover. */
  ci?: Array<Array<[number, number]>> | undefined;
}

/** Chart.js click/hover handlers that report the clicked element's raw point; the cursor says it is clickable. */
function clickHandlers<T>(pick: (raw: unknown, dataset: Record<string, unknown>) => T | undefined, onPick: ((v: T) => void) | undefined): Record<string, unknown> {
  if (!onPick) return {};
  type Hit = { datasetIndex: number; index: number };
  type ChartLike = { data: { datasets: Array<Record<string, unknown> & { data: unknown[] }> }; canvas: HTMLCanvasElement };
  const first = (els: Hit[], chart: ChartLike): T | undefined => {
    for (const e of els) {
      const ds = chart.data.datasets[e.datasetIndex];
      const v = ds ? pick(ds.data[e.index], ds) : undefined;
      if (v !== undefined) return v;
    }
    return undefined;
  };
  return {
    onClick: (_e: unknown, els: Hit[], chart: ChartLike) => {
      const v = first(els, chart);
      if (v !== undefined) onPick(v);
    },
    onHover: (_e: unknown, els: Hit[], chart: ChartLike) => {
      chart.canvas.style.cursor = first(els, chart) !== undefined ? 'pointer' : 'default';
    },
  };
}

/** Marks which dataset holds what, so tests and tooltips can tell heads from means. */
export type DatasetRole = 'heads' | 'mean' | 'uniform';

/** A point of the per-stage uniform-attention reference. */
export interface UniformPoint {
  x: number;
  y: number | null;
  stage: number;
}

// Paints the canvas background so exported PNGs are not transparent (identical to the page on screen).
function backgroundPlugin(theme: ChartTheme): Plugin {
  return {
    id: 'mlBackground',
    beforeDraw(chart) {
      const { ctx, width, height } = chart;
      ctx.save();
      ctx.fillStyle = theme.background;
      ctx.fillRect(0, 0, width, height);
      ctx.restore();
    },
  };
}

// Thin separators between stages and a stage label at the foot of each stage's band of layers.
function stagePlugin(stages: readonly StageSummary[], theme: ChartTheme): Plugin {
  return {
    id: 'mlStages',
    afterDatasetsDraw(chart) {
      const area = chart.chartArea;
      const x = chart.scales['x'];
      if (!area || !x) return;
      const { ctx } = chart;
      ctx.save();
      ctx.strokeStyle = theme.border;
      ctx.fillStyle = theme.foreground;
      ctx.lineWidth = 1;
      ctx.setLineDash([]);
      ctx.font = `${Math.max(10, theme.fontSize - 2)}px ${theme.fontFamily}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      stages.forEach((st, i) => {
        if (i > 0) {
          const px = Math.round(x.getPixelForValue(st.firstLayer + 0.5)) + 0.5;
          ctx.beginPath();
          ctx.moveTo(px, area.top);
          ctx.lineTo(px, area.bottom);
          ctx.stroke();
        }
        const mid = x.getPixelForValue(st.firstLayer + (st.layers + 1) / 2);
        ctx.fillText(`stage ${i + 1}`, mid, area.bottom - 2);
      });
      ctx.restore();
    },
  };
}

/** Per stage, a flat segment over its layers at the uniform-attention distance; null between stages. */
export function uniformPoints(stages: readonly StageSummary[], xOffset = 0): UniformPoint[] {
  const out: UniformPoint[] = [];
  stages.forEach((st, i) => {
    if (i > 0) out.push({ x: st.firstLayer + 0.5, y: null, stage: i + 1 });
    out.push({ x: st.firstLayer + 0.5 + xOffset, y: st.uniformDistance, stage: i + 1 });
    out.push({ x: st.firstLayer + st.layers + 0.5 + xOffset, y: st.uniformDistance, stage: i + 1 });
  });
  return out;
}

/** The flat uniform-attention reference of a plain ViT over every layer. */
export function uniformLinePoints(layers: number, distance: number): Array<{ x: number; y: number; uniform: true }> {
  return [{ x: 0.5, y: distance, uniform: true }, { x: layers + 0.5, y: distance, uniform: true }];
}

// Vertical 95% interval bars with caps on each layer mean (the bootstrap over probe images).
function intervalPlugin(series: readonly MetricSeries[]): Plugin {
  return {
    id: 'mlIntervals',
    afterDatasetsDraw(chart) {
      const x = chart.scales['x'];
      const y = chart.scales['y'];
      if (!x || !y) return;
      const { ctx } = chart;
      ctx.save();
      ctx.lineWidth = 1.5;
      ctx.setLineDash([]);
      series.forEach((s, i) => {
        const ci = s.block.ci95?.perLayer;
        if (!ci) return;
        const off = seriesOffset(i, series.length);
        ctx.strokeStyle = s.color;
        ci.forEach(([lo, hi], l) => {
          if (!Number.isFinite(lo) || !Number.isFinite(hi)) return;
          const px = x.getPixelForValue(l + 1 + off);
          const top = y.getPixelForValue(hi);
          const bottom = y.getPixelForValue(lo);
          ctx.beginPath();
          ctx.moveTo(px, top);
          ctx.lineTo(px, bottom);
          ctx.moveTo(px - 5, top);
          ctx.lineTo(px + 5, top);
          ctx.moveTo(px - 5, bottom);
          ctx.lineTo(px + 5, bottom);
          ctx.stroke();
        });
      });
      ctx.restore();
    },
  };
}

// Writes each heatmap cell's value in the cell, in black or white for contrast.
function cellValuesPlugin(o: MatrixChartOptions): Plugin {
  return {
    id: 'mlCellValues',
    afterDatasetsDraw(chart) {
      const x = chart.scales['x'];
      const y = chart.scales['y'];
      if (!x || !y) return;
      const rows = o.matrix.length;
      const cols = matrixCols(o.matrix);
      const cellW = Math.abs(x.getPixelForValue(2) - x.getPixelForValue(1));
      const size = Math.max(7, Math.min(o.theme.fontSize, Math.floor(cellW / 3.2)));
      if (cellW < 18) return;
      const { ctx } = chart;
      ctx.save();
      ctx.font = `${size}px ${o.theme.fontFamily}`;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const v = o.matrix[r]?.[c];
          if (typeof v !== 'number' || !Number.isFinite(v)) continue;
          const t = o.max > o.min ? Math.min(1, Math.max(0, (v - o.min) / (o.max - o.min))) : 0;
          ctx.fillStyle = textOn(viridis(t));
          ctx.fillText(v.toFixed(2), x.getPixelForValue(c + 1), y.getPixelForValue(r + 1));
        }
      }
      ctx.restore();
    },
  };
}

const SCALE_BAR_SPACE = 78;

// Draws the colour scale to the right of a heatmap: a vertical gradient with ticks, part of the canvas
// so that it is in the exported PNG too.
function colorScalePlugin(o: MatrixChartOptions): Plugin {
  return {
    id: 'mlColorScale',
    afterDraw(chart) {
      const area = chart.chartArea;
      if (!area) return;
      const { ctx } = chart;
      const barW = 14;
      const x = area.right + 14;
      const top = area.top;
      const h = area.bottom - area.top;
      ctx.save();
      const steps = 64;
      for (let i = 0; i < steps; i++) {
        const t = 1 - (i + 0.5) / steps;
        const [r, g, b] = viridis(t);
        ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
        ctx.fillRect(x, top + (h * i) / steps, barW, h / steps + 0.5);
      }
      ctx.strokeStyle = o.theme.border;
      ctx.lineWidth = 1;
      ctx.strokeRect(x + 0.5, top + 0.5, barW - 1, h - 1);
      ctx.fillStyle = o.theme.foreground;
      ctx.font = `${Math.max(11, o.theme.fontSize - 1)}px ${o.theme.fontFamily}`;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'left';
      const ticks = 5;
      for (let i = 0; i < ticks; i++) {
        const f = i / (ticks - 1);
        const v = o.max - f * (o.max - o.min);
        const y = top + f * h;
        ctx.fillRect(x + barW, Math.round(y) - 0.5, 4, 1);
        ctx.fillText(v.toFixed(2), x + barW + 7, y);
      }
      ctx.restore();
    },
  };
}

function fontOf(theme: ChartTheme, delta = 0, weight?: 'bold'): { family: string; size: number; weight?: 'bold' } {
  return weight ? { family: theme.fontFamily, size: theme.fontSize + delta, weight } : { family: theme.fontFamily, size: theme.fontSize + delta };
}

function layerAxis(theme: ChartTheme, layers: number, title: string, reverse = false): Record<string, unknown> {
  return {
    type: 'linear',
    min: 0.5,
    max: layers + 0.5,
    reverse,
    offset: false,
    title: { display: true, text: title, color: theme.foreground, font: fontOf(theme, 0, 'bold') },
    // One tick per whole layer; chart.js would otherwise put them at the half-layer bounds.
    afterBuildTicks: (axis: { ticks: { value: number }[] }) => {
      axis.ticks = Array.from({ length: layers }, (_, i) => ({ value: i + 1 }));
    },
    ticks: { color: theme.foreground, font: fontOf(theme, -1), autoSkip: true, maxRotation: 0 },
    // Grid lines between layers, so each layer's dots sit in their own band.
    grid: { color: theme.grid, offset: true, drawTicks: true, tickLength: 4 },
    border: { color: theme.border },
  };
}

function tooltipStyle(theme: ChartTheme): Record<string, unknown> {
  return {
    backgroundColor: theme.kind === 'dark' || theme.kind === 'high-contrast' ? 'rgba(30,30,30,0.95)' : 'rgba(255,255,255,0.97)',
    titleColor: theme.foreground,
    bodyColor: theme.foreground,
    borderColor: theme.border,
    borderWidth: 1,
    titleFont: fontOf(theme, 0, 'bold'),
    bodyFont: fontOf(theme, 0),
    padding: 8,
  };
}

/** The layer count shown on the x axis of a per-head chart. */
function maxLayers(series: MetricSeries[]): number {
  return series.reduce((m, s) => Math.max(m, s.block.perLayer.length, s.block.perHead.length), 1);
}

/** Horizontal offset of each model's dots in a comparison, so the two clouds do not hide each other. */
export function seriesOffset(index: number, count: number): number {
  if (count <= 1) return 0;
  return (index - (count - 1) / 2) * 0.24;
}

/** Per-head metric chart: small dots for heads, line or large dots for the per-layer mean. */
export function metricChartConfig(o: MetricChartOptions): ChartConfiguration {
  const { theme } = o;
  const layers = maxLayers(o.series);
  const datasets: Record<string, unknown>[] = [];
  o.series.forEach((s, i) => {
    const off = seriesOffset(i, o.series.length);
    const prefix = o.series.length > 1 ? `${s.short ?? s.label} · ` : '';
    datasets.push({
      type: 'scatter',
      label: `${prefix}heads`,
      mlModel: s.label,
      mlRole: 'heads' as DatasetRole,
      mlSeries: i,
      data: headPoints(s.block, off),
      backgroundColor: withAlpha(s.color, 0.45),
      borderColor: withAlpha(s.color, 0.9),
      borderWidth: 1,
      pointRadius: 3.5,
      pointHoverRadius: 6,
      // chart.js draws lower orders last: heads on top, so a layer-mean marker never hides a head dot.
      order: 0,
    });
    datasets.push({
      type: o.meanStyle === 'line' ? 'line' : 'scatter',
      label: `${prefix}layer mean`,
      mlModel: s.label,
      mlRole: 'mean' as DatasetRole,
      mlSeries: i,
      data: layerPoints(s.block, off),
      backgroundColor: s.color,
      borderColor: s.color,
      borderWidth: o.meanStyle === 'line' ? 2.5 : 1.25,
      pointRadius: o.meanStyle === 'line' ? 4.5 : 8,
      pointHoverRadius: o.meanStyle === 'line' ? 7 : 10,
      pointStyle: o.meanStyle === 'line' ? 'rectRot' : 'circle',
      // Large dots (Fig. 3) joined by a thin line, so the trend over depth reads like the distance chart.
      showLine: true,
      fill: false,
      tension: 0,
      order: 1,
    });
  });
  if (o.uniformReference) {
    o.series.forEach((s, i) => {
      // Models on the same grid share one line.
      const shared = o.series.filter((x) => !x.stages?.length && x.uniformDistance === s.uniformDistance);
      if (!s.stages?.length && s.uniformDistance !== undefined && Number.isFinite(s.uniformDistance) && shared[0] === s) {
        const prefix = o.series.length > 1 && shared.length < o.series.length ? `${s.short ?? s.label} · ` : '';
        datasets.push({
          type: 'line',
          label: `${prefix}uniform attention`,
          mlModel: s.label,
          mlRole: 'uniform' as DatasetRole,
          mlSeries: i,
          data: uniformLinePoints(Math.max(s.block.perLayer.length, s.block.perHead.length), s.uniformDistance),
          borderColor: withAlpha(shared.length > 1 ? theme.foreground : s.color, 0.6),
          backgroundColor: withAlpha(shared.length > 1 ? theme.foreground : s.color, 0.6),
          borderWidth: 1.5,
          borderDash: [6, 4],
          pointRadius: 0,
          pointHoverRadius: 0,
          pointHitRadius: 6,
          fill: false,
          order: 3,
        });
      }
      if (!s.stages?.length) return;
      const prefix = o.series.length > 1 ? `${s.short ?? s.label} · ` : '';
      datasets.push({
        type: 'line',
        label: `${prefix}uniform in window`,
        mlModel: s.label,
        mlRole: 'uniform' as DatasetRole,
        mlSeries: i,
        data: uniformPoints(s.stages),
        borderColor: withAlpha(s.color, 0.8),
        backgroundColor: withAlpha(s.color, 0.8),
        borderWidth: 1.5,
        borderDash: [6, 4],
        pointRadius: 0,
        pointHoverRadius: 0,
        spanGaps: false,
        fill: false,
        order: 3,
      });
    });
  }
  const stageSeries = o.series.find((s) => s.stages?.length);
  const allY = o.series.flatMap((s) => [
    ...s.block.perHead.flat(),
    ...s.block.perLayer,
    ...(s.block.ci95?.perLayer.map((c) => c[1]) ?? []),
    ...(o.uniformReference ? [...(s.stages ?? []).map((st) => st.uniformDistance), ...(s.uniformDistance !== undefined ? [s.uniformDistance] : [])] : []),
  ]);
  const fmt = (v: number): string => `${v.toFixed(o.digits)} ${o.unit}`;
  return {
    type: 'scatter',
    data: { datasets: datasets as never },
    options: {
      animation: false,
      responsive: true,
      // The wrapper's CSS height (clamped to the panel width) sizes the plot: a fixed aspect ratio would
      // squash it in a narrow panel beside the code.
      maintainAspectRatio: false,
      devicePixelRatio: Math.max(2, typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1),
      interaction: { mode: 'nearest', intersect: true },
      ...clickHandlers<{ series: number; layer: number; head: number }>(
        (raw, ds) => (ds['mlRole'] === 'heads' && typeof raw === 'object' && raw !== null && 'head' in raw ? { series: ds['mlSeries'] as number, layer: (raw as HeadPoint).layer, head: (raw as HeadPoint).head } : undefined),
        o.onHead ? (v) => o.onHead!(v.series, v.layer, v.head) : undefined,
      ),
      layout: { padding: { top: 4, right: 12 } },
      scales: {
        x: layerAxis(theme, layers, 'Layer'),
        y: {
          type: 'linear',
          beginAtZero: true,
          suggestedMax: suggestedMax(allY.filter((v): v is number => typeof v === 'number')),
          title: { display: true, text: o.yTitle, color: theme.foreground, font: fontOf(theme, 0, 'bold') },
          ticks: { color: theme.foreground, font: fontOf(theme, -1) },
          grid: { color: theme.grid },
          border: { color: theme.border },
        },
      } as never,
      plugins: {
        title: { display: false, text: o.title, color: theme.foreground, font: fontOf(theme, 2, 'bold') },
        legend: {
          display: true,
          position: 'top',
          align: 'end',
          labels: {
            color: theme.foreground,
            font: fontOf(theme, -1),
            usePointStyle: true,
            boxWidth: 8,
            boxHeight: 8,
            padding: 14,
            // Model by model (heads, then mean), not in drawing order.
            sort: (a: { datasetIndex?: number }, b: { datasetIndex?: number }) => (a.datasetIndex ?? 0) - (b.datasetIndex ?? 0),
          },
        },
        tooltip: {
          ...tooltipStyle(theme),
          callbacks: {
            title: (items: TooltipItem<'scatter'>[]) => {
              const ds = items[0]?.dataset as unknown as { label?: string; mlModel?: string } | undefined;
              return o.series.length > 1 ? `${ds?.mlModel ?? ''} · ${ds?.label?.replace(/^[^·]*· /, '') ?? ''}` : (ds?.label ?? '');
            },
            label: (item: TooltipItem<'scatter'>) => {
              const raw = item.raw as HeadPoint | LayerPoint | UniformPoint | { y: number; uniform: true };
              if ('uniform' in raw) return `Uniform attention over all patches of this model's grid: ${fmt(raw.y)}`;
              if ('stage' in raw) return `Stage ${raw.stage}: uniform attention over the window's allowed keys: ${fmt(raw.y ?? NaN)}`;
              if ('head' in raw) {
                const hc = o.series[(item.dataset as unknown as { mlSeries?: number }).mlSeries ?? 0]?.block.ci95?.perHead[raw.layer - 1]?.[raw.head - 1];
                return `Layer ${raw.layer}, head ${raw.head}: ${fmt(raw.y)}${hc ? ` (95% CI ${hc[0].toFixed(o.digits)}–${hc[1].toFixed(o.digits)})` : ''}`;
              }
              const lc = o.series[(item.dataset as unknown as { mlSeries?: number }).mlSeries ?? 0]?.block.ci95?.perLayer[raw.layer - 1];
              return `Layer ${raw.layer} mean: ${fmt(raw.y)}${lc ? ` (95% CI ${lc[0].toFixed(o.digits)}–${lc[1].toFixed(o.digits)})` : ''}`;
            },
          },
        } as never,
      },
    },
    plugins: [backgroundPlugin(theme), ...(stageSeries?.stages ? [stagePlugin(stageSeries.stages, theme)] : []), intervalPlugin(o.series)],
  };
}

/** Layer×layer heatmap with a fixed colour scale and the value on hover. */
export function matrixChartConfig(o: MatrixChartOptions): ChartConfiguration {
  const { theme } = o;
  const rows = o.matrix.length;
  const cols = matrixCols(o.matrix);
  const gap = rows > 32 || cols > 32 ? 0 : 1;
  return {
    type: 'matrix',
    data: {
      datasets: [
        {
          label: o.title,
          data: matrixCells(o.matrix),
          backgroundColor: (ctx: { raw: unknown }) => scaleColor((ctx.raw as MatrixCell | undefined)?.v ?? NaN, o.min, o.max),
          borderWidth: 0,
          hoverBorderColor: theme.foreground,
          hoverBorderWidth: 2,
          width: ({ chart }: { chart: Chart }) => Math.max(1, (chart.chartArea?.width ?? 0) / Math.max(1, cols) - gap),
          height: ({ chart }: { chart: Chart }) => Math.max(1, (chart.chartArea?.height ?? 0) / Math.max(1, rows) - gap),
        },
      ] as never,
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: true,
      // Roughly square cells: the plot area is cols:rows, plus room for the y axis and the colour scale.
      aspectRatio: Math.min(2.5, Math.max(0.6, (cols / Math.max(1, rows)) * 1.18)),
      devicePixelRatio: Math.max(2, typeof window !== 'undefined' ? window.devicePixelRatio || 1 : 1),
      layout: { padding: { top: 6, right: SCALE_BAR_SPACE, left: 2 } },
      ...clickHandlers<MatrixCell>((raw) => (typeof raw === 'object' && raw !== null && 'v' in raw ? (raw as MatrixCell) : undefined), o.onCell ? (c) => o.onCell!(c.y, c.x) : undefined),
      scales: {
        x: { ...layerAxis(theme, cols, o.xTitle), grid: { display: false }, position: 'bottom' },
        y: { ...layerAxis(theme, rows, o.yTitle, true), grid: { display: false } },
      } as never,
      plugins: {
        title: { display: false, text: o.title, color: theme.foreground, font: fontOf(theme, 2, 'bold') },
        legend: { display: false },
        tooltip: {
          ...tooltipStyle(theme),
          callbacks: {
            title: () => o.title,
            label: (item: TooltipItem<'matrix'>) => {
              const c = item.raw as MatrixCell;
              const ci = o.ci?.[c.y - 1]?.[c.x - 1];
              return `${o.yTitle} ${c.y} × ${o.xTitle} ${c.x}: ${o.valueLabel} = ${c.v.toFixed(4)}${ci ? ` (95% CI ${ci[0].toFixed(3)}–${ci[1].toFixed(3)})` : ''}`;
            },
          },
        } as never,
      },
    },
    plugins: [backgroundPlugin(theme), colorScalePlugin(o), ...(o.showValues ? [cellValuesPlugin(o)] : [])],
  };
}

/** Creates a chart on a canvas. */
export function createChart(canvas: HTMLCanvasElement, config: ChartConfiguration): Chart {
  if (!chartClass) throw new Error('loadCharts() must finish before charts are created');
  return new chartClass(canvas, config);
}

/** A PNG data: URL of the chart, with its title drawn in so the image explains itself. */
export function chartPng(chart: Chart): string {
  const title = chart.options.plugins?.title;
  if (title) title.display = true;
  chart.update('none');
  const url = chart.toBase64Image('image/png', 1);
  if (title) title.display = false;
  chart.update('none');
  return url;
}
