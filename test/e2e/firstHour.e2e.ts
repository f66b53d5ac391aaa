// The first hour of a new user, in a real VS Code (code-server) with the packaged VSIX and headless
// Chromium: the hover in a Jupyter notebook cell and its Analyze link, the Run card's quiet CPU line,
// the error card of a failed run, the tensor table in a narrow column, the analysis view in a wide editor,
// and high-contrast light. Each journey leaves a screenshot in test-results/e2e/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  applyWorkspaceSettings, e2eInputs, explorerContextMenu, frameText, openTrustedWorkbench, pickQuickItem, poll, resetWorkbench, runCommand, scratchDir, screenshot, sleep, webviewFrame, type WorkbenchSession,
} from './harness';
import { makeWorkspace, modelLensSettings, type Workspace } from './workspace';

const { codeServerEntry, vsix } = e2eInputs();
const JOURNEY_MS = 240_000;
const TIMM = 'vit_tiny_patch8_32.pth';
const MAE = 'mae_pretrain_vit_tiny_patch8.pth';
const NOISE = 'downloaded_noise.safetensors';

let scratch = '';
let ws: Workspace;
let session: WorkbenchSession | undefined;
let page: Page;

before(async () => {
  scratch = scratchDir('firsthour');
  ws = makeWorkspace(join(scratch, 'workspace'), [TIMM]);
  // A notebook that names a checkpoint relative to its own folder (not the workspace root).
  mkdirSync(join(ws.dir, 'notebooks', 'ckpt'), { recursive: true });
  copyFileSync(join(ws.dir, MAE), join(ws.dir, 'notebooks', 'ckpt', 'mae.pth'));
  const cell = (type: 'code' | 'markdown', lines: string[]): Record<string, unknown> =>
    type === 'code' ? { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: lines } : { cell_type: 'markdown', metadata: {}, source: lines };
  writeFileSync(
    join(ws.dir, 'notebooks', 'explore.ipynb'),
    JSON.stringify({
      cells: [cell('markdown', ['# Which checkpoint did the run save?']), cell('code', ['import torch\n', 'state = torch.load("ckpt/mae.pth", weights_only=True)'])],
      metadata: { kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' }, language_info: { name: 'python' } },
      nbformat: 4,
      nbformat_minor: 5,
    }, null, 1),
  );
  // Random bytes under a checkpoint name (an interrupted download of something else).
  const noise = Buffer.alloc(8192);
  let x = 0x2545f491;
  for (let i = 0; i < noise.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    noise[i] = x & 0xff;
  }
  noise[8] = 0x3f;
  writeFileSync(join(ws.dir, NOISE), noise);
  session = await openTrustedWorkbench(codeServerEntry, vsix, scratch, ws.dir, modelLensSettings);
  page = session.page;
});

after(async () => {
  await session?.close();
});

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

/** Hovers `token` until the Model Lens hover shows; returns the hover's locator. */
async function hoverOver(token: ReturnType<Page['locator']>, timeoutMs = 60_000): Promise<ReturnType<Page['locator']>> {
  const hover = page.locator('.monaco-hover:visible', { hasText: 'Model Lens' }).first();
  await poll('the Model Lens hover', async () => {
    await page.mouse.move(5, 500);
    await sleep(200);
    const box = await token.boundingBox();
    if (!box) return undefined;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 4 });
    await hover.waitFor({ timeout: 4000 });
    return /MAE|ViT/i.test(await hover.innerText());
  }, timeoutMs, 500);
  await sleep(500);
  return hover;
}

async function dlValue(f: Frame, label: string): Promise<string> {
  return await f.evaluate((l) => {
    for (const dt of Array.from(document.querySelectorAll('dt'))) if ((dt.textContent ?? '').trim() === l) return (dt.nextElementSibling?.textContent ?? '').trim();
    return '';
  }, label);
}

