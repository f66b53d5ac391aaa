// The user journeys of issue 5 §1 (a)–(h), in a real VS Code (code-server) with the packaged VSIX
// installed by `--install-extension`, driven by headless Chromium. One server and one page serve
// every journey; each journey starts from a clean workbench and saves a screenshot.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import {
  canvasStats, cleanupScratch, e2eInputs, explorerContextMenu, frameText, installVsix, launchBrowser, notificationsText, openWorkbench,
  pickQuickItem, poll, resetWorkbench, runCommand, screenshot, scratchDir, sleep, startCodeServer, webviewFrame, applyWorkspaceSettings,
  type CodeServer,
} from './harness';
import { makeWorkspace, modelLensSettings, repoRoot, type Workspace } from './workspace';

const { codeServerEntry, vsix } = e2eInputs();
const JOURNEY_MS = 240_000;

const TIMM = 'vit_tiny_patch8_32.pth';
const MAE = 'mae_pretrain_vit_tiny_patch8.pth';
const BIG = 'torchvision_vit_d128.pth';
const DEMO_MIM = 'mim_vit.pth';
const DEMO_SUP = 'sup_vit.safetensors';
const demoPresent = existsSync(join(repoRoot, 'demo', 'checkpoints', DEMO_MIM)) && existsSync(join(repoRoot, 'demo', 'checkpoints', DEMO_SUP));

interface Ref {
  attentionDistance: { perLayer: number[] };
  headDiversity: { perLayer: number[] };
  cka: { matrix: number[][] };
  crossCka?: number[][];
}

let scratch = '';
let ws: Workspace;
let server: CodeServer;
let ctx: BrowserContext;
let page: Page;

/** test/fixtures/bad/manifest.json: hostile files (with their canary) and corrupt ones (with the expected error). */
interface BadEntry {
  file: string;
  canary?: string;
  expectOpen?: { findings: { severity: string; module?: string; name?: string }[] };
  expectError?: { code: string; messageIncludes: string; offset?: number };
}
let badManifest: BadEntry[] = [];

before(async () => {
  scratch = scratchDir('journeys');
  ws = makeWorkspace(join(scratch, 'workspace'), [TIMM, `./${MAE}`, 'hf_vit_p14/model.safetensors', 'missing/never_saved.pth']);
  const extensionsDir = join(scratch, 'extensions');
  installVsix(codeServerEntry, vsix, extensionsDir, scratch);
  const installed = readdirSync(extensionsDir).filter((d) => d.startsWith('model-lens.model-lens'));
  assert.equal(installed.length, 1, `the VSIX did not install into ${extensionsDir}: ${readdirSync(extensionsDir).join(', ')}`);
  server = await startCodeServer({ entry: codeServerEntry, extensionsDir, folder: ws.dir, scratch, trust: true, settings: modelLensSettings });
  ctx = await launchBrowser(scratch);
  page = await openWorkbench(ctx, server, ws.dir);
  badManifest = (JSON.parse(readFileSync(join(ws.dir, 'bad', 'manifest.json'), 'utf8')) as { files: BadEntry[] }).files;
});

after(async () => {
  await ctx?.close().catch(() => undefined);
  await server?.stop();
  if (scratch) cleanupScratch(scratch);
});

function ref(name: string): Ref {
  return JSON.parse(readFileSync(join(ws.dir, 'refs', name), 'utf8')) as Ref;
}

/** Table cells of the first `.ml-table` whose caption matches, as numbers (row-major, header row skipped). */
async function tableNumbers(f: Frame, caption: RegExp): Promise<number[][]> {
  return await f.evaluate((src) => {
    const re = new RegExp(src, 'i');
    for (const t of Array.from(document.querySelectorAll('table'))) {
      if (!re.test(t.caption?.textContent ?? '')) continue;
      return Array.from(t.tBodies[0]?.rows ?? []).map((r) => Array.from(r.cells).slice(1).map((c) => Number((c.textContent ?? '').replace(/[^\d.eE+-]/g, ''))));
    }
    return [];
  }, caption.source);
}

