// "Analyze Training Run": a folder (or several selected checkpoints) → one `timeline/run` job in the worker
// (cached per checkpoint in the analysis cache folder) → the timeline webview, updated as checkpoints finish.
// Watch mode reruns the job when a checkpoint appears in the run folder (only the new one is analysed; the
// others come from the cache). "Weights Diff" of two checkpoints shares the view (keys, shapes, dtypes, a bar
// per block). All of it runs only in a trusted workspace; every message from the webview is validated.
import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import {
  ANALYSIS_PROGRESS, TIMELINE_CHECKPOINT, TIMELINE_RUN, WEIGHTS_DIFF,
  type AnalysisProgress, type TimelineCheckpointNote, type TimelineRunParams,
} from '../protocol/workerProtocol';
import { timelineCsv, validateTimelineMessage, type TimelineResult, type TimelineToView, type WeightsDiffResult } from '../protocol/timelineViewProtocol';
import { decodePngDataUrl } from './analysisMessages';
import { ANALYSIS_CACHE_FOLDER } from './analysisLookup';
import { FolderWatch } from '../runtime/folderWatch';
import { makeNonce, webviewPage } from './webviewHtml';
import type { HostServices } from './services';

export const TIMELINE_VIEW_TYPE = 'modelLens.timeline';
export const ANALYZE_RUN_COMMAND = 'modelLens.analyzeTrainingRun';
export const WEIGHTS_DIFF_COMMAND = 'modelLens.weightsDiff';

/** The paths a command invocation names: the explorer selection, else the clicked item; none from the palette. */
export function runInputs(clicked: unknown, selected: unknown): string[] {
  // A hover link passes the folder as a URI string (command links carry JSON).
  const asUri = (u: unknown): unknown => (typeof u === 'string' && u.startsWith('file:') ? vscode.Uri.parse(u, true) : u);
  const uris = (Array.isArray(selected) && selected.length > 1 ? selected : [clicked]).map(asUri).filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === 'file');
  return uris.map((u) => u.fsPath);
}

function timelineParams(inputs: string[], services: HostServices, jobId: string): TimelineRunParams {
  const s = services.settings();
  const p: TimelineRunParams = { inputs, batchSize: s.batchSize, device: s.device, limit: s.probeCount, jobId, cacheDir: join(services.context.globalStorageUri.fsPath, ANALYSIS_CACHE_FOLDER) };
  if (s.probeImagesFolder !== undefined) p.images = s.probeImagesFolder;
  if (s.imageSize !== undefined) p.imageSize = s.imageSize;
  return p;
}

function panelHtml(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, title: string): string {
  const nonce = makeNonce();
  const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'timeline.js')).toString();
  // PNG export draws the chart's SVG through a data: image onto a canvas.
  const csp = ["default-src 'none'", 'img-src data:', `script-src 'nonce-${nonce}'`].join('; ');
  return webviewPage({ csp, nonce, scriptUri: script, title, main: '<main id="root" aria-live="polite"></main>' });
}

async function saveAs(name: string, filter: Record<string, string[]>, data: string | Uint8Array): Promise<void> {
  const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', name)), filters: filter });
  if (!target) return;
  await writeFile(target.fsPath, data);
  void vscode.window.showInformationMessage(`Model Lens: saved ${basename(target.fsPath)}`);
}

/** A timeline (or weights diff) panel: posts messages once the view is ready, answers its exports. */
interface ViewPanel {
  panel: vscode.WebviewPanel;
  post(m: TimelineToView): void;
  /** Aborted when the panel is closed. */
  closed: AbortSignal;
}

interface PanelHandlers {
  data(): TimelineResult | WeightsDiffResult | undefined;
  cancel(): void;
  watch?(on: boolean): void;
}

