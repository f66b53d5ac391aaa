// Messages between the host and the training-run timeline webview, the check of what the webview sends,
// and the CSV export of a timeline (one row per checkpoint × layer). Types + tiny helpers only.
import type { TimelineResult } from '../analysis/timelineSchema';
import type { WeightsDiffResult } from '../analysis/weightsDiff';

export type { TimelineCheckpoint, TimelineResult } from '../analysis/timelineSchema';
export type { WeightsDiffResult } from '../analysis/weightsDiff';

/** Host → webview. */
export type TimelineToView =
  /** The run so far (complete when `running` is false). */
  | { type: 'timeline'; result: TimelineResult; running: boolean }
  /** Checkpoint `done` of `total` is finished (or being read from the cache). */
  | { type: 'progress'; done: number; total: number; file: string }
  /** A weights diff of two checkpoints, shown in the same view (no timeline). */
  | { type: 'weightsDiff'; diff: WeightsDiffResult }
  | { type: 'error'; message: string }
  /** Watch mode of the run folder is on or off now. */
  | { type: 'watching'; on: boolean };

/** Webview → host. */
export type TimelineFromView =
  | { type: 'ready' }
  | { type: 'cancel' }
  /** Turn watch mode of the run folder on or off. */
  | { type: 'watch'; on: boolean }
  | { type: 'export'; format: 'json' | 'csv' }
  /** A chart rendered to PNG by the webview, as a data: URL. */
  | { type: 'exportPng'; name: string; dataUrl: string };

const PNG_PREFIX = 'data:image/png;base64,';
/** A PNG larger than this is refused (a chart is a few hundred KB). */
export const MAX_PNG_DATA_URL = 16 * 1024 * 1024;

/** The message if it is one the timeline webview may send, else undefined. */
export function validateTimelineMessage(raw: unknown): TimelineFromView | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  if (m['type'] === 'ready' || m['type'] === 'cancel') return { type: m['type'] };
  if (m['type'] === 'watch' && typeof m['on'] === 'boolean') return { type: 'watch', on: m['on'] };
  if (m['type'] === 'export' && (m['format'] === 'json' || m['format'] === 'csv')) return { type: 'export', format: m['format'] };
  if (m['type'] === 'exportPng' && typeof m['name'] === 'string' && /^[a-z0-9-]{1,40}$/.test(m['name']) && typeof m['dataUrl'] === 'string'
    && m['dataUrl'].startsWith(PNG_PREFIX) && m['dataUrl'].length <= MAX_PNG_DATA_URL) {
    return { type: 'exportPng', name: m['name'], dataUrl: m['dataUrl'] };
  }
  return undefined;
}

const cell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per checkpoint and layer: position, file, the layer's metrics and the checkpoint's CKA summaries. */
export function timelineCsv(t: TimelineResult): string {
  const rows = [['index', 'step', 'epoch', 'file', 'layer', 'attention_distance_px', 'head_diversity_nats', 'special_mass', 'cka_to_final', 'cka_mean_off_diagonal', 'cka_first_last']];
  t.checkpoints.forEach((c, i) => {
    c.attentionDistance.perLayer.forEach((ad, l) => {
      rows.push([i + 1, c.step, c.epoch, c.file, l + 1, ad, c.headDiversity.perLayer[l], c.specialMass?.perLayer[l], c.ckaSummary.toFinal[l], c.ckaSummary.meanOffDiagonal, c.ckaSummary.firstLast].map(cell));
    });
  });
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}
