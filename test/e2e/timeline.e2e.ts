// The training-run journey in a real VS Code (code-server) with the packaged VSIX: right-click a run folder
// → Analyze Training Run → the timeline view charts its checkpoints in step order and lists the skipped
// files → turn watch mode on → a checkpoint written into the folder is analysed and appended.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  chooseWhenMenuReady, e2eInputs, frameText, openTrustedWorkbench, poll, resetWorkbench, scratchDir, screenshot, webviewFrame, type WorkbenchSession,
} from './harness';
import { makeWorkspace, modelLensSettings, repoRoot, type Workspace } from './workspace';

const { codeServerEntry, vsix } = e2eInputs();
const RUN = 'run_exp1';
const fixtureRun = join(repoRoot, 'test', 'fixtures', 'timeline', 'run');

let scratch = '';
let ws: Workspace;
let session: WorkbenchSession | undefined;
let page: Page;

before(async () => {
  scratch = scratchDir('timeline');
  ws = makeWorkspace(join(scratch, 'workspace'), []);
  mkdirSync(join(ws.dir, RUN));
  for (const f of ['epoch_1.pth', 'epoch_2.pth', 'epoch_3.pth', 'epoch_5_hostile.pth']) copyFileSync(join(fixtureRun, f), join(ws.dir, RUN, f));
  session = await openTrustedWorkbench(codeServerEntry, vsix, scratch, ws.dir, modelLensSettings);
  page = session.page;
  assert.equal(readdirSync(join(scratch, 'extensions')).filter((d) => d.startsWith('model-lens.model-lens')).length, 1, 'the VSIX installed');
  await chooseWhenMenuReady(page, RUN, 'Analyze Training Run');
});

after(async () => {
  await session?.close();
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
