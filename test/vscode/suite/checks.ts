// The extension-host checks of issue 5 §2. They run inside a real VS Code (code-server through the
// workbench payload, or @vscode/test-electron) against the e2e workspace of test/e2e/harness.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { check } from './runner';
import { assertAnalysisResult } from './schema';

const EXTENSION_ID = 'model-lens.model-lens';

function workspaceDir(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'the suite needs the e2e workspace open');
  return f.uri.fsPath;
}

function wsUri(rel: string): vscode.Uri {
  return vscode.Uri.file(join(workspaceDir(), rel));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function pollFor<T>(what: string, fn: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function extension(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this VS Code`);
  await ext.activate();
  return ext;
}

interface ManifestCommand {
  command: string;
}

/** The tab showing `uri`, once it is a Model Lens custom editor of `viewType`. */
async function customEditorTab(uri: vscode.Uri, viewType: string): Promise<vscode.Tab> {
  return await pollFor(`a ${viewType} tab for ${uri.fsPath}`, () => {
    for (const g of vscode.window.tabGroups.all) {
      for (const t of g.tabs) {
        if (t.input instanceof vscode.TabInputCustom && t.input.viewType === viewType && t.input.uri.fsPath === uri.fsPath) return t;
      }
    }
    return undefined;
  });
}

/** Each supported extension with a workspace file of that type and the editor that must open it. */
const EDITOR_CASES: { file: string; viewType: string; how: 'default' | 'openWith' }[] = [
  { file: 'vit_tiny_patch8_32.pth', viewType: 'modelLens.inspector', how: 'default' },
  { file: 'vit_tiny_patch8_32.pt', viewType: 'modelLens.inspector', how: 'default' },
  { file: 'vit_tiny_patch8_32.ckpt', viewType: 'modelLens.inspector', how: 'default' },
  { file: 'vit_tiny_patch8_32.fp16.safetensors', viewType: 'modelLens.inspector', how: 'default' },
  { file: 'vit_onnx_eager.onnx', viewType: 'modelLens.inspector', how: 'default' },
  // `.bin` is too generic to claim by default (priority "option"): the user picks Model Lens.
  { file: 'pytorch_model.bin', viewType: 'modelLens.inspector.bin', how: 'openWith' },
];

async function openAndExpectInspector(c: (typeof EDITOR_CASES)[number]): Promise<void> {
  const uri = wsUri(c.file);
  if (c.how === 'default') await vscode.commands.executeCommand('vscode.open', uri);
  else await vscode.commands.executeCommand('vscode.openWith', uri, c.viewType);
  const tab = await customEditorTab(uri, c.viewType);
  assert.equal(tab.label, c.file);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

check('the packaged extension is installed and activates', async () => {
  const ext = await extension();
  assert.equal(ext.isActive, true);
  const pkg = ext.packageJSON as { main?: string; extensionKind?: string[]; capabilities?: { untrustedWorkspaces?: { supported?: unknown } } };
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.capabilities?.untrustedWorkspaces?.supported, 'limited');
});

check('the hover over a checkpoint path in train.py summarises it', async () => {
  const doc = await vscode.workspace.openTextDocument(wsUri('train.py'));
  const line = doc.getText().split('\n').findIndex((l) => l.includes('"vit_tiny_patch8_32.pth"'));
  assert.ok(line >= 0, 'train.py names vit_tiny_patch8_32.pth');
  const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('vit_tiny') + 3);
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
  // Markdown source: undo its backslash escapes before matching ("67\.6 K" renders as "67.6 K").
  const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n').replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1');
  assert.match(text, /Model Lens/, `no Model Lens hover: ${text.slice(0, 300)}`);
  assert.match(text, /67\.6\s*K/, `params in the hover: ${text.slice(0, 300)}`);
  assert.match(text, /3×3/, `layers×heads in the hover: ${text.slice(0, 300)}`);
});

if (vscode.workspace.isTrusted) {
  check('every command in package.json is registered, and no other modelLens.* command', async () => {
    const ext = await extension();
    const declared = ((ext.packageJSON as { contributes?: { commands?: ManifestCommand[] } }).contributes?.commands ?? []).map((c) => c.command).sort();
    assert.ok(declared.length > 0, 'package.json declares no commands');
    const all = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('modelLens.')).sort();
    assert.deepEqual(all, declared);
  });

  for (const c of EDITOR_CASES) {
    check(`the inspector opens ${c.file} (${c.how === 'default' ? 'default editor' : `Open With ${c.viewType}`})`, async () => {
      await openAndExpectInspector(c);
    });
  }

  check('modelLens.analyze returns a schema-valid result that matches the PyTorch float64 reference', async () => {
    const uri = wsUri('vit_tiny_patch8_32.pth');
    const r = await vscode.commands.executeCommand<unknown>('modelLens.analyze', uri);
    assert.ok(r !== undefined, 'modelLens.analyze returned nothing: invoked programmatically it must return the AnalysisResult');
    assertAnalysisResult(r);
    const res = r as { probe: { source: string; count: number }; device: { used: string }; attentionDistance: { perHead: number[][] }; headDiversity: { perHead: number[][] }; cka: { matrix: number[][] } };
    assert.equal(res.probe.source, 'folder', 'the e2e settings point modelLens.probeImagesFolder at the fixture probes');
    const ref = JSON.parse(readFileSync(join(workspaceDir(), 'refs', 'vit_tiny_patch8_32.ref.json'), 'utf8')) as { probes: string[]; attentionDistance: { perHead: number[][] }; headDiversity: { perHead: number[][] }; cka: { matrix: number[][] } };
    assert.equal(res.probe.count, ref.probes.length);
    const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    ref.attentionDistance.perHead.forEach((row, l) => row.forEach((v, h) => assert.ok(rel(res.attentionDistance.perHead[l]![h]!, v) < 1e-3, `AD[${l}][${h}] ${res.attentionDistance.perHead[l]![h]} vs reference ${v}`)));
    ref.headDiversity.perHead.forEach((row, l) => row.forEach((v, h) => assert.ok(rel(res.headDiversity.perHead[l]![h]!, v) < 1e-3, `HD[${l}][${h}] ${res.headDiversity.perHead[l]![h]} vs reference ${v}`)));
    ref.cka.matrix.forEach((row, l) => row.forEach((v, m) => assert.ok(Math.abs(res.cka.matrix[l]![m]! - v) < 2e-3, `CKA[${l}][${m}] ${res.cka.matrix[l]![m]} vs reference ${v}`)));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 180_000);

  check('modelLens.compareSelected returns a comparison whose cross-CKA matches the PyTorch reference', async () => {
    const a = wsUri('vit_tiny_patch8_32.pth');
    const b = wsUri('mae_pretrain_vit_tiny_patch8.pth');
    const r = await vscode.commands.executeCommand<unknown>('modelLens.compareSelected', a, [a, b]);
    assert.ok(r !== undefined, 'modelLens.compareSelected returned nothing: invoked programmatically it must return the AnalysisResult');
    assertAnalysisResult(r);
    const res = r as { compare?: { crossCka: number[][] } };
    assert.ok(res.compare, 'the result has no compare block');
    const ref = JSON.parse(readFileSync(join(workspaceDir(), 'refs', 'cross_vit_tiny_patch8_32__mae_pretrain_vit_tiny_patch8.ref.json'), 'utf8')) as { crossCka: number[][] };
    ref.crossCka.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(res.compare!.crossCka[i]![j]! - v) < 2e-3, `crossCKA[${i}][${j}] ${res.compare!.crossCka[i]![j]} vs reference ${v}`)));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }, 180_000);
} else {
  check('the workspace is in Restricted Mode', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  check('inspection still works in Restricted Mode', async () => {
    await openAndExpectInspector(EDITOR_CASES[0]!);
    await openAndExpectInspector(EDITOR_CASES[3]!);
  });

  check('running a model is refused in Restricted Mode', async () => {
    const uri = wsUri('vit_tiny_patch8_32.pth');
    let outcome: unknown;
    try {
      outcome = await Promise.race([
        vscode.commands.executeCommand<unknown>('modelLens.analyze', uri),
        sleep(15_000).then(() => 'still running after 15 s'),
      ]);
    } catch (e) {
      outcome = e instanceof Error ? e : new Error(String(e));
    }
    if (outcome instanceof Error) assert.match(outcome.message, /trust|restricted/i, 'refusal error should say the workspace must be trusted');
    else assert.equal(outcome, undefined, `modelLens.analyze ran in an untrusted workspace: ${JSON.stringify(outcome)?.slice(0, 200)}`);
    // The refusal message itself is a notification; test/e2e/extensionHost.e2e.ts reads it from the page.
  }, 30_000);
}