function openViewPanel(context: vscode.ExtensionContext, services: HostServices, title: string, stem: string, handlers: PanelHandlers): ViewPanel {
  const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, title, vscode.ViewColumn.Beside, {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
  });
  const abort = new AbortController();
  let ready = false;
  const pending: TimelineToView[] = [];
  const post = (m: TimelineToView): void => {
    if (ready) void panel.webview.postMessage(m);
    else pending.push(m);
  };
  panel.webview.onDidReceiveMessage(async (raw: unknown) => {
    const m = validateTimelineMessage(raw);
    if (!m) return services.log.warn('timeline view: ignored an invalid message');
    const d = handlers.data();
    if (m.type === 'ready') {
      ready = true;
      for (const p of pending.splice(0)) void panel.webview.postMessage(p);
    } else if (m.type === 'cancel') handlers.cancel();
    else if (m.type === 'watch') handlers.watch?.(m.on);
    else if (m.type === 'export' && d) {
      if (m.format === 'json') await saveAs(`${stem}.json`, { JSON: ['json'] }, `${JSON.stringify(d, null, 2)}\n`);
      else if ('checkpoints' in d) await saveAs(`${stem}.csv`, { CSV: ['csv'] }, timelineCsv(d));
    } else if (m.type === 'exportPng') {
      await saveAs(`${m.name}.png`, { PNG: ['png'] }, decodePngDataUrl(m.dataUrl));
    }
  }, undefined, context.subscriptions);
  panel.onDidDispose(() => {
    abort.abort();
    handlers.cancel();
  }, undefined, context.subscriptions);
  panel.webview.html = panelHtml(panel, context.extensionUri, title);
  return { panel, post, closed: abort.signal };
}

