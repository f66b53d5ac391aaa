// The analysis commands (analyze, compare, export, clear cache) and the jobs behind them: trust check,
// cache lookup, one worker job per checkpoint or comparison (a second request joins the running one),
// withProgress with per-batch progress and Cancel, results shown in the analysis panels of
// analysisPanel.ts. (Probe images, device and Show Log are registered in extension.ts.)
import * as vscode from 'vscode';
import { basename, join } from 'node:path';
import { ANALYSIS_PROGRESS, ANALYSIS_RUN, type AnalysisProgress as WorkerProgress } from '../protocol/workerProtocol';
import type { AnalysisProgress as ViewProgress, ChartId, CsvMetric } from '../protocol/analysisViewProtocol';
import type { AnalysisResult } from '../analysis/resultSchema';
import { csvMetricsOf, hasCka } from '../protocol/analysisExport';
import { ANALYSIS_VIEW_TYPE, AnalysisPanels, type AnalysisPanel } from './analysisPanel';
import { headsConflict, panelKey, runParams, viewProgress, type HeadsConflict, type HeadsDecision, type Variants } from './analysisPanelModel';
import { createResultCache, type ResultCache } from '../runtime/cache';
import { ANALYSIS_CACHE_FOLDER } from './analysisLookup';
import type { HostServices } from './services';

type ErrorInfo = { code: string; message: string; file?: string; offset?: number };
type Outcome = { kind: 'done'; result: AnalysisResult; cached: boolean } | { kind: 'cancelled' } | ({ kind: 'error' } & ErrorInfo);

interface Job {
  key: string;
  files: string[];
  outcome: Promise<Outcome>;
  cancel(): void;
  last: ViewProgress | undefined;
}

function errorInfo(e: unknown): ErrorInfo {
  const err = e as { code?: unknown; message?: unknown; file?: unknown; offset?: unknown } | null;
  const info: ErrorInfo = { code: typeof err?.code === 'string' ? err.code : 'internal', message: typeof err?.message === 'string' ? err.message : String(e) };
  if (typeof err?.file === 'string') info.file = err.file;
  if (typeof err?.offset === 'number' && Number.isSafeInteger(err.offset) && err.offset >= 0) info.offset = err.offset;
  return info;
}

/** Registers the analysis commands and the analysis panel serializer. */
/**
 * The weight variant a command argument asks for: the inspector passes `{ uri, variant }` when a non-default
 * weight set (e.g. EMA) is chosen there. Explorer and editor-title arguments carry none.
 */
export function variantFromArg(arg: unknown): string | undefined {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return undefined;
  const v = (arg as Record<string, unknown>)['variant'];
  return typeof v === 'string' && v.length > 0 && v.length <= 200 ? v : undefined;
}

/** Whether the command came from a place (the inspector) after which the analysis view should take focus. */
export function focusFromArg(arg: unknown): boolean {
  return typeof arg === 'object' && arg !== null && !Array.isArray(arg) && (arg as Record<string, unknown>)['focus'] === true;
}