/** Waits until every named chart canvas shows plotted data (saturated pixels, not only grey axes). */
async function chartsDrawn(f: Frame, ids: string[]): Promise<Record<string, { saturated: number; drawn: number }>> {
  return await poll(`charts ${ids.join(', ')} with plotted values`, async () => {
    const stats = await f.evaluate((wanted) => {
      const out: Record<string, { saturated: number; drawn: number; w: number; h: number }> = {};
      for (const id of wanted) {
        const c = document.querySelector(`canvas[data-chart="${id}"]`);
        if (!(c instanceof HTMLCanvasElement)) continue;
        const s = { saturated: 0, drawn: 0, w: c.width, h: c.height };
        if (c.width > 0 && c.height > 0) {
          const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3]! < 16) continue;
            s.drawn++;
            if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 60) s.saturated++;
          }
        }
        out[id] = s;
      }
      return out;
    }, ids);
    const ok = ids.every((id) => (stats[id]?.saturated ?? 0) > 150 && (stats[id]?.w ?? 0) > 100);
    if (!ok) throw new Error(`not yet: ${JSON.stringify(stats)}`);
    return stats;
  }, 30_000, 500);
}

/** Value of a `<dt>label</dt><dd>value</dd>` row in the frame. */
async function dlValue(f: Frame, label: string): Promise<string> {
  return await f.evaluate((l) => {
    for (const dt of Array.from(document.querySelectorAll('dt'))) {
      if ((dt.textContent ?? '').trim() === l) return (dt.nextElementSibling?.textContent ?? '').trim();
    }
    return '';
  }, label);
}

