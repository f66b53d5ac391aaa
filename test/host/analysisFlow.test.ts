// The analysis commands and panels end to end under a stand-in vscode module and a scripted worker:
// one panel per checkpoint opened beside the code, progress forwarded, a second request joins the
// running job, Cancel (view or notification) ends it at once and frees the worker, cache hits, trust,
// exports through the validated view messages, and panel restore.
import { fakeContext, fakeVscode } from './fakeVscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerAnalysisCommands } from '../../src/host/analysisCommands';
import { CANCEL_GRACE_MS } from '../../src/host/workerHost';
import { ANALYSIS_PROGRESS, type AnalysisRunParams } from '../../src/protocol/workerProtocol';
import type { AnalysisResult } from '../../src/analysis/resultSchema';
import type { HostServices, ModelLensSettings } from '../../src/host/services';
import { toCsv } from '../../src/protocol/analysisExport';

const root = resolve(__dirname, '..', '..', '..');
const result = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', 'vitb16-mim.json'), 'utf8')) as AnalysisResult;
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** Waits (up to 2 s) until `cond` holds: the job reaches the worker after an async cache lookup. */
async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in 2 s');
    await tick(5);
  }
}

type Msg = { kind: string; method?: string; params?: unknown; id?: number; ok?: boolean; result?: unknown };

/** A webview panel whose "page" is the test: it reads what the host posts and answers as the view would. */
class FakePanel {
  posted: Msg[] = [];
  html = '';
  revealed = 0;
  disposed = false;
  visible = true;
  active = false;
  private receive: ((m: unknown) => void) | undefined;
  private disposeHandlers: (() => void)[] = [];
  readonly webview = {
    options: {} as Record<string, unknown>,
    cspSource: 'vscode-webview://fake',
    asWebviewUri: (u: { toString(): string }) => ({ toString: () => `vscode-webview://fake${u.toString().replace(/^file:\/\//, '')}` }),
    postMessage: async (m: unknown): Promise<boolean> => {
      this.posted.push(structuredClone(m) as Msg);
      return true;
    },
    onDidReceiveMessage: (h: (m: unknown) => void) => {
      this.receive = h;
      return { dispose: () => undefined };
    },
  };
  constructor(
    readonly viewType: string,
    public title: string,
    readonly showOptions: unknown,
  ) {
    Object.defineProperty(this.webview, 'html', { get: () => this.html, set: (v: string) => void (this.html = v) });
  }
  onDidDispose(h: () => void): { dispose(): void } {
    this.disposeHandlers.push(h);
    return { dispose: () => undefined };
  }
  onDidChangeViewState(): { dispose(): void } {
    return { dispose: () => undefined };
  }
  reveal(): void {
    this.revealed++;
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.disposeHandlers.forEach((h) => h());
  }
  /** The view sends a message (as raw as a real webview could). */
  send(m: unknown): void {
    this.receive?.(m);
  }
  /** The last `analysisView/show` state the host sent. */
  lastShow(): { phase: string; result?: AnalysisResult; error?: { code: string; message: string }; cached?: boolean; progress?: unknown } | undefined {
    const shows = this.posted.filter((m) => m.method === 'analysisView/show');
    return shows[shows.length - 1]?.params as never;
  }
}

interface Harness {
  panels: FakePanel[];
  commands: Map<string, (...a: unknown[]) => Promise<unknown>>;
  serializer: { deserializeWebviewPanel(p: unknown, s: unknown): Promise<void> } | undefined;
  runs: { params: AnalysisRunParams; signal: AbortSignal | undefined }[];
  restarts: string[];
  warnings: string[];
  progressCancel: (() => void)[];
  saveTarget: string | undefined;
  worker: { finish(r?: AnalysisResult): void; fail(e: Error): void; progress(done: number, total: number): void };
  trusted: boolean;
  dir: string;
  ckpt: string;
  done(): void;
}

