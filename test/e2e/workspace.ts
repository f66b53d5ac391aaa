// The e2e workspace (fixtures + train.py) and the Model Lens settings the real-VS-Code tests use.
// Shared by the code-server tests and the @vscode/test-electron launcher; no browser code here.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (the bundles live in out/e2e/ or out/vscode-tests/, two levels down). */
export const repoRoot = resolve(__dirname, '..', '..');

/** The files of the e2e workspace, so journeys name them without guessing. */
export interface Workspace {
  dir: string;
  /** Checkpoint files at the workspace root (fixtures, copies under other extensions, demo pair). */
  checkpoints: string[];
  /** Files copied from test/fixtures/bad/ into bad/. */
  bad: string[];
}

const CHECKPOINT_EXT = /\.(pth|pt|ckpt|bin|safetensors|onnx)$/i;

/**
 * Builds the test workspace in `dir`:
 * - every fixture model at the root (folders such as hf_vit_p14/ as folders), plus copies of the
 *   timm fixture as .pt, .ckpt and pytorch_model.bin so each supported extension has a file;
 * - test/fixtures/bad/ as bad/ (hostile and corrupt files);
 * - the demo checkpoints, when demo/checkpoints/ has them;
 * - probes/ (the fixture probe images the PyTorch references used) and refs/ (those references);
 * - fixtures-manifest.json, and a train.py that names checkpoints by path (for the hover).
 */
export function makeWorkspace(dir: string, trainPyPaths: string[]): Workspace {
  const fx = join(repoRoot, 'test', 'fixtures');
  mkdirSync(join(dir, 'refs'), { recursive: true });
  const checkpoints: string[] = [];
  const models = join(fx, 'models');
  if (existsSync(models)) {
    for (const e of readdirSync(models, { withFileTypes: true })) {
      const from = join(models, e.name);
      if (e.isDirectory()) cpSync(from, join(dir, e.name), { recursive: true });
      else if (e.name.endsWith('.ref.json')) cpSync(from, join(dir, 'refs', e.name));
      else if (CHECKPOINT_EXT.test(e.name)) {
        cpSync(from, join(dir, e.name));
        checkpoints.push(e.name);
      }
    }
  }
  const timm = join(models, 'vit_tiny_patch8_32.pth');
  if (existsSync(timm)) {
    for (const name of ['vit_tiny_patch8_32.pt', 'vit_tiny_patch8_32.ckpt', 'pytorch_model.bin']) {
      cpSync(timm, join(dir, name));
      checkpoints.push(name);
    }
  }
  const demo = join(repoRoot, 'demo', 'checkpoints');
  if (existsSync(demo)) {
    for (const e of readdirSync(demo, { withFileTypes: true })) {
      if (!e.isFile() || !CHECKPOINT_EXT.test(e.name) || checkpoints.includes(e.name)) continue;
      cpSync(join(demo, e.name), join(dir, e.name));
      checkpoints.push(e.name);
    }
  }
  const bad: string[] = [];
  if (existsSync(join(fx, 'bad'))) {
    cpSync(join(fx, 'bad'), join(dir, 'bad'), { recursive: true });
    bad.push(...readdirSync(join(dir, 'bad'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name));
  }
  if (existsSync(join(fx, 'probes', 'png32'))) cpSync(join(fx, 'probes', 'png32'), join(dir, 'probes'), { recursive: true });
  if (existsSync(join(fx, 'manifest.json'))) cpSync(join(fx, 'manifest.json'), join(dir, 'fixtures-manifest.json'));
  const lines = [
    '"""Training script of the e2e workspace: hovering a checkpoint path shows its summary."""',
    'import torch',
    '',
    ...trainPyPaths.map((p, i) => `CKPT_${i} = "${p}"`),
    '',
    '',
    'def load(path: str) -> dict:',
    '    return torch.load(path, map_location="cpu", weights_only=True)',
    '',
  ];
  writeFileSync(join(dir, 'train.py'), lines.join('\n'));
  return { dir, checkpoints: checkpoints.sort(), bad: bad.sort() };
}

/** User settings of every real-VS-Code test: a quiet workbench that never reaches for the network. */
export const baseVsCodeSettings: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.colorTheme': 'Default Light Modern',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'always',
  'git.enabled': false,
  'files.hotExit': 'off',
  'window.restoreWindows': 'none',
  'editor.hover.delay': 150,
  'chat.commandCenter.enabled': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // A single click selects in the Explorer (as right-click journeys need) without opening a preview.
  'workbench.list.openMode': 'doubleClick',
};

/** Settings every e2e server gets for Model Lens: the fixture probes, small batches, CPU-friendly. */
export const modelLensSettings: Record<string, unknown> = {
  'modelLens.probeImagesFolder': 'probes',
  'modelLens.probeCount': 10,
  'modelLens.batchSize': 4,
  'modelLens.device': 'auto',
};
