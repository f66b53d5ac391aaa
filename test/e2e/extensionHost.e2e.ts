// Runs the extension-host suite (test/vscode/suite, bundled to out/vscode-tests/index.js) inside
// code-server through the workbench URL payload, once trusted and once in Restricted Mode.
// The extension under test is the unpacked VSIX, so the suite checks exactly what ships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cleanupScratch, e2eInputs, launchBrowser, notificationsText, poll, screenshot, scratchDir, startCodeServer, webviewFrame } from './harness';
import { makeWorkspace, modelLensSettings, repoRoot } from './workspace';
import { extractZip } from './zipFile';

const { codeServerEntry, vsix } = e2eInputs();
const suiteModule = join(repoRoot, 'out', 'vscode-tests', 'index.js');

async function runSuite(trusted: boolean): Promise<void> {
  const tag = trusted ? 'trusted' : 'untrusted';
  const scratch = scratchDir(`exthost-${tag}`);
  const ws = makeWorkspace(join(scratch, 'workspace'), ['vit_tiny_patch8_32.pth']).dir;
  const dev = join(scratch, 'vsix');
  extractZip(vsix, dev);
  const extensionsDir = join(scratch, 'extensions');
  mkdirSync(extensionsDir);
  const server = await startCodeServer({ entry: codeServerEntry, extensionsDir, folder: ws, scratch, trust: trusted, settings: modelLensSettings });
  const ctx = await launchBrowser(scratch);
  const log: string[] = [];
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    let exitCode: number | undefined;
    await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      log.push(line);
      // The suite's TAP lines go to the console; workbench chatter stays in the failure message only.
      if (/^(TAP version|\d+\.\.\d+|ok |not ok |# (tests|pass|fail))/m.test(line)) console.log(`# [exthost ${tag}] ${line.split('\n').join(`\n# [exthost ${tag}] `)}`);
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => {
      exitCode = code;
    });
    const remote = (p: string): string => `vscode-remote://127.0.0.1:${server.port}${p}`;
    const payload = JSON.stringify([['extensionDevelopmentPath', remote(join(dev, 'extension'))], ['extensionTestsPath', remote(suiteModule)]]);
    await page.goto(`${server.origin}/?folder=${encodeURIComponent(ws)}&payload=${encodeURIComponent(payload)}`);
    const code = await poll('the extension-host suite to finish (codeAutomationExit)', async () => (exitCode === undefined ? undefined : { code: exitCode }), 420_000, 500);
    if (!trusted) {
      // The refusal must tell the user why: a notification that names workspace trust.
      const text = await poll('a notification about workspace trust', async () => {
        const t = await notificationsText(page);
        return /trust|restricted/i.test(t) ? t : undefined;
      }, 10_000).catch(async (e: Error) => `${e.message}; notifications: ${await notificationsText(page)}`);
      // The analysis panel that opened must say the same, not stay blank.
      const panel = await webviewFrame(page, /trust/i, 20_000).then(() => 'ok', (e: Error) => e.message);
      await screenshot(page, 'exthost-untrusted-refusal');
      assert.match(text, /trust|restricted/i, 'no notification told the user that running a model needs a trusted workspace');
      assert.equal(panel, 'ok', 'the analysis panel opened in Restricted Mode does not explain that the workspace must be trusted');
    } else {
      await screenshot(page, 'exthost-trusted');
    }
    assert.equal(code.code, 0, `extension-host suite (${tag}) failed:\n${log.join('\n')}\n--- code-server output (tail) ---\n${server.output().slice(-4000)}`);
  } finally {
    await ctx.close().catch(() => undefined);
    await server.stop();
    cleanupScratch(scratch);
  }
}

test('extension-host suite in a trusted workspace', { timeout: 480_000 }, async () => {
  await runSuite(true);
});

test('extension-host suite in Restricted Mode (untrusted workspace)', { timeout: 480_000 }, async () => {
  await runSuite(false);
});