/** `headsOverride` + `recorded`: the setting and the head count the checkpoint's header records. */
function setup(opts: { storage?: string; headsOverride?: number; recorded?: number; answer?: (message: string, options: { modal?: boolean; detail?: string }, ...items: string[]) => string | undefined } = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'ml-flow-'));
  const ckpt = join(dir, 'model.pth');
  writeFileSync(ckpt, 'weights');
  const h: Harness = {
    panels: [],
    commands: new Map(),
    serializer: undefined,
    runs: [],
    restarts: [],
    warnings: [],
    progressCancel: [],
    saveTarget: join(dir, 'export.out'),
    trusted: true,
    dir,
    ckpt,
    worker: undefined as never,
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
  const fv = fakeVscode as unknown as Record<string, Record<string, unknown>>;
  fv['window']!['createWebviewPanel'] = (viewType: string, title: string, showOptions: unknown) => {
    const p = new FakePanel(viewType, title, showOptions);
    h.panels.push(p);
    return p;
  };
  fv['window']!['withProgress'] = async (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) => {
    const token = { isCancellationRequested: false, onCancellationRequested: (cb: () => void) => (h.progressCancel.push(cb), { dispose: () => undefined }) };
    return task({ report: () => undefined }, token);
  };
  fv['window']!['showSaveDialog'] = async () => (h.saveTarget ? fakeVscode.Uri.file(h.saveTarget) : undefined);
  fv['window']!['registerWebviewPanelSerializer'] = (_t: string, s: Harness['serializer']) => {
    h.serializer = s;
    return { dispose: () => undefined };
  };
  fv['workspace']!['fs'] = { writeFile: async (u: { fsPath: string }, b: Uint8Array) => writeFileSync(u.fsPath, b) };
  fv['commands']!['registerCommand'] = (id: string, fn: (...a: unknown[]) => Promise<unknown>) => {
    h.commands.set(id, fn);
    return { dispose: () => undefined };
  };
  const noteHandlers = new Map<string, Set<(p: unknown) => void>>();
  let pending: { resolve: (r: AnalysisResult) => void; reject: (e: Error) => void; jobId: string } | undefined;
  h.worker = {
    finish: (r = result) => pending?.resolve(r),
    fail: (e) => pending?.reject(e),
    progress: (done, total) => noteHandlers.get(ANALYSIS_PROGRESS)?.forEach((f) => f({ jobId: pending?.jobId, phase: 'run', done, total })),
  };
  const settings: ModelLensSettings = { probeImagesFolder: undefined, probeCount: 64, batchSize: 16, device: 'auto', headsOverride: opts.headsOverride, cacheSizeLimitMB: 16 };
  fv['window']!['showWarningMessage'] = async (message: string, options: { modal?: boolean; detail?: string }, ...items: string[]) => opts.answer?.(message, options, ...items);
  const log = { info: () => undefined, warn: (m: string) => void h.warnings.push(m), error: () => undefined, show: () => undefined };
  const services = {
    context: undefined,
    log,
    headers: {
      clear: () => undefined,
      inspect: async () => ({ summary: { details: opts.recorded === undefined ? {} : { headsRecorded: { heads: opts.recorded, source: 'config' } } } }),
    },
    worker: {
      request: <T>(_m: string, params: unknown, signal?: AbortSignal): Promise<T> => {
        const p = params as AnalysisRunParams;
        h.runs.push({ params: p, signal });
        return new Promise<T>((resolve, reject) => {
          pending = { resolve: resolve as (r: AnalysisResult) => void, reject, jobId: p.jobId ?? '' };
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('Cancelled'), { code: 'cancelled' })));
        });
      },
      onNotification: (method: string, fn: (p: unknown) => void) => {
        const set = noteHandlers.get(method) ?? new Set();
        set.add(fn);
        noteHandlers.set(method, set);
        return { dispose: () => set.delete(fn) };
      },
      restart: (reason: string) => void h.restarts.push(reason),
    },
    settings: () => settings,
    requireTrust: () => h.trusted,
    targetUri: (arg: unknown) => (typeof arg === 'object' && arg !== null && 'uri' in arg ? (arg as { uri: unknown }).uri : arg),
    pickCheckpoint: async () => undefined,
    cachedAnalysis: async () => undefined,
  };
  const ctx = fakeContext(root);
  ctx.globalStorageUri = fakeVscode.Uri.file(opts.storage ?? join(dir, 'storage'));
  registerAnalysisCommands(ctx as never, services as unknown as HostServices);
  return h;
}

const analyze = (h: Harness): Promise<unknown> => h.commands.get('modelLens.analyze')!(fakeVscode.Uri.file(h.ckpt));

