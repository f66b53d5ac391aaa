// The registration seam until the real-VS-Code suite runs: what package.json contributes must be
// exactly what activate() registers, and the manifest must follow the house rules.
import { recorded, fakeContext } from './fakeVscode';
import { activate } from '../../src/host/extension';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  activationEvents: unknown;
  extensionKind: unknown;
  main: string;
  capabilities: { untrustedWorkspaces: { supported: unknown; description?: unknown; restrictedConfigurations?: string[] } };
  contributes: {
    commands: Array<{ command: string; title: string; category?: string }>;
    customEditors: Array<{ viewType: string; displayName: string; selector: Array<{ filenamePattern: string }>; priority: string }>;
    menus: Record<string, Array<{ command: string; when?: string; group?: string }>>;
    configuration: { properties: Record<string, { markdownDescription?: string; enum?: string[]; type: unknown }> };
  };
};
const c = pkg.contributes;
const CHECKPOINT_EXTS = ['.safetensors', '.pth', '.pt', '.ckpt', '.bin', '.onnx'];

const ctx = fakeContext(root);
activate(ctx as never);

test('activate registers exactly the contributed commands', () => {
  const contributed = c.commands.map((x) => x.command).sort();
  const registered = [...new Set(recorded.commands)].sort();
  assert.deepEqual(registered, contributed);
  assert.equal(recorded.commands.length, new Set(recorded.commands).size, 'a command is registered twice');
});

test('activate registers the contributed custom editors, a hover provider and the output channel', () => {
  assert.deepEqual(recorded.customEditors.map((e) => e.viewType).sort(), c.customEditors.map((e) => e.viewType).sort());
  assert.equal(recorded.hoverSelectors.length, 1);
  const langs = new Set((recorded.hoverSelectors[0] as Array<{ language: string }>).map((s) => s.language));
  assert.deepEqual([...langs].sort(), ['json', 'jsonc', 'markdown', 'python', 'shellscript', 'toml', 'yaml']);
  assert.ok(recorded.outputChannels.includes('Model Lens'));
  assert.ok(ctx.subscriptions.length >= c.commands.length, 'registrations are disposed with the extension');
});

test('every command has the Model Lens category and a title', () => {
  for (const cmd of c.commands) {
    assert.equal(cmd.category, 'Model Lens', cmd.command);
    assert.ok(cmd.title.length > 0, cmd.command);
    assert.match(cmd.command, /^modelLens\./);
  }
  const titles = Object.fromEntries(c.commands.map((x) => [x.command, x.title]));
  assert.equal(titles['modelLens.openInInspector'], 'Open in Model Lens');
  assert.equal(titles['modelLens.inspectCheckpoint'], 'Inspect Checkpoint…');
  assert.equal(titles['modelLens.analyze'], 'Analyze Attention & CKA');
  assert.equal(titles['modelLens.compareSelected'], 'Compare Selected Checkpoints');
  assert.equal(titles['modelLens.showLog'], 'Show Log');
});

test('activation: implicit except panel restore and hover languages; extensionKind is workspace; main points at the bundle', () => {
  // VS Code derives activation from contributed commands and custom editors. Two things have no
  // contribution point and need explicit events: restoring a webview panel (onWebviewPanel) and the
  // hover in the languages it serves (onLanguage; without it there is no hover until something else
  // activated the extension). Nothing broader (*, onStartupFinished, workspaceContains) is allowed.
  const events = pkg.activationEvents as string[];
  assert.ok(Array.isArray(events));
  const langs = (recorded.hoverSelectors[0] as Array<{ language: string }>).map((s) => s.language);
  const expected = [...recorded.serializers.map((v) => `onWebviewPanel:${v}`), ...[...new Set(langs)].map((l) => `onLanguage:${l}`)];
  assert.deepEqual([...events].sort(), expected.sort());
  assert.deepEqual(pkg.extensionKind, ['workspace']);
  assert.equal(pkg.main, './dist/extension.js');
});

test('untrusted workspaces: limited support, described, restricted settings exist', () => {
  const u = pkg.capabilities.untrustedWorkspaces;
  assert.equal(u.supported, 'limited');
  assert.ok(typeof u.description === 'string' && u.description.length > 20);
  for (const k of u.restrictedConfigurations ?? []) assert.ok(k in c.configuration.properties, k);
});