journey('fh-notebook', 'a notebook cell: the hover resolves the path next to the .ipynb, says weights_only will refuse it, and Analyze opens the view beside', async () => {
  await resetWorkbench(page);
  await runCommand(page, 'Go to File...');
  await pickQuickItem(page, 'explore.ipynb');
  // The token span itself (the line's outer span starts at "state"); its middle is inside the path.
  const token = page.locator('.notebook-editor .monaco-editor .view-line span span', { hasText: 'mae.pth' }).last();
  await token.waitFor({ timeout: 60_000 });
  const hover = await hoverOver(token);
  const text = await hover.innerText();
  await screenshot(page, 'fh-notebook-hover');
  assert.match(text, /mae\.pth/);
  assert.match(text, /torch\.load will refuse this file unless argparse\.Namespace is allowlisted/, text);
  await hover.locator('a', { hasText: /^Analyze$/ }).first().click();
  const f = await webviewFrame(page, /Average attention distance/, 120_000);
  await poll('the analysis result', async () => /Run/.test(await frameText(f)) && (await dlValue(f, 'Device')).length > 0, 60_000);
  // Close the hover (it stays while the mouse rests on it) so the picture shows the two editors.
  await page.mouse.move(5, 500);
  await page.keyboard.press('Escape');
  await sleep(1000);
  await screenshot(page, 'fh-notebook-analysis');
  // The notebook stays open beside the analysis (two editor groups).
  assert.ok((await page.locator('.editor-group-container').count()) >= 2, 'the analysis opened beside the notebook');
});

journey('fh-run-card', 'the Run card: CPU under device auto is a plain line with the reason one click away; batches read "2 batches of 4 + 1 of 2"', async () => {
  await resetWorkbench(page);
  await explorerContextMenu(page, TIMM, 'Analyze Attention & CKA');
  const f = await webviewFrame(page, /Average attention distance/, 120_000);
  await poll('the Run card', async () => (await dlValue(f, 'Device')).length > 0, 60_000);
  const device = await dlValue(f, 'Device');
  assert.match(device, /^CPU\b/, device);
  const warnings = await f.evaluate(() => Array.from(document.querySelectorAll('.ml-callout')).map((c) => c.textContent ?? '').join('\n'));
  assert.doesNotMatch(warnings, /instead of auto|Ran on cpu/i, 'no yellow warning for a CPU run under auto');
  assert.match(await dlValue(f, 'Images'), /^10 in 2 batches of 4 \+ 1 of 2\b/);
  await f.locator('.ml-why summary').click();
  await sleep(300);
  assert.match(await f.locator('.ml-why p').innerText(), /found no GPU/);
  await f.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'fh-run-card');
});

journey('fh-error', 'random bytes named .safetensors: the error card says it is not a safetensors file, with Open in Inspector as the one primary action', async () => {
  await resetWorkbench(page);
  await explorerContextMenu(page, NOISE, 'Analyze Attention & CKA');
  const f = await webviewFrame(page, /Not a safetensors file/, 120_000);
  await sleep(500);
  await screenshot(page, 'fh-error-card');
  const buttons = await f.evaluate(() => Array.from(document.querySelectorAll('button')).map((b) => b.textContent ?? ''));
  assert.deepEqual(buttons, ['Open in Inspector', 'Show log']);
  assert.match(await frameText(f), /Byte offset\s*0 \(0x0\)/);
  await f.locator('.ml-error .ml-primary').click();
  const g = await webviewFrame(page, /Not a checkpoint format Model Lens reads/, 60_000);
  assert.match(await frameText(g), /not a safetensors file/i);
  await sleep(500);
  await screenshot(page, 'fh-error-inspector');
});

journey('fh-narrow', 'the tensor table in a ~540 px column: the header follows the body sideways, Size sorts largest first', async () => {
  await resetWorkbench(page);
  const size = page.viewportSize();
  try {
    await explorerContextMenu(page, TIMM, 'Open in Model Lens');
    const f = await webviewFrame(page, /Tensors/, 60_000);
    await runCommand(page, 'View: Close Primary Side Bar').catch(() => undefined);
    await page.setViewportSize({ width: 600, height: 1000 });
    await sleep(1000);
    const width = await f.evaluate(() => document.body.clientWidth);
    assert.ok(width < 620 && width > 450, `editor width ${width}`);
    await f.locator('.vt-hcell', { hasText: 'Size' }).click();
    await sleep(300);
    const firstBytes = await f.evaluate(() => (document.querySelector('.vt-row[data-index="0"] .vt-cell:nth-child(6)') as HTMLElement).title);
    const secondBytes = await f.evaluate(() => (document.querySelector('.vt-row[data-index="1"] .vt-cell:nth-child(6)') as HTMLElement).title);
    assert.ok(parseInt(firstBytes.replace(/,/g, ''), 10) >= parseInt(secondBytes.replace(/,/g, ''), 10), `largest first: ${firstBytes} then ${secondBytes}`);
    await f.evaluate(() => document.querySelector('.vt')?.scrollIntoView({ block: 'start' }));
    const moved = await f.evaluate(() => {
      const s = document.querySelector('.vt-scroll') as HTMLElement;
      s.scrollLeft = s.scrollWidth;
      return new Promise<{ body: number; head: number; offsetRight: number; clipRight: number }>((res) =>
        requestAnimationFrame(() => {
          const clip = document.querySelector('.vt-head-clip') as HTMLElement;
          const offset = Array.from(document.querySelectorAll('.vt-hcell')).find((b) => b.textContent === 'Offset') as HTMLElement;
          res({ body: s.scrollLeft, head: clip.scrollLeft, offsetRight: offset.getBoundingClientRect().right, clipRight: clip.getBoundingClientRect().right });
        }),
      );
    });
    await sleep(300);
    await screenshot(page, 'fh-narrow-table');
    assert.ok(moved.body > 0, 'the body scrolls sideways in a narrow column');
    assert.equal(moved.head, moved.body, 'the header follows the body');
    assert.ok(moved.offsetRight <= moved.clipRight + 1, `the last column's header is in view: ${JSON.stringify(moved)}`);
  } finally {
    if (size) await page.setViewportSize(size);
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility').catch(() => undefined);
  }
});