test('analyze: one panel beside the code, progress forwarded, result shown; asking again re-reveals it', async () => {
  const h = setup();
  try {
    const run = analyze(h);
    await until(() => h.runs.length === 1);
    assert.equal(h.panels.length, 1);
    const p = h.panels[0]!;
    assert.equal(p.viewType, 'modelLens.analysis');
    assert.deepEqual(p.showOptions, { viewColumn: fakeVscode.ViewColumn.Beside, preserveFocus: true });
    assert.equal(p.title, 'Analysis: model.pth');
    assert.match(p.html, /Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;nonce-/);
    assert.deepEqual(p.webview.options['enableScripts'], true);
    p.send({ kind: 'note', method: 'analysisView/ready', params: {} });
    assert.equal(p.lastShow()?.phase, 'running');
    assert.equal(h.runs.length, 1);
    assert.deepEqual({ ...h.runs[0]!.params, jobId: undefined }, { file: h.ckpt, batchSize: 16, device: 'auto', limit: 64, jobId: undefined });
    h.worker.progress(32, 64);
    assert.deepEqual(p.posted.at(-1), { kind: 'note', method: 'analysisView/progress', params: { done: 32, total: 64, stage: 'Running probe images' } });
    h.worker.finish();
    await run;
    assert.equal(p.lastShow()?.phase, 'done');
    assert.deepEqual(p.lastShow()?.result, result);
    await analyze(h);
    assert.equal(h.panels.length, 1, 'no second panel');
    assert.equal(p.revealed, 1);
    assert.equal(h.runs.length, 1, 'no second job');
  } finally {
    h.done();
  }
});

test('a second request while running joins the job; Cancel in the view ends it at once and frees the worker', async () => {
  const h = setup();
  try {
    const first = analyze(h);
    await until(() => h.runs.length === 1);
    const second = analyze(h);
    await tick(10);
    assert.equal(h.runs.length, 1, 'joined, not restarted');
    assert.equal(h.panels.length, 1);
    const p = h.panels[0]!;
    const t0 = Date.now();
    p.send({ kind: 'note', method: 'analysisView/cancel', params: {} });
    assert.equal(h.runs[0]!.signal?.aborted, true, 'the worker request is aborted synchronously');
    await Promise.all([first, second]);
    assert.ok(Date.now() - t0 < 200);
    assert.equal(p.lastShow()?.phase, 'cancelled');
    // The commands never kill the worker themselves: the worker client kills it only if it is still busy
    // with the cancelled run after the grace period (test/worker/workerProcess.test.ts), so it stays warm.
    await tick(CANCEL_GRACE_MS + 100);
    assert.deepEqual(h.restarts, []);
    // Re-run from the view starts a fresh job.
    p.send({ kind: 'note', method: 'analysisView/rerun', params: {} });
    await until(() => h.runs.length === 2);
    h.worker.finish();
    await until(() => p.lastShow()?.phase === 'done');
  } finally {
    h.done();
  }
});

test('Cancel on the progress notification cancels too; a worker error is shown in the panel', async () => {
  const h = setup();
  try {
    const run = analyze(h);
    await until(() => h.runs.length === 1);
    h.progressCancel.forEach((c) => c());
    await run;
    assert.equal(h.panels[0]!.lastShow()?.phase, 'cancelled');
    const again = analyze(h);
    await until(() => h.runs.length === 2);
    h.worker.fail(Object.assign(new Error('/x/model.pth: Swin is not analyzable yet'), { code: 'not-analyzable' }));
    await again;
    assert.deepEqual(h.panels[0]!.lastShow()?.error, { code: 'not-analyzable', message: '/x/model.pth: Swin is not analyzable yet' });
  } finally {
    h.done();
  }
});

test('results are cached: a fresh window shows the same result without running the model', async () => {
  const storage = mkdtempSync(join(tmpdir(), 'ml-flow-storage-'));
  const a = setup({ storage });
  try {
    const run = analyze(a);
    await until(() => a.runs.length === 1);
    a.worker.finish();
    await run;
    const b = setup({ storage });
    await b.commands.get('modelLens.analyze')!(fakeVscode.Uri.file(a.ckpt));
    assert.equal(b.runs.length, 0);
    assert.equal(b.panels[0]!.lastShow()?.phase, 'done');
    assert.equal(b.panels[0]!.lastShow()?.cached, true);
    b.done();
    await a.commands.get('modelLens.clearCache')!();
    const c = setup({ storage });
    const runC = c.commands.get('modelLens.analyze')!(fakeVscode.Uri.file(a.ckpt));
    await until(() => c.runs.length === 1);
    c.worker.finish();
    await runC;
    c.done();
  } finally {
    a.done();
    rmSync(storage, { recursive: true, force: true });
  }
});

