// The training-run journey in a real VS Code (code-server) with the packaged VSIX: right-click a run folder
// → Analyze Training Run → the timeline view charts its checkpoints in step order and lists the skipped
// files → turn watch mode on → a checkpoint written into the folder is analysed and appended.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import {
  cleanupScratch, e2eInputs, explorerContextMenu, frameText, installVsix, launchBrowser, openWorkbench, poll, resetWorkbench, screenshot,
  scratchDir, startCodeServer, webviewFrame, type CodeServer,
} from './harness';
import { makeWorkspace, modelLensSettings, repoRoot, type Workspace } from './workspace';

const { codeServerEntry, vsix } = e2eInputs();
const RUN = 'run_exp1';
const fixtureRun = join(repoRoot, 'test', 'fixtures', 'timeline', 'run');

let scratch = '';
let ws: Workspace;
let server: CodeServer;
let ctx: BrowserContext;
let page: Page;

before(async () => {
  scratch = scratchDir('timeline');
  ws = makeWorkspace(join(scratch, 'workspace'), []);
  mkdirSync(join(ws.dir, RUN));
  for (const f of ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_5_hostile.pth']) copyFileSync(join(fixtureRun, f), join(ws.dir, RUN, f));
  const extensionsDir = join(scratch, 'extensions');
  installVsix(codeServerEntry, vsix, extensionsDir, scratch);
  assert.equal(readdirSync(extensionsDir).filter((d) => d.startsWith('model-lens.model-lens')).length, 1, 'the VSIX installed');
  server = await startCodeServer({ entry: codeServerEntry, extensionsDir, folder: ws.dir, scratch, trust: true, settings: modelLensSettings });
  ctx = await launchBrowser(scratch);
  page = await openWorkbench(ctx, server, ws.dir);
  await poll('Analyze Training Run in the Explorer context menu of a folder', async () => {
    try {
      await explorerContextMenu(page, RUN, 'Analyze Training Run');
      return true;
    } catch {
      await page.keyboard.press('Escape');
      return undefined;
    }
  }, 90_000, 1000);
});

after(async () => {
  await ctx?.close().catch(() => undefined);
  await server?.stop();
  if (scratch) cleanupScratch(scratch);
});

async function view(): Promise<Frame> {
  return await webviewFrame(page, /Training run: run_exp1[\s\S]*Attention distance per layer/, 180_000);
}

test('training run: folder → timeline in step order, skipped file listed → watch mode appends a new checkpoint', { timeout: 420_000 }, async () => {
  let f = await view();
  await poll('3 checkpoints ordered by step', async () => (/3 checkpoint\(s\), ordered by step/.test(await frameText(f)) ? true : undefined), 120_000, 500);
  const text = await frameText(f);
  assert.match(text, /epoch_5_hostile\.pth: unsafe/);
  assert.match(text, /epoch_3\.pth · step 150 · epoch 3/, 'the slider starts at the last checkpoint');
  assert.equal(await f.evaluate(() => document.querySelectorAll('.charts svg polyline').length) > 4, true, 'lines are drawn');
  await screenshot(page, 'timeline-run');
  await f.getByRole('button', { name: 'Watch folder: off' }).click();
  await poll('watch mode on', async () => (/Watching folder: on/.test(await frameText(f)) ? true : undefined), 30_000, 250);
  copyFileSync(join(fixtureRun, 'epoch_10.pth'), join(ws.dir, RUN, 'epoch_10.pth'));
  f = await poll('the new checkpoint appended', async () => {
    const g = await view();
    return /4 checkpoint\(s\), ordered by step/.test(await frameText(g)) ? g : undefined;
  }, 120_000, 1000);
  assert.match(await frameText(f), /epoch_10\.pth · step 500/);
  await screenshot(page, 'timeline-watch-appended');
  await resetWorkbench(page);
});