journey('fh-wide', 'a wide editor: content uses the width, the two metric charts sit side by side', async () => {
  await resetWorkbench(page);
  const size = page.viewportSize();
  try {
    await explorerContextMenu(page, TIMM, 'Compare Selected Checkpoints', { ctrlClickAlso: MAE });
    const f = await webviewFrame(page, /Cross-model CKA/, 120_000);
    await runCommand(page, 'View: Close Primary Side Bar').catch(() => undefined);
    await runCommand(page, 'View: Single Column Editor Layout').catch(() => undefined);
    await page.setViewportSize({ width: 2200, height: 1300 });
    await sleep(1500);
    const boxes = await f.evaluate(() => ['attention-distance', 'head-diversity'].map((id) => {
      const r = document.getElementById(id)!.getBoundingClientRect();
      return { top: Math.round(r.top), left: Math.round(r.left), width: Math.round(r.width) };
    }));
    const rootWidth = await f.evaluate(() => document.querySelector('.ml-root')!.getBoundingClientRect().width);
    await screenshot(page, 'fh-wide');
    assert.ok(rootWidth > 1800, `content width ${rootWidth}`);
    assert.equal(boxes[0]!.top, boxes[1]!.top, `side by side: ${JSON.stringify(boxes)}`);
    assert.ok(boxes[1]!.left > boxes[0]!.left + boxes[0]!.width - 1);
  } finally {
    if (size) await page.setViewportSize(size);
    await runCommand(page, 'View: Toggle Primary Side Bar Visibility').catch(() => undefined);
  }
});

journey('fh-hc-light', 'high-contrast light: the weights_only note, findings and the selected row are visible; models A and B differ', async () => {
  await resetWorkbench(page);
  await applyWorkspaceSettings(page, ws.dir, { 'workbench.colorTheme': 'Default High Contrast Light' });
  try {
    await page.locator('.monaco-workbench.hc-light').waitFor({ timeout: 20_000 });
    await explorerContextMenu(page, MAE, 'Open in Model Lens');
    const f = await webviewFrame(page, /Tensors/, 60_000);
    await poll('the weights_only note', async () => /argparse\.Namespace is allowlisted/.test(await frameText(f)), 20_000);
    await f.locator('.vt-row[data-index="2"]').click();
    await sleep(500);
    const outline = await f.evaluate(() => getComputedStyle(document.querySelector('.vt-row.selected')!).outlineStyle);
    assert.equal(outline, 'solid', 'the selected row has an outline in high contrast');
    await screenshot(page, 'fh-hc-light-inspector');
    await resetWorkbench(page);
    await explorerContextMenu(page, TIMM, 'Compare Selected Checkpoints', { ctrlClickAlso: MAE });
    const g = await webviewFrame(page, /Cross-model CKA/, 120_000);
    await runCommand(page, 'View: Single Column Editor Layout').catch(() => undefined);
    await g.evaluate(() => document.getElementById('attention-distance')?.scrollIntoView({ block: 'start' }));
    await sleep(1000);
    const colors = await g.evaluate(() => {
      const c = (window as unknown as { __modelLensCharts: Record<string, { data: { datasets: { mlRole?: string; mlSeries?: number; borderColor: string }[] } }> }).__modelLensCharts['attention-distance']!;
      return c.data.datasets.filter((d) => d.mlRole === 'mean').map((d) => d.borderColor);
    });
    await screenshot(page, 'fh-hc-light-compare');
    assert.deepEqual(colors, ['#0f4a85', '#b5200d']);
  } finally {
    await applyWorkspaceSettings(page, ws.dir, {});
  }
});