test('untrusted workspace: the panel explains, nothing runs', async () => {
  const h = setup();
  try {
    h.trusted = false;
    await analyze(h);
    assert.equal(h.runs.length, 0);
    assert.equal(h.panels[0]!.lastShow()?.error?.code, 'untrusted');
  } finally {
    h.done();
  }
});

test('view messages: invalid ones are dropped; export CSV/JSON/PNG go through the save dialog', async () => {
  const h = setup();
  try {
    const run = analyze(h);
    await until(() => h.runs.length === 1);
    h.worker.finish();
    await run;
    const p = h.panels[0]!;
    const before = p.posted.length;
    p.send({ kind: 'note', method: 'analysis/run', params: { file: '/etc/passwd' } });
    p.send({ kind: 'req', id: 1, method: 'analysisView/export', params: { format: 'csv', metric: '__proto__' } });
    await tick(10);
    assert.equal(p.posted.length, before, 'nothing answered');
    assert.equal(h.warnings.length, 2);
    p.send({ kind: 'req', id: 2, method: 'analysisView/export', params: { format: 'csv', metric: 'headDiversity' } });
    await tick(20);
    assert.deepEqual(p.posted.at(-1), { kind: 'res', id: 2, ok: true, result: { saved: true, path: h.saveTarget } });
    assert.equal(readFileSync(h.saveTarget!, 'utf8'), toCsv(result, 'headDiversity'));
    p.send({ kind: 'req', id: 3, method: 'analysisView/export', params: { format: 'json' } });
    await tick(20);
    assert.deepEqual(JSON.parse(readFileSync(h.saveTarget!, 'utf8')), result);
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    p.send({ kind: 'req', id: 4, method: 'analysisView/export', params: { format: 'png', chart: 'cka', dataUrl: `data:image/png;base64,${png}` } });
    await tick(20);
    assert.deepEqual(readFileSync(h.saveTarget!), Buffer.from(png, 'base64'));
    h.saveTarget = undefined; // the user closes the dialog
    p.send({ kind: 'req', id: 5, method: 'analysisView/export', params: { format: 'json' } });
    await tick(20);
    assert.deepEqual(p.posted.at(-1), { kind: 'res', id: 5, ok: true, result: { saved: false } });
  } finally {
    h.done();
  }
});

test('restore after reload: a saved result is adopted without running; garbage state closes the panel', async () => {
  const h = setup();
  try {
    const restored = new FakePanel('modelLens.analysis', 'old', undefined);
    await h.serializer!.deserializeWebviewPanel(restored, { v: 1, view: { key: 'x', files: [h.ckpt], title: 'x', phase: 'done', result } });
    assert.equal(restored.disposed, false);
    assert.equal(restored.title, 'Analysis: model.pth');
    assert.match(restored.html, /<script nonce="[^"]+" src="vscode-webview:\/\/fake[^"]*\/dist\/webview\/analysis\.js"><\/script>/);
    restored.send({ kind: 'note', method: 'analysisView/ready', params: {} });
    assert.deepEqual(restored.lastShow()?.result, result);
    // Analyze on the same file now reveals the restored panel.
    await analyze(h);
    assert.equal(h.runs.length, 0);
    assert.equal(restored.revealed, 1);
    const junk = new FakePanel('modelLens.analysis', 'old', undefined);
    await h.serializer!.deserializeWebviewPanel(junk, { v: 1, view: { files: 'nope' } });
    assert.equal(junk.disposed, true);
  } finally {
    h.done();
  }
});