export function registerAnalysisCommands(context: vscode.ExtensionContext, services: HostServices): void {
  const cache: ResultCache = createResultCache(join(context.globalStorageUri.fsPath, ANALYSIS_CACHE_FOLDER), () => services.settings().cacheSizeLimitMB);
  const jobs = new Map<string, Job>();
  let nextJob = 1;

  const panels = new AnalysisPanels(context.extensionUri, {
    cancel: (key) => jobs.get(key)?.cancel(),
    rerun: (files, variants) => void run(files, { force: true, variants }).catch(report),
    showLog: () => services.log.show(true),
    command: (c, panel) => {
      const target = panel.error?.file && panel.files.includes(panel.error.file) ? panel.error.file : panel.files[0];
      const exec = (id: string, ...args: unknown[]): void => void vscode.commands.executeCommand(id, ...args).then(undefined, report);
      if (c === 'openInspector' && target) exec('modelLens.openInInspector', vscode.Uri.file(target));
      else if (c === 'chooseProbeImages') exec('modelLens.chooseProbeImages');
      else if (c === 'manageTrust') exec('workbench.trust.manage');
      else if (c === 'selectDevice') exec('modelLens.selectDevice');
    },
    log: (level, msg) => services.log[level](msg),
  });
  // Panels that waited for trust run as soon as it is granted.
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      for (const p of panels.all()) if (p.error?.code === 'untrusted') void run(p.files, { force: true, variants: p.variants }).catch(report);
    }),
  );
  context.subscriptions.push(panels);

  const report = (e: unknown): void => {
    const msg = e instanceof Error ? e.message : String(e);
    services.log.error(msg);
    void vscode.window.showErrorMessage(`Model Lens: ${msg}`, 'Show Log').then((c) => c && services.log.show(true));
  };

  /**
   * When the heads setting contradicts a count a checkpoint records, asks (modally) which to use: analysing
   * with the wrong count changes every per-head number, so it is never done silently. undefined: cancelled.
   */
  const decideHeads = async (files: readonly string[], variants: Variants): Promise<HeadsDecision | undefined> => {
    const o = services.settings().headsOverride;
    if (o === undefined) return {};
    const conflicts: HeadsConflict[] = [];
    for (const [i, file] of files.entries()) {
      const v = variants[i];
      // A file that cannot be read is the worker's to report, with its offset.
      const info = await services.headers.inspect(file, v ? { variant: v } : undefined).catch(() => undefined);
      const c = info && headsConflict(i, file, info.summary, o);
      if (c) conflicts.push(c);
    }
    if (conflicts.length === 0) return {};
    const what = conflicts.map((c) => `${basename(c.file)} records ${c.recorded} heads (${c.source})`).join('; ');
    const recordedLabel = conflicts.length === 1 ? `Use the Recorded ${conflicts[0]!.recorded}` : 'Use the Recorded Counts';
    const forceLabel = `Analyze with ${o} Heads`;
    const pick = await vscode.window.showWarningMessage(
      `${what}, but the setting Model Lens: Heads Override says ${o}.`,
      { modal: true, detail: `Every per-head number (distance, diversity, the head dots) depends on the head count. Analyze with ${o} only if the checkpoint's own count is wrong; the result records the override.` },
      recordedLabel,
      forceLabel,
    );
    if (pick === forceLabel) return { force: true };
    if (pick === recordedLabel) return { recordedFor: conflicts.map((c) => c.index) };
    return undefined;
  };

  const startJob = (files: string[], force: boolean, variants: Variants, heads: HeadsDecision): Job => {
    const key = panelKey(files, variants);
    const s = services.settings();
    const jobId = `analysis-${nextJob++}`;
    const params = runParams(files, s, jobId, variants, heads);
    const abort = new AbortController();
    const names = files.map((f) => basename(f)).join(' vs ');
    const job: Job = { key, files, cancel: () => abort.abort(), last: undefined, outcome: Promise.resolve({ kind: 'cancelled' }) };
    const toPanel = (p: ViewProgress): void => {
      job.last = p;
      panels.get(key)?.progress(p);
    };
    job.outcome = Promise.resolve(
      vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Model Lens: ${files.length === 2 ? 'comparing' : 'analyzing'} ${names}`, cancellable: true },
        async (progress, token): Promise<Outcome> => {
          token.onCancellationRequested(() => abort.abort());
          if (!force) {
            const hit = await cache.get(params).catch((e: unknown) => {
              services.log.warn(`Analysis cache read failed: ${errorInfo(e).message}`);
              return undefined;
            });
            if (hit) {
              services.log.info(`${names}: result from cache`);
              return { kind: 'done', result: hit, cached: true };
            }
          }
          let reported = 0;
          const sub = services.worker.onNotification(ANALYSIS_PROGRESS, (raw) => {
            const n = raw as Partial<WorkerProgress> | null;
            if (!n || n.jobId !== jobId || typeof n.done !== 'number' || typeof n.total !== 'number' || typeof n.phase !== 'string') return;
            const vp = viewProgress(n as WorkerProgress);
            toPanel(vp);
            const pct = vp.total > 0 ? (100 * vp.done) / vp.total : 0;
            progress.report({ increment: Math.max(0, pct - reported), message: vp.total > 0 ? `${vp.stage}: ${vp.done}/${vp.total}` : vp.stage });
            reported = Math.max(reported, pct);
          });
          const t0 = Date.now();
          try {
            const result = await services.worker.request<AnalysisResult>(ANALYSIS_RUN, params, abort.signal);
            services.log.info(`${names}: done in ${Date.now() - t0} ms on ${result.device.used}`);
            await cache.put(params, result).catch((e: unknown) => services.log.warn(`Analysis cache write failed: ${errorInfo(e).message}`));
            return { kind: 'done', result, cached: false };
          } catch (e) {
            if (abort.signal.aborted) {
              services.log.info(`${names}: cancelled`);
              // The RPC is gone at once and the worker stops at its next batch. A native run that does not
              // yield is the worker client's business: it polls the worker and kills it only if it is
              // still busy after the grace period (runtime/workerClient.ts), so an idle worker stays warm.
              return { kind: 'cancelled' };
            }
            const info = errorInfo(e);
            services.log.error(`${names}: ${info.message}`);
            return { kind: 'error', ...info };
          } finally {
            sub.dispose();
          }
        },
      ),
    );
    return job;
  };

  /**
   * Shows the panel of these files and runs (or joins, or reads from cache) the analysis. Resolves with the
   * result (so `executeCommand('modelLens.analyze', uri)` returns it), or undefined when refused, cancelled or failed.
   */
  const run = async (files: string[], opts: { force?: boolean; variants?: Variants; focus?: boolean } = {}): Promise<AnalysisResult | undefined> => {
    const variants = opts.variants ?? [];
    const key = panelKey(files, variants);
    const join = async (running: Job, panel: AnalysisPanel): Promise<AnalysisResult | undefined> => {
      // Joining: the panel follows the job that is already running.
      panel.show({ phase: 'running', progress: running.last ?? { done: 0, total: 0, stage: 'Starting…' } });
      const joined = await running.outcome;
      return joined.kind === 'done' ? joined.result : undefined;
    };
    const running = jobs.get(key);
    const { panel, created } = panels.open(files, variants, opts.focus === true);
    if (running) return join(running, panel);
    if (!created && !opts.force && panel.phase === 'done') return panel.result; // re-revealed with its result
    if (!services.requireTrust(files.length === 2 ? 'Comparing checkpoints' : 'Analyzing attention & CKA')) {
      panel.show({ phase: 'error', error: { code: 'untrusted', message: 'Running a model needs a trusted workspace; the analysis starts when you trust this one.' } });
      return undefined;
    }
    const heads = await decideHeads(files, variants);
    if (heads === undefined) {
      if (created) panel.dispose();
      return undefined;
    }
    const started = jobs.get(key); // while the question was open
    if (started) return join(started, panel);
    const job = startJob(files, opts.force === true, variants, heads);
    jobs.set(key, job);
    panel.show({ phase: 'running', progress: { done: 0, total: 0, stage: 'Starting…' } });
    const outcome = await job.outcome.finally(() => jobs.delete(key));
    const target = panels.get(key);
    if (outcome.kind === 'done') {
      target?.show({ phase: 'done', result: outcome.result, cached: outcome.cached });
      return outcome.result;
    }
    if (outcome.kind === 'cancelled') target?.show({ phase: 'cancelled' });
    else {
      const { kind: _kind, ...error } = outcome;
      target?.show({ phase: 'error', error });
      if (!target?.panel.visible) report(new Error(outcome.message));
    }
    return undefined;
  };

  const reg = (id: string, fn: (...args: unknown[]) => Promise<unknown>): void => {
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (...args: unknown[]) => {
        try {
          return await fn(...args);
        } catch (e) {
          report(new Error(`${id} failed: ${e instanceof Error ? e.message : String(e)}`));
        }
      }),
    );
  };

  const pickSecond = (a: vscode.Uri): Promise<vscode.Uri | undefined> => services.pickCheckpoint(`Model Lens: Compare ${basename(a.fsPath)} with…`, a);

  reg('modelLens.analyze', async (arg) => {
    const uri = services.targetUri(arg) ?? (await services.pickCheckpoint('Model Lens: Analyze Checkpoint'));
    return uri ? await run([uri.fsPath], { variants: [variantFromArg(arg)], focus: focusFromArg(arg) }) : undefined;
  });
  reg('modelLens.analyzeCheckpoint', async () => {
    const uri = await services.pickCheckpoint('Model Lens: Analyze Checkpoint');
    return uri ? await run([uri.fsPath]) : undefined;
  });
  reg('modelLens.compareWith', async (arg) => {
    const a = services.targetUri(arg) ?? (await services.pickCheckpoint('Model Lens: Compare — first checkpoint'));
    if (!a) return undefined;
    const b = await pickSecond(a);
    return b ? await run([a.fsPath, b.fsPath], { variants: [variantFromArg(arg)], focus: focusFromArg(arg) }) : undefined;
  });
  reg('modelLens.compareSelected', async (clicked, selected) => {
    const uris = (Array.isArray(selected) && selected.length > 0 ? selected : [clicked]).map((x) => services.targetUri(x)).filter((u): u is vscode.Uri => u !== undefined);
    if (uris.length === 1) {
      const b = await pickSecond(uris[0]!);
      return b ? await run([uris[0]!.fsPath, b.fsPath]) : undefined;
    }
    if (uris.length !== 2) {
      void vscode.window.showWarningMessage(`Compare Selected Checkpoints needs exactly two checkpoint files selected (got ${uris.length}).`);
      return undefined;
    }
    return await run([uris[0]!.fsPath, uris[1]!.fsPath]);
  });
  reg('modelLens.compareCheckpoints', async () => {
    const a = await services.pickCheckpoint('Model Lens: Compare — first checkpoint');
    if (!a) return undefined;
    const b = await pickSecond(a);
    return b ? await run([a.fsPath, b.fsPath]) : undefined;
  });
  reg('modelLens.exportAnalysis', async () => {
    const withResult = panels.all().filter((p) => p.result);
    let panel: AnalysisPanel | undefined = panels.active();
    if (!panel?.result) panel = undefined;
    if (!panel && withResult.length === 1) panel = withResult[0];
    if (!panel && withResult.length > 1) {
      const pick = await vscode.window.showQuickPick(
        withResult.map((p) => ({ label: p.panel.title, description: p.files.join('  ·  '), p })),
        { title: 'Model Lens: Export Analysis — which result?' },
      );
      panel = pick?.p;
      if (!pick) return;
    }
    if (!panel?.result) {
      void vscode.window.showInformationMessage('Model Lens: there is no analysis result to export yet. Run Analyze Checkpoint… first.');
      return;
    }
    const r = panel.result;
    const metricNames: Record<CsvMetric, string> = { attentionDistance: 'Attention distance', headDiversity: 'Head diversity', specialMass: 'Special-token mass', attentionEntropy: 'Attention entropy', cka: 'CKA (layer × layer)', crossCka: 'Cross-model CKA' };
    const ckaCharts: [ChartId, string][] = !hasCka(r.cka) ? [] : r.compare
      ? [['cka', 'CKA heatmap, model A'], ['cka-b', 'CKA heatmap, model B'], ['cross-cka', 'Cross-model CKA heatmap']]
      : [['cka', 'CKA heatmap']];
    const extraCharts: [ChartId, string][] = [...(r.specialMass ? [['special-mass', 'Special-token mass chart'] as [ChartId, string]] : []), ...(r.attentionEntropy ? [['attention-entropy', 'Attention entropy chart'] as [ChartId, string]] : [])];
    const charts: [ChartId, string][] = [['attention-distance', 'Attention distance chart'], ['head-diversity', 'Head diversity chart'], ...extraCharts, ...ckaCharts];
    type Item = vscode.QuickPickItem & { run: () => Promise<unknown> };
    const items: Item[] = [
      { label: '$(json) JSON', description: 'the full result, schema model-lens/analysis@1', run: () => panel!.saveExport({ format: 'json' }) },
      ...csvMetricsOf(r).map((m): Item => ({ label: `$(table) CSV — ${metricNames[m]}`, run: () => panel!.saveExport({ format: 'csv', metric: m }) })),
      ...charts.map(([id, label]): Item => ({
        label: `$(file-media) PNG — ${label}`,
        run: async () => {
          const png = await panel!.renderPng(id);
          return panel!.saveExport({ format: 'png', chart: id, dataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}` });
        },
      })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Model Lens: Export ${panel.panel.title}` });
    if (pick) await pick.run();
  });
  reg('modelLens.clearCache', async () => {
    services.headers.clear();
    const { entries, bytes } = await cache.clear();
    void vscode.window.showInformationMessage(`Model Lens: cleared ${entries} cached analysis result${entries === 1 ? '' : 's'} (${(bytes / 1024).toFixed(0)} KB) and the header cache.`);
  });

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(ANALYSIS_VIEW_TYPE, {
      async deserializeWebviewPanel(wp: vscode.WebviewPanel, state: unknown): Promise<void> {
        panels.restore(wp, state);
      },
    }),
  );
}