function assertClose(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: shown ${actual}, PyTorch reference ${expected}`);
}

/** A journey: a node:test test with a timeout that leaves `<id>-FAILED.png` behind when it fails. */
function journey(id: string, title: string, fn: () => Promise<void>): void {
  test(title, { timeout: JOURNEY_MS }, async () => {
    try {
      await fn();
    } catch (e) {
      await screenshot(page, `${id}-FAILED`).catch(() => undefined);
      throw e;
    }
  });
}

/** Gives the analysis view the whole editor area and scrolls it to a chart section, for the picture. */
async function frameCharts(f: Frame, sectionId: string): Promise<void> {
  await runCommand(page, 'View: Single Column Editor Layout').catch(() => undefined);
  await f.evaluate((id) => document.getElementById(id)?.scrollIntoView({ block: 'start' }), sectionId);
  await sleep(800); // chart.js resize + animation settle before the picture
}

/** Runs "Analyze Attention & CKA" from the Explorer on `file` and returns the finished analysis view. */
async function analyzeFromExplorer(file: string): Promise<Frame> {
  await explorerContextMenu(page, file, 'Analyze Attention & CKA');
  return await webviewFrame(page, /Average attention distance[\s\S]*Attention head diversity/, 120_000);
}

journey('d', '(d) hover over a checkpoint path in train.py shows architecture and params (first: a fresh window)', async () => {
  await resetWorkbench(page);
  await runCommand(page, 'Go to File...');
  await pickQuickItem(page, 'train.py');
  const token = page.locator('.monaco-editor .view-line span', { hasText: TIMM }).first();
  await token.waitFor({ timeout: 30_000 });
  // Only the editor's content hover that Model Lens filled (a tooltip elsewhere must not count).
  const hover = page.locator('.monaco-editor .monaco-hover:visible, .monaco-hover:visible', { hasText: 'Model Lens' }).first();
  const text = await poll('the Model Lens hover', async () => {
    await page.mouse.move(700, 700); // an empty part of the editor: closes any hover
    await sleep(200);
    const box = await token.boundingBox();
    if (!box) return undefined;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await hover.waitFor({ timeout: 4000 });
    const t = await hover.innerText();
    return /timm|ViT/i.test(t) ? t : undefined;
  }, 60_000, 500);
  await sleep(600); // the hover fades in
  await screenshot(page, 'd-hover');
  assert.match(text, /67[.,]?[56]\d*\s*K|67,594|67 594/, `params in the hover: ${text}`);
  assert.match(text, /3\s*×\s*3|3 layers/i, `layers×heads in the hover: ${text}`);
});

journey('a', '(a) Explorer › Open in Model Lens: the inspector shows the architecture and tensor count', async () => {
  await resetWorkbench(page);
  await explorerContextMenu(page, TIMM, 'Open in Model Lens');
  const f = await webviewFrame(page, /Tensors/, 60_000);
  const text = await poll('the inspector summary', async () => {
    const t = await frameText(f);
    return /Architecture/.test(t) && /Parameters/.test(t) ? t : undefined;
  }, 30_000);
  await screenshot(page, 'a-inspector');
  assert.match(await dlValue(f, 'Architecture'), /timm|ViT/i, `architecture row: ${text.slice(0, 600)}`);
  assert.match(await dlValue(f, 'Tensors'), /^44\b/, 'tensor count of the timm fixture is 44');
  assert.match(text, /3\s*(layers|×)/i, 'layers of the timm fixture');
  assert.match(text, /67[.,]?[56]\d*\s*K|67,594|67 594/, 'parameter count 67,594');
});

journey('b', '(b) Explorer › Analyze Attention & CKA: three charts with plotted values, device CPU', async () => {
  await resetWorkbench(page);
  const f = await analyzeFromExplorer(TIMM);
  const stats = await chartsDrawn(f, ['attention-distance', 'head-diversity', 'cka']);
  await frameCharts(f, 'attention-distance');
  await screenshot(page, 'b-analysis');
  await frameCharts(f, 'cka');
  await screenshot(page, 'b-analysis-cka');
  console.log(`# (b) chart pixels: ${JSON.stringify(stats)}`);
  assert.match(await dlValue(f, 'Device'), /^cpu\b/i, 'the device line must read CPU on this machine');
  // The plotted numbers are the model's: the table view against the PyTorch float64 reference.
  const r = ref('vit_tiny_patch8_32.ref.json');
  const ad = await tableNumbers(f, /attention distance/);
  assert.equal(ad.length, r.attentionDistance.perLayer.length, 'one table row per layer');
  ad.forEach((row, l) => assertClose(row[0]!, r.attentionDistance.perLayer[l]!, 0.01, `attention distance layer ${l + 1}`));
  const hd = await tableNumbers(f, /head diversity/);
  hd.forEach((row, l) => assertClose(row[0]!, r.headDiversity.perLayer[l]!, 0.002 + 1e-3 * r.headDiversity.perLayer[l]!, `head diversity layer ${l + 1}`));
  const cka = await tableNumbers(f, /CKA between layers/);
  cka.forEach((row, i) => row.forEach((v, j) => assertClose(v, r.cka.matrix[i]![j]!, 0.003, `CKA[${i + 1}][${j + 1}]`)));
});

journey('c', '(c) compare two checkpoints: comparison and cross-CKA charts render', async () => {
  await resetWorkbench(page);
  await explorerContextMenu(page, TIMM, 'Compare Selected Checkpoints', { ctrlClickAlso: MAE });
  const f = await webviewFrame(page, /Cross-model CKA/, 120_000);
  const stats = await chartsDrawn(f, ['attention-distance', 'head-diversity', 'cka', 'cka-b', 'cross-cka']);
  await frameCharts(f, 'attention-distance');
  await screenshot(page, 'c-compare');
  await frameCharts(f, 'cross-cka');
  await screenshot(page, 'c-compare-cross-cka');
  console.log(`# (c) chart pixels: ${JSON.stringify(stats)}`);
  const cross = ref('cross_vit_tiny_patch8_32__mae_pretrain_vit_tiny_patch8.ref.json') as unknown as { crossCka?: number[][]; matrix?: number[][] };
  const expected = cross.crossCka ?? cross.matrix;
  const shown = await tableNumbers(f, /CKA between layers of/);
  if (expected) {
    assert.equal(shown.length, expected.length, 'cross-CKA rows = layers of A');
    shown.forEach((row, i) => row.forEach((v, j) => assertClose(v, expected[i]![j]!, 0.003, `cross-CKA[${i + 1}][${j + 1}]`)));
  } else {
    assert.ok(shown.length > 0, 'cross-CKA table is empty');
  }
});