test('Export Analysis… from the palette: the view renders the PNG on request, the host saves it', async () => {
  const h = setup();
  try {
    const run = analyze(h);
    await until(() => h.runs.length === 1);
    h.worker.finish();
    await run;
    const p = h.panels[0]!;
    p.send({ kind: 'note', method: 'analysisView/ready', params: {} });
    const fv = fakeVscode as unknown as Record<string, Record<string, unknown>>;
    let offered: string[] = [];
    fv['window']!['showQuickPick'] = async (items: { label: string }[]) => {
      offered = items.map((i) => i.label);
      return items.find((i) => i.label.includes('PNG — CKA heatmap'));
    };
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
    const exported = h.commands.get('modelLens.exportAnalysis')!();
    await until(() => p.posted.some((m) => m.method === 'analysisView/renderPng'));
    const req = p.posted.find((m) => m.method === 'analysisView/renderPng')!;
    assert.deepEqual(req.params, { chart: 'cka' });
    p.send({ kind: 'res', id: req.id, ok: true, result: { dataUrl: `data:image/png;base64,${png}` } });
    await exported;
    assert.deepEqual(readFileSync(h.saveTarget!), Buffer.from(png, 'base64'));
    assert.deepEqual(offered.map((l) => l.replace(/^\$\([a-z-]+\) /, '')), [
      'JSON',
      'CSV — Attention distance',
      'CSV — Head diversity',
      'CSV — CKA (layer × layer)',
      'PNG — Attention distance chart',
      'PNG — Head diversity chart',
      'PNG — CKA heatmap',
    ]);
  } finally {
    h.done();
  }
});

test('the weight variant chosen in the inspector reaches the worker, names the panel, keys panel and cache, survives Run again', async () => {
  const h = setup();
  try {
    const ema = h.commands.get('modelLens.analyze')!({ uri: fakeVscode.Uri.file(h.ckpt), variant: 'ema' });
    await until(() => h.runs.length === 1);
    assert.equal(h.runs[0]!.params.variant, 'ema');
    const pe = h.panels[0]!;
    assert.equal(pe.title, 'Analysis: model.pth [ema]');
    h.worker.finish();
    await ema;

    // The default weight set is another analysis: its own panel and job.
    const plain = analyze(h);
    await until(() => h.runs.length === 2);
    assert.equal(h.runs[1]!.params.variant, undefined);
    assert.equal(h.panels.length, 2);
    assert.equal(h.panels[1]!.title, 'Analysis: model.pth');
    h.worker.finish();
    await plain;

    // Run again in the EMA panel re-runs the EMA weights (bypassing the cache).
    pe.send({ kind: 'note', method: 'analysisView/rerun', params: {} });
    await until(() => h.runs.length === 3);
    assert.equal(h.runs[2]!.params.variant, 'ema');
    h.worker.finish();
    await until(() => pe.lastShow()?.phase === 'done');

    // Closing both panels and asking again: each variant's result comes from its own cache entry.
    pe.dispose();
    h.panels[1]!.dispose();
    await h.commands.get('modelLens.analyze')!({ uri: fakeVscode.Uri.file(h.ckpt), variant: 'ema' });
    await analyze(h);
    assert.equal(h.runs.length, 3, 'both served from the cache');
    assert.equal(h.panels[2]!.title, 'Analysis: model.pth [ema]');
    assert.equal(h.panels[2]!.lastShow()?.cached, true);
    assert.equal(h.panels[3]!.lastShow()?.cached, true);
  } finally {
    h.done();
  }
});


