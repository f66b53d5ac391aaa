// Renders the analysis bundle in headless Chromium, in the standalone report and in a simulated
// webview, and reads the chart data back to check it against the result JSON. Skipped when no
// Chromium is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderHtmlReport } from '../../src/analysis/htmlReport';
import type { AnalysisResult } from '../../src/analysis/resultSchema';
import { seriesColors } from '../../webview/analysisTheme';

const root = resolve(__dirname, '..', '..', '..');
const chromiumPath = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromiumPath);
// Loaded at run time, not bundled into the test (esbuild and playwright are native/large node packages).
const req = createRequire(join(root, 'package.json'));
const fixture = (name: string): AnalysisResult => JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', name), 'utf8')) as AnalysisResult;

interface Page {
  goto(url: string): Promise<unknown>;
  evaluate<T>(fn: string | ((arg: never) => T), arg?: unknown): Promise<T>;
  addInitScript(script: string): Promise<void>;
  on(event: string, cb: (x: { type?: () => string; text?: () => string; message?: string }) => void): void;
  click(selector: string): Promise<void>;
  close(): Promise<void>;
}
interface Browser {
  newPage(opts: Record<string, unknown>): Promise<Page>;
  close(): Promise<void>;
}

let bundleCache: string | undefined;
function bundle(): string {
  if (bundleCache === undefined) {
    const esbuild = req('esbuild') as { buildSync(o: Record<string, unknown>): { outputFiles: { text: string }[] } };
    const out = esbuild.buildSync({ entryPoints: [join(root, 'webview', 'analysisMain.ts')], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', write: false, logLevel: 'silent' });
    bundleCache = out.outputFiles[0]!.text;
  }
  return bundleCache;
}

async function withBrowser(fn: (b: Browser, dir: string) => Promise<void>): Promise<void> {
  const { chromium } = req('playwright-core') as { chromium: { launch(o: Record<string, unknown>): Promise<Browser> } };
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu', '--headless'] });
  const dir = mkdtempSync(join(tmpdir(), 'ml-render-'));
  try {
    await fn(browser, dir);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Polls `expr` with page.evaluate until it is truthy. Playwright's waitForFunction compiles a string
 * predicate inside the page, which the page's CSP (no 'unsafe-eval') can refuse; evaluate goes through
 * the devtools protocol and is not subject to it.
 */
async function waitUntil(page: Page, expr: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate<boolean>(`Boolean(${expr})`)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${expr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function openPage(b: Browser, html: string, dir: string, name: string, init?: string): Promise<{ page: Page; errors: string[] }> {
  const page = await b.newPage({ viewport: { width: 1000, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type?.() === 'error') errors.push(m.text?.() ?? '');
  });
  page.on('pageerror', (e) => errors.push(e.message ?? String(e)));
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective));`);
  if (init) await page.addInitScript(init);
  const file = join(dir, `${name}.html`);
  writeFileSync(file, html);
  await page.goto(`file://${file}`);
  await waitUntil(page, 'window.__modelLensView && window.__modelLensView.ready === true', 15000);
  return { page, errors };
}

interface ChartDump {
  type: string;
  datasets: { label: string; role?: string; series?: number; order?: number; color?: string; data: { x: number; y: number; v?: number; layer?: number; head?: number }[] }[];
  xTitle: string;
  yTitle: string;
  tickColor: string;
}

const DUMP = `(() => Object.fromEntries(Object.entries(window.__modelLensCharts).map(([id, c]) => [id, {
  type: c.config.type,
  datasets: c.data.datasets.map((d) => ({ label: d.label, role: d.mlRole, series: d.mlSeries, data: d.data, order: d.order, color: d.borderColor })),
  xTitle: c.options.scales.x.title.text, yTitle: c.options.scales.y.title.text,
  tickColor: String(c.options.scales.x.ticks.color),
}])))()`;

function checkMetric(dump: ChartDump, blocks: AnalysisResult['attentionDistance'][]): void {
  for (let s = 0; s < blocks.length; s++) {
    const b = blocks[s]!;
    const heads = dump.datasets.find((d) => d.role === 'heads' && d.series === s)!;
    const means = dump.datasets.find((d) => d.role === 'mean' && d.series === s)!;
    assert.equal(heads.data.length, b.perHead.flat().length);
    for (const p of heads.data) {
      assert.equal(p.y, b.perHead[p.layer! - 1]![p.head! - 1], `head point ${p.layer}/${p.head}`);
      assert.ok(Math.abs(p.x - p.layer!) < 0.5, 'dot sits on its layer');
    }
    assert.deepEqual(means.data.map((p) => p.y), b.perLayer);
    // Head dots are drawn over the layer-mean markers (chart.js draws lower orders last).
    assert.ok((heads.order ?? 0) < (means.order ?? 0), 'heads on top of the means');
    assert.deepEqual(means.data.map((p) => p.layer), b.perLayer.map((_, i) => i + 1));
  }
}

function checkMatrix(dump: ChartDump, m: number[][]): void {
  const cells = dump.datasets[0]!.data;
  assert.equal(cells.length, m.flat().length);
  for (const c of cells) assert.equal(c.v, m[c.y - 1]![c.x - 1]);
}

test('standalone report: chart data equals the JSON, axes titled, tooltips exact, no CSP errors', { skip: !haveChromium && `no Chromium at ${chromiumPath}` }, async () => {
  await withBrowser(async (b, dir) => {
    for (const name of ['vitb16-mim.json', 'vitb16-compare.json']) {
      const r = fixture(name);
      const { page, errors } = await openPage(b, renderHtmlReport(r, bundle(), { theme: 'light' }), dir, name);
      const dump = await page.evaluate<Record<string, ChartDump>>(DUMP);
      const ids = Object.keys(dump).sort();
      assert.deepEqual(ids, r.compare ? ['attention-distance', 'cka', 'cka-b', 'cross-cka', 'head-diversity'] : ['attention-distance', 'cka', 'head-diversity']);
      checkMetric(dump['attention-distance']!, r.compare ? [r.attentionDistance, r.compare.attentionDistance] : [r.attentionDistance]);
      checkMetric(dump['head-diversity']!, r.compare ? [r.headDiversity, r.compare.headDiversity] : [r.headDiversity]);
      checkMatrix(dump['cka']!, r.cka.matrix);
      if (r.compare) {
        checkMatrix(dump['cka-b']!, r.compare.cka.matrix);
        checkMatrix(dump['cross-cka']!, r.compare.crossCka);
        assert.equal(dump['cross-cka']!.xTitle, 'Layer of B');
        assert.equal(dump['cross-cka']!.yTitle, 'Layer of A');
      }
      assert.equal(dump['attention-distance']!.xTitle, 'Layer');
      assert.equal(dump['attention-distance']!.yTitle, 'Mean attention distance (px)');
      assert.equal(dump['head-diversity']!.yTitle, 'KL divergence (nats)');
      // Tooltip of one head dot and one heatmap cell, as chart.js renders them.
      const tips = await page.evaluate<string[][]>(`(() => {
        const out = [];
        for (const [id, ds, idx] of [['attention-distance', 0, 40], ['cka', 0, 13]]) {
          const c = window.__modelLensCharts[id];
          const el = c.getDatasetMeta(ds).data[idx];
          c.tooltip.setActiveElements([{ datasetIndex: ds, index: idx }], { x: el.x, y: el.y });
          c.update();
          out.push(c.tooltip.body.flatMap((b) => b.lines));
        }
        return out;
      })()`);
      const p = dump['attention-distance']!.datasets[0]!.data[40]!;
      assert.deepEqual(tips[0], [`Layer ${p.layer}, head ${p.head}: ${p.y.toFixed(3)} px`]);
      const cell = dump['cka']!.datasets[0]!.data[13]!;
      assert.deepEqual(tips[1], [`Layer ${cell.y} × Layer ${cell.x}: CKA = ${cell.v!.toFixed(4)}`]);
      // The table view carries the same numbers (2 decimals for px).
      const firstRow = await page.evaluate<string[]>(`Array.from(document.querySelector('#attention-distance table tbody tr').cells).map((c) => c.textContent)`);
      assert.deepEqual(firstRow, ['1', r.attentionDistance.perLayer[0]!.toFixed(2), ...r.attentionDistance.perHead[0]!.map((v) => v.toFixed(2))]);
      // Header texts are text, and warnings are visible.
      const callout = await page.evaluate<string>(`document.querySelector('.ml-callout').textContent`);
      assert.match(callout, r.compare ? /synthetic/i : /left out of CKA/);
      // PNG export of a chart is a real PNG.
      const png = await page.evaluate<string>(`window.__modelLensCharts['cka'].toBase64Image('image/png', 1)`);
      assert.ok(png.startsWith('data:image/png;base64,iVBORw0KGgo'));
      assert.deepEqual(errors, []);
      await page.close();
    }
  });
});

test('no batch of ≥ 4 images: the view says why CKA is missing instead of drawing empty heatmaps', { skip: !haveChromium && `no Chromium at ${chromiumPath}` }, async () => {
  await withBrowser(async (b, dir) => {
    const r = fixture('vitb16-compare.json');
    const nulls = (m: number[][]): number[][] => m.map((row) => row.map(() => null as unknown as number));
    r.cka = { ...r.cka, matrix: nulls(r.cka.matrix), batches: 0 };
    r.probe = { ...r.probe, count: 3, batchSize: 16 };
    r.compare = { ...r.compare!, cka: { ...r.compare!.cka, matrix: nulls(r.compare!.cka.matrix), batches: 0 }, crossCka: nulls(r.compare!.crossCka) };
    const { page, errors } = await openPage(b, renderHtmlReport(r, bundle(), { theme: 'light' }), dir, 'no-cka');
    const dump = await page.evaluate<Record<string, ChartDump>>(DUMP);
    assert.deepEqual(Object.keys(dump).sort(), ['attention-distance', 'head-diversity']);
    const text = await page.evaluate<string>(`document.querySelector('#cka .ml-cka-missing').textContent`);
    assert.match(text, /^CKA needs ≥ 4 images per batch/);
    assert.equal(await page.evaluate<number>(`document.querySelectorAll('#cka canvas, #cka table, #cross-cka').length`), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

test('theme changes re-read the colours; a hostile file name renders as text', { skip: !haveChromium && `no Chromium at ${chromiumPath}` }, async () => {
  await withBrowser(async (b, dir) => {
    const r = fixture('vitb16-mim.json');
    r.model.file = '/x/<img src=x onerror="window.__pwned=1">.pth';
    const { page, errors } = await openPage(b, renderHtmlReport(r, bundle(), { theme: 'dark' }), dir, 'theme');
    const before = (await page.evaluate<Record<string, ChartDump>>(DUMP))['cka']!.tickColor;
    await page.evaluate(`document.body.classList.replace('vscode-dark', 'vscode-light')`);
    await waitUntil(page, `String(window.__modelLensCharts['cka'].options.scales.x.ticks.color) !== ${JSON.stringify(before)}`, 5000);
    const after = (await page.evaluate<Record<string, ChartDump>>(DUMP))['cka']!.tickColor;
    assert.equal(before, '#d4d4d4');
    assert.equal(after, '#3b3b3b');
    // High-contrast light: models A and B in clearly different hues.
    await page.evaluate(`document.body.classList.replace('vscode-light', 'vscode-high-contrast-light')`);
    await waitUntil(page, `String(window.__modelLensCharts['cka'].options.scales.x.ticks.color) !== ${JSON.stringify(after)} || document.body.classList.contains('vscode-high-contrast-light')`, 5000);
    assert.deepEqual(seriesColors('high-contrast-light', '#0f4a85', '#0f4a85'), ['#0f4a85', '#b5200d']);
    assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
    assert.equal(await page.evaluate<number>(`document.querySelectorAll('img').length`), 0);
    assert.match(await page.evaluate<string>(`document.querySelector('h1').textContent`), /<img src=x/);
    assert.deepEqual(errors, []);
  });
});

test('webview mode: says ready, draws what the host shows, persists it, redraws from saved state, cancels', { skip: !haveChromium && `no Chromium at ${chromiumPath}` }, async () => {
  await withBrowser(async (b, dir) => {
    const r = fixture('vitb16-compare.json');
    const fakeApi = (saved: unknown): string => `
      window.__posted = []; window.__saved = ${JSON.stringify(saved ?? null)};
      window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__posted.push(m), getState: () => window.__saved ?? undefined, setState: (s) => { window.__saved = s; } });`;
    // The webview HTML has no embedded result; the bundle must wait for the host.
    const html = renderHtmlReport(r, bundle()).replace(/<script type="application\/json"[^]*?<\/script>/, '');
    const { page, errors } = await openPage(b, html, dir, 'webview', fakeApi(undefined));
    assert.deepEqual(await page.evaluate<unknown[]>('window.__posted'), [{ kind: 'note', method: 'analysisView/ready', params: {} }]);
    const running = { key: 'a\u0000b', files: ['a', 'b'], title: 'Compare', phase: 'running', progress: { done: 16, total: 64, stage: 'Running probe images' } };
    await page.evaluate(`window.postMessage(${JSON.stringify({ kind: 'note', method: 'analysisView/show', params: running })}, '*')`);
    await waitUntil(page, `document.querySelector('.ml-progress-label') && document.querySelector('.ml-progress-label').textContent.includes('16 / 64')`, 5000);
    await page.click('.ml-progress button');
    assert.deepEqual((await page.evaluate<unknown[]>('window.__posted')).at(-1), { kind: 'note', method: 'analysisView/cancel', params: {} });
    const done = { ...running, phase: 'done', result: r };
    delete (done as { progress?: unknown }).progress;
    await page.evaluate(`window.postMessage(${JSON.stringify({ kind: 'note', method: 'analysisView/show', params: done })}, '*')`);
    await waitUntil(page, `Object.keys(window.__modelLensCharts).length === 5`, 5000);
    const saved = await page.evaluate<{ v: number; view: { phase: string; result: unknown } }>('window.__saved');
    assert.equal(saved.v, 1);
    assert.equal(saved.view.phase, 'done');
    assert.deepEqual(saved.view.result, r);
    // A malformed show is ignored.
    await page.evaluate(`window.postMessage({ kind: 'note', method: 'analysisView/show', params: { phase: 'done', result: 42 } }, '*')`);
    assert.equal(await page.evaluate<number>('Object.keys(window.__modelLensCharts).length'), 5);
    // The Run card says CPU (device auto found no GPU) with the reason behind a disclosure; the synthetic
    // warning offers the fix as a button; the fallback is no warning.
    assert.equal(await page.evaluate<string>(`document.querySelector('.ml-device').textContent`), r.device.used === 'cpu' ? 'CPU' : r.device.used);
    assert.equal(await page.evaluate<boolean>(`!!document.querySelector('.ml-why') === ${JSON.stringify(!!r.device.fallbackReason)}`), true);
    assert.doesNotMatch(await page.evaluate<string>(`document.querySelector('.ml-callout').textContent`), /instead of auto/);
    await page.click('.ml-callout li .ml-btn.ml-primary');
    assert.deepEqual((await page.evaluate<unknown[]>('window.__posted')).at(-1), { kind: 'note', method: 'analysisView/command', params: { command: 'chooseProbeImages' } });
    // Show table brings the table into view.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.click('#head-diversity .ml-section-head .ml-btn');
    const tableInView = async (): Promise<boolean> => await page.evaluate<boolean>(`(() => { const t = document.querySelector('#head-diversity .ml-table-wrap'); const b = t.getBoundingClientRect(); return !t.classList.contains('ml-hidden') && b.top < innerHeight && b.bottom > 0; })()`);
    for (let i = 0; i < 100 && !(await tableInView()); i++) await new Promise((res) => setTimeout(res, 50));
    assert.ok(await tableInView(), 'the opened table is scrolled into view');
    // Errors use the inspector's card: title, problem, file/offset/code, hint, one primary action, Show log
    // once (and no Re-run in the top bar).
    const cases = [
      { error: { code: 'untrusted', message: 'Running a model needs a trusted workspace.' }, heading: 'Waiting for workspace trust', primary: 'Manage Workspace Trust', command: 'manageTrust' },
      { error: { code: 'truncated', message: 'a @ offset 77: file ends early', file: 'a', offset: 77 }, heading: 'Truncated file', primary: 'Open in Inspector', command: 'openInspector' },
      { error: { code: 'internal', message: 'boom' }, heading: 'The analysis failed', primary: 'Run again', command: undefined },
    ];
    for (const c of cases) {
      const failed = { ...running, phase: 'error', error: c.error };
      delete (failed as { progress?: unknown }).progress;
      await page.evaluate(`window.postMessage(${JSON.stringify({ kind: 'note', method: 'analysisView/show', params: failed })}, '*')`);
      await waitUntil(page, `document.querySelector('.ml-error h2') && document.querySelector('.ml-error h2').textContent === ${JSON.stringify(c.heading)}`, 5000);
      const buttons = await page.evaluate<string[]>(`Array.from(document.querySelectorAll('button')).map((b) => b.textContent)`);
      assert.deepEqual(buttons, [c.primary, 'Show log'], `${c.error.code}: buttons`);
      if (c.error.code === 'truncated') {
        assert.equal(await page.evaluate<string>(`document.querySelector('.ml-error-problem').textContent`), 'File ends early');
        assert.match(await page.evaluate<string>(`document.querySelector('.ml-error-facts').textContent`), /File\s*aByte offset\s*77 \(0x4d\)Error code\s*truncated/);
        assert.match(await page.evaluate<string>(`document.querySelector('.ml-error-hint').textContent`), /interrupted download/);
      }
      await page.click('.ml-error .ml-primary');
      const last = (await page.evaluate<unknown[]>('window.__posted')).at(-1);
      assert.deepEqual(last, c.command ? { kind: 'note', method: 'analysisView/command', params: { command: c.command } } : { kind: 'note', method: 'analysisView/rerun', params: {} });
    }
    assert.deepEqual(errors, []);
    await page.close();
    // Restored panel: draws from getState before (and without) any host message.
    const restored = await openPage(b, html, dir, 'restored', fakeApi(saved));
    const dump = await restored.page.evaluate<Record<string, ChartDump>>(DUMP);
    checkMatrix(dump['cross-cka']!, r.compare!.crossCka);
    assert.deepEqual(restored.errors, []);
  });
});

test('Swin compared with a ViT: ragged heads, stage marks and the per-stage uniform reference render, no errors', { skip: !haveChromium && `no Chromium at ${chromiumPath}` }, async () => {
  const r = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'swin', 'swin-vs-vit.result.json'), 'utf8')) as AnalysisResult;
  await withBrowser(async (b, dir) => {
    const { page, errors } = await openPage(b, renderHtmlReport(r, bundle(), { theme: 'dark' }), dir, 'swin');
    const dump = await page.evaluate<Record<string, ChartDump>>(DUMP);
    checkMetric(dump['attention-distance']!, [r.attentionDistance, r.compare!.attentionDistance]);
    checkMetric(dump['head-diversity']!, [r.headDiversity, r.compare!.headDiversity]);
    checkMatrix(dump['cross-cka']!, r.compare!.crossCka);
    const uniform = dump['attention-distance']!.datasets.filter((d) => d.role === 'uniform' && /uniform in window/.test(d.label));
    assert.equal(uniform.length, 1, 'only the Swin has a windowed reference');
    assert.deepEqual(uniform[0]!.data.filter((p) => p.y !== null).map((p) => p.y), r.model.stages!.flatMap((s) => [s.uniformDistance, s.uniformDistance]));
    assert.equal(dump['head-diversity']!.datasets.filter((d) => d.role === 'uniform').length, 0);
    const text = await page.evaluate<string>('document.body.textContent');
    assert.match(text, /3 · stage 2/);
    assert.match(text, /2×2 · 2×4 · 2×4/);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