journey('e', '(e) a hostile pickle: the security finding shows and no canary appears', async () => {
  const hostile = badManifest.filter((b) => b.canary !== undefined && b.expectOpen !== undefined && ws.bad.includes(b.file));
  assert.ok(hostile.length > 0, 'test/fixtures/bad/manifest.json lists no hostile pickle with a canary');
  for (const b of hostile) rmSync(b.canary!, { force: true });
  for (const b of hostile) {
    await resetWorkbench(page);
    await runCommand(page, 'Go to File...');
    await pickQuickItem(page, b.file);
    const f = await webviewFrame(page, /finding|dangerous/i, 60_000);
    const text = await poll(`the findings of ${b.file}`, async () => {
      const t = await frameText(f);
      return /dangerous|danger/i.test(t) ? t : undefined;
    }, 20_000);
    for (const fd of b.expectOpen!.findings.filter((x) => x.severity === 'danger' && x.module)) {
      assert.ok(text.includes(`${fd.module}.${fd.name}`) || (text.includes(fd.module!) && text.includes(fd.name!)), `${b.file}: finding ${fd.module}.${fd.name} not shown`);
    }
    if (b === hostile[0]) await screenshot(page, 'e-hostile');
  }
  await sleep(1000);
  for (const b of hostile) assert.ok(!existsSync(b.canary!), `canary ${b.canary} exists: something in ${b.file} ran`);
  console.log(`# (e) hostile files opened: ${hostile.map((b) => b.file).join(', ')}; no canary appeared`);
});

journey('g', '(g) a corrupt file: a clear error, and the editor stays usable', async () => {
  await resetWorkbench(page);
  const corrupt = badManifest.find((b) => b.file === 'zip-truncated-central-dir.pth' && ws.bad.includes(b.file)) ?? badManifest.find((b) => b.expectError?.offset !== undefined && ws.bad.includes(b.file));
  assert.ok(corrupt?.expectError, 'test/fixtures/bad/manifest.json lists no corrupt file');
  await runCommand(page, 'Go to File...');
  await pickQuickItem(page, corrupt.file);
  const f = await webviewFrame(page, new RegExp(corrupt.expectError.messageIncludes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'), 60_000);
  const text = await frameText(f);
  await screenshot(page, 'g-corrupt');
  assert.ok(text.includes(corrupt.file), `the error names the file: ${text.slice(0, 500)}`);
  if (corrupt.expectError.offset !== undefined) assert.ok(text.includes(String(corrupt.expectError.offset)), `the error names offset ${corrupt.expectError.offset}: ${text.slice(0, 500)}`);
  // Still usable: a text editor takes input, and a good checkpoint opens next to it.
  // Quick Open can lose the pick while the failed custom editor still holds focus: retry until the text
  // editor is there.
  const editor = page.locator('.monaco-editor .view-lines').first();
  await poll('train.py in a text editor', async () => {
    if (await editor.isVisible().catch(() => false)) return true;
    await page.keyboard.press('Escape');
    await runCommand(page, 'Go to File...');
    await pickQuickItem(page, 'train.py');
    return await editor.isVisible().catch(() => false) ? true : undefined;
  }, 60_000, 2000);
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('# still usable');
  await page.locator('.monaco-editor .view-line', { hasText: '# still usable' }).first().waitFor({ timeout: 10_000 });
  await runCommand(page, 'File: Revert File');
  await explorerContextMenu(page, TIMM, 'Open in Model Lens');
  await webviewFrame(page, /Tensors/, 60_000);
});

journey('f', '(f) start an analysis and cancel it; the next analysis works', async () => {
  await resetWorkbench(page);
  // A long job: many synthetic probes (the bundled photographs are only 64) through the largest fixture.
  await applyWorkspaceSettings(page, ws.dir, { 'modelLens.probeImagesFolder': 'synthetic', 'modelLens.probeCount': 100000, 'modelLens.batchSize': 16 });
  await explorerContextMenu(page, BIG, 'Analyze Attention & CKA');
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: /analy/i }).first();
  await toast.waitFor({ timeout: 60_000 });
  const cancel = toast.locator('.monaco-button, a.monaco-button', { hasText: 'Cancel' }).first();
  await cancel.waitFor({ timeout: 30_000 });
  await sleep(1500); // let a few batches run
  await screenshot(page, 'f-running');
  const t0 = Date.now();
  await cancel.click();
  await toast.waitFor({ state: 'hidden', timeout: 10_000 });
  const toastMs = Date.now() - t0;
  // The job itself has stopped when the view says so (the worker answered the cancel).
  await webviewFrame(page, /Analysis cancelled/i, 20_000);
  const cancelMs = Date.now() - t0;
  console.log(`# (f) after Cancel: notification gone in ${toastMs} ms, view shows "cancelled" after ${cancelMs} ms`);
  await screenshot(page, 'f-cancelled');
  assert.ok(cancelMs < 3000, `cancel took ${cancelMs} ms`);
  // Then a new analysis works (cache cleared, so it really runs).
  await applyWorkspaceSettings(page, ws.dir, {});
  await runCommand(page, 'Model Lens: Clear Analysis Cache');
  await resetWorkbench(page);
  const g = await analyzeFromExplorer(TIMM);
  await chartsDrawn(g, ['attention-distance', 'head-diversity', 'cka']);
  await frameCharts(g, 'attention-distance');
  await screenshot(page, 'f-after-cancel');
  const notes = await notificationsText(page);
  assert.ok(!/error|failed/i.test(notes), `notifications after the re-run: ${notes}`);
});

