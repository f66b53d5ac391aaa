// The analysis commands (analyze, compare, export, clear cache): target resolution, trust, progress
// with Cancel, and joining a running job for the same files. What to do with a finished result is the
// `AnalysisPresenter`'s business: the analysis panel (src/host/analysisPanel.ts) when present; until
// then a plain presenter opens the result JSON beside the code.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { ANALYSIS_PROGRESS, ANALYSIS_RUN, type AnalysisProgress, type AnalysisRunParams } from '../protocol/workerProtocol';
import type { AnalysisResult } from '../core/resultSchema';
import type { HostServices } from './services';

/** One analysis or comparison to run or show. */
export interface AnalysisRequest {
  /** One checkpoint, or two for a comparison. */
  files: [string] | [string, string];
}

/** Shows results; the analysis panel implements this. */
export interface AnalysisPresenter {
  show(request: AnalysisRequest, result: AnalysisResult): Promise<void>;
  /** The result currently in front of the user, for "Export Analysis…". */
  current(): AnalysisResult | undefined;
}

class JsonPresenter implements AnalysisPresenter {
  private last: AnalysisResult | undefined;
  async show(_request: AnalysisRequest, result: AnalysisResult): Promise<void> {
    this.last = result;
    const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(result, null, 2) });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
  current(): AnalysisResult | undefined {
    return this.last;
  }
}

export function registerAnalysisCommands(context: vscode.ExtensionContext, services: HostServices, presenter: AnalysisPresenter = new JsonPresenter()): void {
  const running = new Map<string, Promise<AnalysisResult | undefined>>();
  let nextJob = 1;

  const run = async (request: AnalysisRequest): Promise<void> => {
    const what = request.files.length === 2 ? 'Comparing checkpoints' : 'Analyzing';
    if (!services.requireTrust(request.files.length === 2 ? 'Comparing checkpoints' : 'Analyzing attention & CKA')) return;
    const key = request.files.join('\u0000');
    let job = running.get(key);
    if (!job) {
      job = start(request, what);
      running.set(key, job);
      void job.finally(() => running.delete(key));
    }
    const result = await job;
    if (result) await presenter.show(request, result);
  };

  const start = (request: AnalysisRequest, what: string): Promise<AnalysisResult | undefined> => {
    const s = services.settings();
    const jobId = `job-${nextJob++}`;
    const params: AnalysisRunParams = { file: request.files[0], batchSize: s.batchSize, device: s.device, limit: s.probeCount, jobId };
    if (request.files[1] !== undefined) params.fileB = request.files[1];
    if (s.probeImagesFolder !== undefined) params.images = s.probeImagesFolder;
    if (s.headsOverride !== undefined) params.heads = s.headsOverride;
    const title = `${what} ${request.files.map((f) => basename(f)).join(' vs ')}`;
    return Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        const sub = services.worker.onNotification(ANALYSIS_PROGRESS, (p) => {
          const n = p as Partial<AnalysisProgress> | null;
          if (!n || n.jobId !== jobId || typeof n.done !== 'number' || typeof n.total !== 'number') return;
          const pct = n.total > 0 ? (100 * n.done) / n.total : 0;
          progress.report({ increment: Math.max(0, pct - last), message: n.message ?? `${n.phase ?? ''} ${n.done}/${n.total}` });
          last = Math.max(last, pct);
        });
        const t0 = Date.now();
        try {
          const result = await services.worker.request<AnalysisResult>(ANALYSIS_RUN, params, abort.signal);
          services.log.info(`${title}: done in ${Date.now() - t0} ms on ${result.device.used}`);
          return result;
        } catch (e) {
          if (abort.signal.aborted) {
            services.log.info(`${title}: cancelled`);
            return undefined;
          }
          throw e;
        } finally {
          sub.dispose();
        }
      }),
    );
  };

  const reg = (id: string, fn: (...args: unknown[]) => Promise<void>): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          await fn(...args);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          services.log.error(`${id} failed: ${msg}`);
          void vscode.window.showErrorMessage(`Model Lens: ${msg}`, 'Show Log').then((c) => c && services.log.show(true));
        }
      }),
    );
  };

  reg('modelLens.analyze', async (arg) => {
    const uri = services.targetUri(arg) ?? (await services.pickCheckpoint('Model Lens: Analyze Checkpoint'));
    if (uri) await run({ files: [uri.fsPath] });
  });
  reg('modelLens.analyzeCheckpoint', async () => {
    const uri = await services.pickCheckpoint('Model Lens: Analyze Checkpoint');
    if (uri) await run({ files: [uri.fsPath] });
  });
  reg('modelLens.compareWith', async (arg) => {
    const a = services.targetUri(arg) ?? (await services.pickCheckpoint('Model Lens: Compare — first checkpoint'));
    if (!a) return;
    const b = await services.pickCheckpoint(`Model Lens: Compare ${basename(a.fsPath)} with…`, a);
    if (b) await run({ files: [a.fsPath, b.fsPath] });
  });
  reg('modelLens.compareSelected', async (clicked, selected) => {
    const uris = (Array.isArray(selected) ? selected : [clicked]).map((x) => services.targetUri(x)).filter((u): u is vscode.Uri => u !== undefined);
    if (uris.length !== 2) {
      void vscode.window.showWarningMessage(`Compare Selected Checkpoints needs exactly two files selected (got ${uris.length}).`);
      return;
    }
    await run({ files: [uris[0]!.fsPath, uris[1]!.fsPath] });
  });
  reg('modelLens.compareCheckpoints', async () => {
    const a = await services.pickCheckpoint('Model Lens: Compare — first checkpoint');
    if (!a) return;
    const b = await services.pickCheckpoint(`Model Lens: Compare ${basename(a.fsPath)} with…`, a);
    if (b) await run({ files: [a.fsPath, b.fsPath] });
  });
  reg('modelLens.exportAnalysis', async () => {
    const r = presenter.current();
    if (!r) {
      void vscode.window.showInformationMessage('Run an analysis first: there is no result to export.');
      return;
    }
    const target = await vscode.window.showSaveDialog({ filters: { JSON: ['json'] }, title: 'Export Analysis (model-lens/analysis@1)' });
    if (target) await vscode.workspace.fs.writeFile(target, Buffer.from(JSON.stringify(r, null, 2)));
  });
  reg('modelLens.clearCache', async () => {
    services.headers.clear();
    void vscode.window.showInformationMessage('Model Lens: header cache cleared.');
  });
}
