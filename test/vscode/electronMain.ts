// `npm run test:vscode`: the extension-host suite on a downloaded VS Code via @vscode/test-electron,
// for machines that can reach update.code.visualstudio.com (not offline CI: there the same suite
// runs inside code-server, see test/e2e/extensionHost.e2e.ts). Runs trusted, then Restricted Mode.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { baseVsCodeSettings, makeWorkspace, modelLensSettings, repoRoot } from '../e2e/workspace';

async function runOnce(trusted: boolean): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), `model-lens-test-electron-${trusted ? 'trusted' : 'untrusted'}-`));
  try {
    const ws = makeWorkspace(join(scratch, 'workspace'), ['vit_tiny_patch8_32.pth']).dir;
    const userData = join(scratch, 'user-data');
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...baseVsCodeSettings, ...modelLensSettings }, null, 2));
    const launchArgs = [ws, '--user-data-dir', userData, '--extensions-dir', join(scratch, 'extensions'), '--disable-extensions'];
    if (trusted) launchArgs.push('--disable-workspace-trust');
    console.log(`# @vscode/test-electron: extension-host suite, ${trusted ? 'trusted workspace' : 'Restricted Mode'}`);
    await runTests({
      version: process.env['MODEL_LENS_VSCODE_VERSION'] ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: join(repoRoot, 'out', 'vscode-tests', 'index.js'),
      launchArgs,
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  await runOnce(true);
  await runOnce(false);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