test('every setting is modelLens.* with a markdownDescription; the six settings exist', () => {
  const props = c.configuration.properties;
  for (const [k, v] of Object.entries(props)) {
    assert.match(k, /^modelLens\./);
    assert.ok(typeof v.markdownDescription === 'string' && v.markdownDescription.length > 20, `${k} has no markdownDescription`);
  }
  for (const k of ['probeImagesFolder', 'probeCount', 'batchSize', 'device', 'headsOverride', 'cacheSizeLimitMB']) assert.ok(`modelLens.${k}` in props, k);
  assert.deepEqual(props['modelLens.device']!.enum, ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
});

test('custom editors: default for five extensions, option for .bin', () => {
  const byPattern = new Map<string, string>();
  for (const e of c.customEditors) {
    assert.equal(e.displayName, 'Model Lens Inspector');
    for (const s of e.selector) byPattern.set(s.filenamePattern, e.priority);
  }
  assert.deepEqual([...byPattern.keys()].sort(), CHECKPOINT_EXTS.map((x) => `*${x}`).sort());
  for (const x of ['.safetensors', '.pth', '.pt', '.ckpt', '.onnx']) assert.equal(byPattern.get(`*${x}`), 'default', x);
  assert.equal(byPattern.get('*.bin'), 'option');
  assert.ok(c.customEditors.some((e) => e.viewType === 'modelLens.inspector'));
});

/** The regex of a `resourceFilename =~ /.../flags` clause. */
function extRegex(when: string): RegExp {
  const m = /resourceFilename =~ \/(.+?)\/(\w*)/.exec(when);
  assert.ok(m, `no resourceFilename regex in: ${when}`);
  return new RegExp(m[1]!.replace(/\\\\/g, '\\'), m[2]);
}

test('menus: every entry has a when clause and names a contributed command', () => {
  const ids = new Set(c.commands.map((x) => x.command));
  for (const [menu, entries] of Object.entries(c.menus)) {
    for (const e of entries) {
      assert.ok(ids.has(e.command), `${menu}: ${e.command} is not contributed`);
      assert.ok(typeof e.when === 'string' && e.when.length > 0, `${menu}: ${e.command} has no when`);
    }
  }
});

test('explorer menu: checkpoint commands on the six extensions only; compare selected needs a multi-selection', () => {
  const explorer = c.menus['explorer/context']!;
  const byCmd = new Map(explorer.map((e) => [e.command, e.when!]));
  for (const id of ['modelLens.openInInspector', 'modelLens.analyze', 'modelLens.compareWith', 'modelLens.compareSelected']) {
    const when = byCmd.get(id);
    assert.ok(when, `${id} missing from the explorer menu`);
    const re = extRegex(when);
    for (const x of [...CHECKPOINT_EXTS, '.pth.tar']) {
      assert.ok(re.test(`model${x}`), `${id} does not match model${x}`);
      assert.ok(re.test(`MODEL${x.toUpperCase()}`), `${id} does not match MODEL${x.toUpperCase()}`);
    }
    for (const x of ['.json', '.py', '.pthx', '.onnx.data', '.txt', '.tar', '']) assert.ok(!re.test(`model${x}`), `${id} matches model${x}`);
    assert.match(when, /!explorerResourceIsFolder/);
  }
  assert.match(byCmd.get('modelLens.compareSelected')!, /(^|&& )listMultiSelection/);
  assert.match(byCmd.get('modelLens.compareWith')!, /!listMultiSelection/);
});

test('palette: commands that need a resource are hidden or tied to an open inspector', () => {
  const palette = new Map(c.menus['commandPalette']!.map((e) => [e.command, e.when!]));
  assert.equal(palette.get('modelLens.openInInspector'), 'false');
  assert.equal(palette.get('modelLens.compareSelected'), 'false');
  assert.match(palette.get('modelLens.analyze')!, /activeCustomEditorId == modelLens\.inspector/);
  for (const id of ['modelLens.inspectCheckpoint', 'modelLens.analyzeCheckpoint', 'modelLens.compareCheckpoints', 'modelLens.chooseProbeImages', 'modelLens.selectDevice', 'modelLens.exportAnalysis', 'modelLens.clearCache', 'modelLens.showLog']) {
    assert.ok(!palette.has(id), `${id} should be in the palette unconditionally`);
  }
});