export function registerTimelineCommands(context: vscode.ExtensionContext, services: HostServices): void {
  let nextJob = 1;
  /** One timeline job for a panel; `post` gets progress and the result. */
  const timelineJob = async (inputs: string[], name: string, post: (m: TimelineToView) => void, abort: AbortController): Promise<TimelineResult | undefined> => {
    const jobId = `timeline-${nextJob++}`;
    const subs = [
      services.worker.onNotification(TIMELINE_CHECKPOINT, (raw) => {
        const n = raw as Partial<TimelineCheckpointNote> | null;
        if (n?.jobId === jobId && typeof n.index === 'number' && typeof n.total === 'number' && typeof n.file === 'string') post({ type: 'progress', done: n.index + 1, total: n.total, file: n.file });
      }),
    ];
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Model Lens: analysing the run ${name}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => abort.abort());
      subs.push(services.worker.onNotification(ANALYSIS_PROGRESS, (raw) => {
        const p = raw as Partial<AnalysisProgress> | null;
        if (p?.jobId === jobId && p.phase === 'run' && typeof p.message === 'string') {
          post({ type: 'progress', done: p.done ?? 0, total: p.total ?? 0, file: p.message });
          progress.report({ message: `${(p.done ?? 0) + 1}/${p.total ?? '?'}: ${basename(p.message)}` });
        }
      }));
      try {
        const result = await services.worker.request<TimelineResult>(TIMELINE_RUN, timelineParams(inputs, services, jobId), abort.signal);
        services.log.info(`run ${name}: ${result.checkpoints.length} checkpoint(s), ${result.skipped.length} skipped`);
        return result;
      } catch (e) {
        const message = abort.signal.aborted ? 'Cancelled. Checkpoints finished so far are cached; run again to resume.' : e instanceof Error ? e.message : String(e);
        services.log[abort.signal.aborted ? 'info' : 'error'](`run ${name}: ${message}`);
        post({ type: 'error', message });
        return undefined;
      } finally {
        for (const s of subs) s.dispose();
      }
    });
  };

  const run = async (inputs: string[]): Promise<TimelineResult | undefined> => {
    if (!services.requireTrust('Analyzing a training run')) return undefined;
    const name = inputs.length === 1 ? basename(inputs[0] as string) : `${inputs.length} checkpoints`;
    let result: TimelineResult | undefined;
    let current: AbortController | undefined;
    let running: Promise<TimelineResult | undefined> | undefined;
    let again = false;
    let watch: FolderWatch | undefined;
    // A new checkpoint while a job runs is queued: one more job after it (the cache makes the rerun cheap).
    const queue = (): Promise<TimelineResult | undefined> => {
      if (running) {
        again = true;
        return running;
      }
      current = new AbortController();
      running = timelineJob(inputs, name, view.post, current).then((r) => {
        if (r) {
          result = r;
          view.post({ type: 'timeline', result: r, running: false });
        }
        return r;
      }).finally(() => {
        running = undefined;
        if (again && !view.closed.aborted) {
          again = false;
          void queue();
        }
      });
      return running;
    };
    const setWatch = async (on: boolean): Promise<void> => {
      watch?.dispose();
      watch = undefined;
      const folder = result?.run.folder;
      if (on && folder !== undefined && !view.closed.aborted && services.requireTrust('Watching a training run')) {
        watch = await FolderWatch.start(folder, {
          onStable: (file) => {
            services.log.info(`run ${name}: new checkpoint ${basename(file)}`);
            void queue();
          },
          onError: (e) => services.log.warn(`watching ${folder}: ${String(e)}`),
        });
      }
      view.post({ type: 'watching', on: watch !== undefined });
    };
    const view = openViewPanel(context, services, `Run: ${name}`, `${name.replace(/[^\w.-]+/g, '_')}.timeline`, {
      data: () => result,
      cancel: () => {
        again = false;
        current?.abort();
      },
      watch: (on) => void setWatch(on),
    });
    view.closed.addEventListener('abort', () => watch?.dispose());
    return queue();
  };

  const diffWeights = async (a: string, b: string): Promise<WeightsDiffResult | undefined> => {
    if (!services.requireTrust('Comparing the weights of two checkpoints')) return undefined;
    let diff: WeightsDiffResult | undefined;
    const abort = new AbortController();
    const { post } = openViewPanel(context, services, `Weights: ${basename(a)} → ${basename(b)}`, `${basename(a)}-vs-${basename(b)}.weights-diff`.replace(/[^\w.-]+/g, '_'), { data: () => diff, cancel: () => abort.abort() });
    try {
      diff = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Model Lens: weights diff ${basename(a)} → ${basename(b)}`, cancellable: true }, (_p, token) => {
        token.onCancellationRequested(() => abort.abort());
        return services.worker.request<WeightsDiffResult>(WEIGHTS_DIFF, { fileA: a, fileB: b }, abort.signal);
      });
      post({ type: 'weightsDiff', diff });
      return diff;
    } catch (e) {
      post({ type: 'error', message: abort.signal.aborted ? 'Cancelled.' : e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(ANALYZE_RUN_COMMAND, async (clicked?: unknown, selected?: unknown) => {
      let inputs = runInputs(clicked, selected);
      if (inputs.length === 0) {
        const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: true, openLabel: 'Analyze Training Run', title: 'Model Lens: a run folder, or its checkpoints' });
        inputs = (picked ?? []).map((u) => u.fsPath);
      }
      if (inputs.length === 0) return undefined;
      return run(inputs);
    }),
    vscode.commands.registerCommand(WEIGHTS_DIFF_COMMAND, async (clicked?: unknown, selected?: unknown) => {
      const files = runInputs(clicked, selected);
      const a = files[0] ?? (await services.pickCheckpoint('Model Lens: Weights Diff — reference checkpoint (A)'))?.fsPath;
      if (a === undefined) return undefined;
      const b = files[1] ?? (await services.pickCheckpoint(`Model Lens: Weights Diff — ${basename(a)} against…`, vscode.Uri.file(a)))?.fsPath;
      if (b === undefined) return undefined;
      if (files.length > 2) void vscode.window.showWarningMessage(`Weights Diff compares two checkpoints; using ${basename(a)} and ${basename(b)}.`);
      return diffWeights(a, b);
    }),
  );
}
