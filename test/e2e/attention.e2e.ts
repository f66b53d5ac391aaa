// The attention journey in a real VS Code (code-server) with the packaged VSIX: analyse a checkpoint →
// click a head's dot in the attention-distance chart → the attention view opens at that layer and head
// → pick a probe image, move the query patch with the keyboard → export the picture as PNG. The numbers
// the view shows are checked against the float64 PyTorch reference of test/fixtures/attention.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  applyWorkspaceSettings, chooseWhenMenuReady, e2eInputs, explorerContextMenu, openTrustedWorkbench, poll, resetWorkbench, runCommand, scratchDir, screenshot, sleep, webviewFrame, type WorkbenchSession,
} from './harness';
import { makeWorkspace, modelLensSettings, repoRoot, type Workspace } from './workspace';

const { codeServerEntry, vsix } = e2eInputs();
const TIMM = 'vit_tiny_patch8_32.pth';

let scratch = '';
let ws: Workspace;
let session: WorkbenchSession | undefined;
let page: Page;

before(async () => {
  scratch = scratchDir('attention');
  ws = makeWorkspace(join(scratch, 'workspace'), [TIMM]);
  session = await openTrustedWorkbench(codeServerEntry, vsix, scratch, ws.dir, modelLensSettings);
  page = session.page;
  assert.equal(readdirSync(join(scratch, 'extensions')).filter((d) => d.startsWith('model-lens.model-lens')).length, 1, 'the VSIX installed');
  await chooseWhenMenuReady(page, TIMM, 'Open in Model Lens');
});

after(async () => {
  await session?.close();
});

interface Debug { ready: boolean; shown: number; lastMs: number; lastInferenceMs: number; cached: boolean; layer: number; head: number; kind: string; query: [number, number] | null; image: number; error: string }
interface RefCase { name: string; image: string; perLayer: Array<{ distance: number[]; entropy: number[] }> }

async function debugOf(f: Frame): Promise<Debug> {
  return await f.evaluate(() => (window as unknown as { __modelLensAttention: Debug }).__modelLensAttention);
}

/** Waits until the view has drawn more maps than `shown` and returns its state. */
async function nextMap(f: Frame, shown: number, what: string): Promise<Debug> {
  return await poll(what, async () => {
    const d = await debugOf(f);
    if (d.error) throw new Error(`the view shows an error: ${d.error}`);
    return d.shown > shown ? d : undefined;
  }, 60_000, 100);
}