journey('h', '(h) dark theme: the analysis view again', async () => {
  await resetWorkbench(page);
  await applyWorkspaceSettings(page, ws.dir, { 'workbench.colorTheme': 'Default Dark Modern' });
  await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: 20_000 });
  const f = await analyzeFromExplorer(TIMM);
  await chartsDrawn(f, ['attention-distance', 'head-diversity', 'cka']);
  const dark = await f.evaluate(() => document.body.classList.contains('vscode-dark'));
  assert.ok(dark, 'the webview body carries vscode-dark');
  await frameCharts(f, 'attention-distance');
  await screenshot(page, 'h-analysis-dark');
  await frameCharts(f, 'cka');
  await screenshot(page, 'h-analysis-dark-cka');
  // Chart text follows the theme: the canvas must not still be painted for a light background.
  const stats = await canvasStats(f);
  assert.ok(stats.length >= 3, 'three charts in the dark view');
  await applyWorkspaceSettings(page, ws.dir, {});
});

// Not one of (a)–(h): the README's picture (docs/analysis-view.png is copied from it), the shipped MIM vs
// supervised demo pair on the demo probes when demo/ has them (else the two fixtures), in a tall window
// so every chart is in view.
test('README screenshot: a comparison, tall window', { timeout: JOURNEY_MS }, async () => {
  await resetWorkbench(page);
  const [a, b] = demoPresent ? [DEMO_MIM, DEMO_SUP] : [TIMM, MAE];
  if (demoPresent) await applyWorkspaceSettings(page, ws.dir, { 'modelLens.probeImagesFolder': join(repoRoot, 'demo', 'probes'), 'modelLens.probeCount': 64, 'modelLens.batchSize': 16 });
  const size = page.viewportSize();
  try {
    await explorerContextMenu(page, a, 'Compare Selected Checkpoints', { ctrlClickAlso: b });
    const f = await webviewFrame(page, /Cross-model CKA/, 180_000);
    await runCommand(page, 'View: Close Primary Side Bar').catch(() => undefined);
    await runCommand(page, 'View: Single Column Editor Layout').catch(() => undefined);
    await page.setViewportSize({ width: 1400, height: 2900 });
    await chartsDrawn(f, ['attention-distance', 'head-diversity', 'cka', 'cka-b', 'cross-cka']);
    await sleep(1000);
    await screenshot(page, 'readme-compare');
  } finally {
    if (size) await page.setViewportSize(size);
    await applyWorkspaceSettings(page, ws.dir, {});
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility').catch(() => undefined);
  }
});
