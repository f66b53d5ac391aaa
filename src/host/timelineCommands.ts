// "Analyze Training Run": a folder (or several selected checkpoints) → one `timeline/run` job in the worker
// (cached per checkpoint in the analysis cache folder) → the timeline webview, updated as checkpoints finish.
// Runs only in a trusted workspace; every message from the webview is validated before use.
import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import {
  ANALYSIS_PROGRESS, TIMELINE_CHECKPOINT, TIMELINE_RUN,
  type AnalysisProgress, type TimelineCheckpointNote, type TimelineRunParams,
} from '../protocol/workerProtocol';
import { timelineCsv, validateTimelineMessage, type TimelineResult, type TimelineToView } from '../protocol/timelineViewProtocol';
import { decodePngDataUrl } from './analysisMessages';
import { ANALYSIS_CACHE_FOLDER } from './analysisLookup';
import { makeNonce, webviewPage } from './webviewHtml';
import type { HostServices } from './services';

export const TIMELINE_VIEW_TYPE = 'modelLens.timeline';
export const ANALYZE_RUN_COMMAND = 'modelLens.analyzeTrainingRun';

/** The paths a command invocation names: the explorer selection, else the clicked item; none from the palette. */
export function runInputs(clicked: unknown, selected: unknown): string[] {
  const uris = (Array.isArray(selected) && selected.length > 1 ? selected : [clicked]).filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === 'file');
  return uris.map((u) => u.fsPath);
}

function timelineParams(inputs: string[], services: HostServices, jobId: string): TimelineRunParams {
  const s = services.settings();
  const p: TimelineRunParams = { inputs, batchSize: s.batchSize, device: s.device, limit: s.probeCount, jobId, cacheDir: join(services.context.globalStorageUri.fsPath, ANALYSIS_CACHE_FOLDER) };
  if (s.probeImagesFolder !== undefined) p.images = s.probeImagesFolder;
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

export function registerTimelineCommands(context: vscode.ExtensionContext, services: HostServices): void {
  let nextJob = 1;
  const run = async (inputs: string[]): Promise<TimelineResult | undefined> => {
    if (!services.requireTrust('Analyzing a training run')) return undefined;
    const name = inputs.length === 1 ? basename(inputs[0] as string) : `${inputs.length} checkpoints`;
    const panel = vscode.window.createWebviewPanel(TIMELINE_VIEW_TYPE, `Run: ${name}`, vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
    });
    const abort = new AbortController();
    let result: TimelineResult | undefined;
    let ready = false;
    const pending: TimelineToView[] = [];
    const post = (m: TimelineToView): void => {
      if (ready) void panel.webview.postMessage(m);
      else pending.push(m);
    };
    panel.webview.onDidReceiveMessage(async (raw: unknown) => {
      const m = validateTimelineMessage(raw);
      if (!m) return services.log.warn('timeline view: ignored an invalid message');
      if (m.type === 'ready') {
        ready = true;
        for (const p of pending.splice(0)) void panel.webview.postMessage(p);
        if (result) void panel.webview.postMessage({ type: 'timeline', result, running: false } satisfies TimelineToView);
      } else if (m.type === 'cancel') abort.abort();
      else if (m.type === 'export' && result) {
        const stem = `${name.replace(/[^\w.-]+/g, '_')}.timeline`;
        if (m.format === 'json') await saveAs(`${stem}.json`, { JSON: ['json'] }, `${JSON.stringify(result, null, 2)}\n`);
        else await saveAs(`${stem}.csv`, { CSV: ['csv'] }, timelineCsv(result));
      } else if (m.type === 'exportPng') {
        await saveAs(`${m.name}.png`, { PNG: ['png'] }, decodePngDataUrl(m.dataUrl));
      }
    }, undefined, context.subscriptions);
    panel.onDidDispose(() => abort.abort(), undefined, context.subscriptions);
    panel.webview.html = panelHtml(panel, context.extensionUri, `Run: ${name}`);

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
        result = await services.worker.request<TimelineResult>(TIMELINE_RUN, timelineParams(inputs, services, jobId), abort.signal);
        services.log.info(`run ${name}: ${result.checkpoints.length} checkpoint(s), ${result.skipped.length} skipped`);
        post({ type: 'timeline', result, running: false });
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

  context.subscriptions.push(vscode.commands.registerCommand(ANALYZE_RUN_COMMAND, async (clicked?: unknown, selected?: unknown) => {
    let inputs = runInputs(clicked, selected);
    if (inputs.length === 0) {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, canSelectMany: true, openLabel: 'Analyze Training Run', title: 'Model Lens: a run folder, or its checkpoints' });
      inputs = (picked ?? []).map((u) => u.fsPath);
    }
    if (inputs.length === 0) return undefined;
    return run(inputs);
  }));
}