test('attention journey: analyse → click a head dot → attention view → move the query → export PNG', { timeout: 300_000 }, async () => {
  try {
    await resetWorkbench(page);
    await explorerContextMenu(page, TIMM, 'Analyze Attention & CKA');
    const analysis = await webviewFrame(page, /Average attention distance[\s\S]*Attention head diversity/, 120_000);
    // The dot of layer 2, head 3 in the attention-distance chart, in canvas CSS pixels.
    const dot = await poll('the head dots of the attention-distance chart', async () => await analysis.evaluate(() => {
      const charts = (window as unknown as { __modelLensCharts?: Record<string, { data: { datasets: Array<{ mlRole?: string; data: Array<{ layer: number; head?: number }> }> }; getDatasetMeta(i: number): { data: Array<{ x: number; y: number }> } }> }).__modelLensCharts;
      const chart = charts?.['attention-distance'];
      if (!chart) return undefined;
      const i = chart.data.datasets.findIndex((d) => d.mlRole === 'heads');
      const j = chart.data.datasets[i]?.data.findIndex((p) => p.layer === 2 && p.head === 3) ?? -1;
      const el = chart.getDatasetMeta(i).data[j];
      return el && Number.isFinite(el.x) ? { x: el.x, y: el.y } : undefined;
    }), 30_000, 300);
    const canvas = analysis.locator('canvas[data-chart="attention-distance"]');
    await canvas.scrollIntoViewIfNeeded();
    await sleep(300);
    await canvas.click({ position: dot });

    const f = await webviewFrame(page, /Attention maps —/, 60_000);
    let d = await nextMap(f, 0, 'the first attention map');
    assert.equal(d.layer, 1, 'opened at layer 2 (0-based 1)');
    assert.equal(d.head, 2, 'opened at head 3 (0-based 2)');
    assert.equal(d.kind, 'cls');
    const firstMs = d.lastMs;

    // Probe image p03.png (the reference's image): the tiles' distances and entropies are this image's.
    await f.locator('button[data-image="3"]').click();
    d = await nextMap(f, d.shown, 'the map of probe image 4');
    const refs = JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'attention', 'refs.json'), 'utf8')) as { cases: RefCase[] };
    const timm = refs.cases.find((c) => c.name === 'timm-vit')!;
    assert.equal(timm.image, 'probes/png32/p03.png');
    const labels = await f.locator('.ma-tile span').allInnerTexts();
    assert.equal(labels.length, 3, `three head tiles: ${labels.join(' | ')}`);
    labels.forEach((t, h) => {
      const m = /H(\d+) · ([\d.]+) px · ([\d.]+) nats/.exec(t);
      assert.ok(m, t);
      assert.ok(Math.abs(Number(m[2]) - timm.perLayer[1]!.distance[h]!) <= 0.051, `head ${h + 1} distance ${m[2]} vs PyTorch ${timm.perLayer[1]!.distance[h]}`);
      assert.ok(Math.abs(Number(m[3]) - timm.perLayer[1]!.entropy[h]!) <= 0.0051, `head ${h + 1} entropy ${m[3]} vs PyTorch ${timm.perLayer[1]!.entropy[h]}`);
    });

    // Move the query patch with the keyboard: down from the centre, up, and down again (cached).
    await f.locator('[data-testid="attention-big"]').focus();
    await page.keyboard.press('ArrowDown');
    d = await nextMap(f, d.shown, 'the query row after ArrowDown');
    assert.equal(d.kind, 'query');
    assert.deepEqual(d.query, [3, 2]);
    await page.keyboard.press('ArrowUp');
    d = await nextMap(f, d.shown, 'the query row after ArrowUp');
    assert.deepEqual(d.query, [2, 2]);
    await page.keyboard.press('ArrowDown');
    d = await nextMap(f, d.shown, 'the cached query row');
    assert.equal(d.cached, true, 'a query already fetched is served from the view');
    const cachedMs = d.lastMs;
    // Layer switch (fetched from the worker's cached forward pass).
    await f.locator('#ma-layer').focus();
    await page.keyboard.press('ArrowRight');
    d = await nextMap(f, d.shown, 'layer 3');
    assert.equal(d.layer, 2);
    const layerMs = d.lastMs;
    await sleep(400);
    await screenshot(page, 'attention-view');
    console.log(`# attention view: first map ${firstMs.toFixed(0)} ms, cached query switch ${cachedMs.toFixed(1)} ms, layer switch ${layerMs.toFixed(0)} ms (worker cache)`);
    assert.ok(cachedMs < 100, `cached switch took ${cachedMs} ms`);

    // Export PNG: the save dialog proposes a name beside the checkpoint; accept it.
    await f.locator('[data-testid="attention-export"]').click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 20_000 });
    // The simple file dialog shows its folder first and fills in the proposed name a moment later.
    await poll('the proposed file name', async () => (await input.inputValue()).endsWith('.png'), 20_000, 100);
    const proposed = await input.inputValue();
    assert.match(proposed, /vit_tiny_patch8_32\.attention\.L3\.query3-2\.p03\.png$/);
    await page.keyboard.press('Enter');
    const file = join(ws.dir, 'vit_tiny_patch8_32.attention.L3.query3-2.p03.png');
    await poll('the exported PNG', async () => existsSync(file), 20_000, 200);
    const bytes = readFileSync(file);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG file');
    await sleep(500);
    await screenshot(page, 'attention-exported');
  } catch (e) {
    await screenshot(page, 'attention-FAILED').catch(() => undefined);
    throw e;
  }
});

test('README picture: the attention view on the demo MIM model', { timeout: 300_000 }, async (t) => {
  const demo = join(repoRoot, 'demo', 'checkpoints', 'mim_vit.pth');
  if (!existsSync(demo)) return t.skip('demo checkpoints not present');
  await resetWorkbench(page);
  // The demo's natural photographs instead of the fixture probes.
  await applyWorkspaceSettings(page, ws.dir, { ...modelLensSettings, 'modelLens.probeImagesFolder': join(repoRoot, 'demo', 'probes'), 'modelLens.probeCount': 24 });
  await explorerContextMenu(page, 'mim_vit.pth', 'Show Attention Maps');
  const f = await webviewFrame(page, /Attention maps — mim_vit/, 60_000);
  let d = await nextMap(f, 0, 'the first demo map');
  await runCommand(page, 'View: Close Primary Side Bar').catch(() => undefined);
  // The cat photograph, the row of a patch in its middle, layer 2: two heads attend locally, two widely.
  await f.locator('button[data-image="7"]').click();
  d = await nextMap(f, d.shown, 'probe image 8');
  await f.locator('button[data-kind="query"]').click();
  d = await nextMap(f, d.shown, 'the query row');
  await f.locator('#ma-layer').evaluate((el) => {
    (el as HTMLInputElement).value = '2';
    el.dispatchEvent(new Event('input'));
  });
  d = await nextMap(f, d.shown, 'layer 2');
  assert.equal(d.layer, 1);
  await sleep(500);
  await screenshot(page, 'readme-attention');
  await runCommand(page, 'View: Toggle Primary Side Bar Visibility').catch(() => undefined);
});