test('first hour: Analyze from the inspector focuses the view; a file error carries file and offset; the card’s actions run the right command; exports offer Open/Reveal', async () => {
  const h = setup();
  const fv = fakeVscode as unknown as Record<string, Record<string, unknown>>;
  const executed: { id: string; args: unknown[] }[] = [];
  const shown: { text: string; items: string[] }[] = [];
  const prevExec = fv['commands']!['executeCommand'];
  const prevInfo = fv['window']!['showInformationMessage'];
  fv['commands']!['executeCommand'] = async (id: string, ...args: unknown[]) => void executed.push({ id, args });
  fv['window']!['showInformationMessage'] = async (text: string, ...items: string[]) => {
    shown.push({ text, items });
    return items.includes('Open') ? 'Open' : undefined;
  };
  try {
    // The inspector passes { uri, focus: true }: the panel takes focus. From elsewhere it opens beside, keeping focus.
    const run = h.commands.get('modelLens.analyze')!({ uri: fakeVscode.Uri.file(h.ckpt), focus: true });
    await until(() => h.runs.length === 1);
    assert.deepEqual(h.panels[0]!.showOptions, { viewColumn: fakeVscode.ViewColumn.Beside, preserveFocus: false });
    h.worker.fail(Object.assign(new Error(`${h.ckpt} @ offset 1234: file ends inside tensor data`), { code: 'truncated', file: h.ckpt, offset: 1234 }));
    await run;
    const p = h.panels[0]!;
    assert.deepEqual(p.lastShow()?.error, { code: 'truncated', message: `${h.ckpt} @ offset 1234: file ends inside tensor data`, file: h.ckpt, offset: 1234 });
    // The card's primary action opens the failing checkpoint in the inspector; unknown commands are dropped.
    p.send({ kind: 'note', method: 'analysisView/command', params: { command: 'openInspector' } });
    p.send({ kind: 'note', method: 'analysisView/command', params: { command: 'workbench.action.terminal.new' } });
    p.send({ kind: 'note', method: 'analysisView/command', params: { command: 'chooseProbeImages' } });
    await tick(10);
    assert.deepEqual(executed.map((e) => e.id), ['modelLens.openInInspector', 'modelLens.chooseProbeImages']);
    assert.equal((executed[0]!.args[0] as { fsPath: string }).fsPath, h.ckpt);
    assert.equal(h.warnings.length, 1, 'the unknown command was logged and dropped');
    // A successful run's CSV export: the notification names the file and offers Open / Reveal.
    const again = h.commands.get('modelLens.analyze')!(fakeVscode.Uri.file(h.ckpt));
    await until(() => h.runs.length === 2);
    h.worker.finish();
    await again;
    executed.length = 0;
    p.send({ kind: 'req', id: 7, method: 'analysisView/export', params: { format: 'csv', metric: 'attentionDistance' } });
    await tick(30);
    assert.deepEqual(shown.at(-1), { text: 'Model Lens: exported export.out', items: ['Open', 'Reveal'] });
    assert.equal(executed[0]?.id, 'vscode.open');
    assert.equal((executed[0]!.args[0] as { fsPath: string }).fsPath, h.saveTarget);
  } finally {
    fv['commands']!['executeCommand'] = prevExec;
    fv['window']!['showInformationMessage'] = prevInfo;
    h.done();
  }
});

test('heads override contradicting the checkpoint: a modal asks; force, recorded count, or nothing runs', async () => {
  const asked: { message: string; options: { modal?: boolean; detail?: string }; items: string[] }[] = [];
  for (const [choice, expect] of [
    ['Analyze with 8 Heads', { heads: 8, headsForce: true }],
    ['Use the Recorded 12', { heads: undefined, headsForce: undefined }],
  ] as const) {
    const h = setup({ headsOverride: 8, recorded: 12, answer: (message, options, ...items) => (asked.push({ message, options, items }), choice) });
    try {
      const run = analyze(h);
      await until(() => h.runs.length === 1);
      assert.equal(h.runs[0]!.params.heads, expect.heads);
      assert.equal(h.runs[0]!.params.headsForce, expect.headsForce);
      h.worker.finish();
      await run;
    } finally {
      h.done();
    }
  }
  assert.equal(asked.length, 2);
  assert.equal(asked[0]!.options.modal, true);
  assert.match(asked[0]!.message, /model\.pth records 12 heads \(config\), but the setting Model Lens: Heads Override says 8/);
  assert.deepEqual(asked[0]!.items, ['Use the Recorded 12', 'Analyze with 8 Heads']);

  // Dismissed: no job, and the panel opened for it is closed again.
  const h = setup({ headsOverride: 8, recorded: 12, answer: () => undefined });
  try {
    assert.equal(await analyze(h), undefined);
    assert.equal(h.runs.length, 0);
    assert.equal(h.panels[0]?.disposed, true);
  } finally {
    h.done();
  }
  // No conflict (the file records 8, or nothing): no question, the override goes to the worker as before.
  for (const recorded of [8, undefined]) {
    const q = setup({ headsOverride: 8, recorded, answer: () => assert.fail('no question expected') });
    try {
      const run = analyze(q);
      await until(() => q.runs.length === 1);
      assert.equal(q.runs[0]!.params.heads, 8);
      assert.equal(q.runs[0]!.params.headsForce, undefined);
      q.worker.finish();
      await run;
    } finally {
      q.done();
    }
  }
});
