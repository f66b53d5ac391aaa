// The hover in Jupyter notebook cells and other non-file documents: relative paths anchor at the
// notebook's folder (a local file), then the workspace folders; nothing but the local file system is read.
import { fakeVscode, recorded } from './fakeVscode';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CheckpointHoverProvider, HOVER_LANGUAGES } from '../../src/host/hoverProvider';
import { createHeaderService } from '../../src/host/headerService';
import type { HostServices } from '../../src/host/services';
import { TimelineCache } from '../../src/runtime/timelineCache';
import { ANALYSIS_CACHE_FOLDER } from '../../src/host/analysisLookup';

const fixture = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'models', 'mae_pretrain_vit_tiny_patch8.pth');

interface FakeDoc {
  uri: ReturnType<typeof fakeVscode.Uri.from>;
  lineAt(n: number): { text: string };
}

function doc(scheme: string, path: string, line: string): FakeDoc {
  return { uri: fakeVscode.Uri.from({ scheme, path }), lineAt: () => ({ text: line }) };
}

test('hover in a notebook cell: the path resolves next to the .ipynb, the summary and command links are there', async () => {
  const ws = mkdtempSync(join(tmpdir(), 'ml-nb-'));
  const fv = fakeVscode as unknown as Record<string, Record<string, unknown>>;
  const prev = { nbs: fv['workspace']!['notebookDocuments'], folders: fv['workspace']!['workspaceFolders'] };
  try {
    mkdirSync(join(ws, 'notebooks', 'ckpt'), { recursive: true });
    mkdirSync(join(ws, 'runs'), { recursive: true });
    copyFileSync(fixture, join(ws, 'notebooks', 'ckpt', 'mae.pth'));
    copyFileSync(fixture, join(ws, 'runs', 'in_workspace.pth'));
    const nbPath = join(ws, 'notebooks', 'explore.ipynb');
    const cellLine = `state = torch.load("ckpt/mae.pth", weights_only=True)`;
    const cell = doc('vscode-notebook-cell', nbPath, cellLine);
    fv['workspace']!['notebookDocuments'] = [{ uri: fakeVscode.Uri.file(nbPath), getCells: () => [{ document: cell }] }];
    fv['workspace']!['workspaceFolders'] = [{ uri: fakeVscode.Uri.file(ws) }];
    const services = { headers: createHeaderService(() => undefined), cachedAnalysis: async () => undefined } as unknown as HostServices;
    const provider = new CheckpointHoverProvider(services);
    const token = { isCancellationRequested: false };
    const hover = (await provider.provideHover(cell as never, new fakeVscode.Position(0, cellLine.indexOf('mae')) as never, token as never)) as unknown as { contents: { value: string; isTrusted: unknown } } | undefined;
    assert.ok(hover, 'a hover in the cell');
    const md = hover.contents.value;
    assert.match(md, /\*\*Model Lens\*\* · mae\\\.pth/);
    assert.match(md, /MAE/);
    // Its links open the file that was found (the notebook's neighbour), and only these commands are enabled.
    const links = [...md.matchAll(/\]\((command:[^)]*)\)/g)].map((m) => decodeURIComponent(m[1]!));
    assert.deepEqual(links.map((l) => l.slice(0, l.indexOf('?'))), ['command:modelLens.openInInspector', 'command:modelLens.analyze']);
    assert.ok(links.every((l) => l.includes(join(ws, 'notebooks', 'ckpt', 'mae.pth'))), links.join('\n'));
    assert.deepEqual(hover.contents.isTrusted, { enabledCommands: ['modelLens.openInInspector', 'modelLens.analyze'] });
    // weights_only: this MAE checkpoint pickles its args Namespace.
    assert.match(md, /torch\\\.load will refuse this file unless argparse\\\.Namespace is allowlisted/);
    // A document of another scheme (a diff view, a virtual file): no folder of its own; workspace folders still work.
    const git = doc('git', join(ws, 'notebooks', 'train.py'), `p = "ckpt/mae.pth"; q = "runs/in_workspace.pth"`);
    const line = git.lineAt(0).text;
    assert.equal(await provider.provideHover(git as never, new fakeVscode.Position(0, line.indexOf('mae')) as never, token as never), undefined);
    assert.ok(await provider.provideHover(git as never, new fakeVscode.Position(0, line.indexOf('in_workspace')) as never, token as never));
    // Registered for every scheme of the hover languages (files, untitled, notebook cells, diffs).
    const before = recorded.hoverSelectors.length;
    CheckpointHoverProvider.register(services);
    assert.deepEqual(recorded.hoverSelectors[before], HOVER_LANGUAGES.map((language) => ({ language })));
  } finally {
    fv['workspace']!['notebookDocuments'] = prev.nbs;
    fv['workspace']!['workspaceFolders'] = prev.folders;
    rmSync(ws, { recursive: true, force: true });
  }
});

test('hover on a run folder path: the sparklines of its last timeline and a link that reopens it; other folders get nothing', async () => {
  const ws = mkdtempSync(join(tmpdir(), 'ml-runhover-'));
  try {
    const runDir = join(ws, 'runs', 'exp1');
    mkdirSync(runDir, { recursive: true });
    mkdirSync(join(ws, 'runs', 'other'), { recursive: true });
    const storage = join(ws, 'storage');
    const model = { file: join(runDir, 'step_3.pth'), family: 'timm-vit', imageSize: [224, 224], patchSize: [16, 16] } as never;
    await new TimelineCache(join(storage, ANALYSIS_CACHE_FOLDER)).putRun({
      folder: runDir, orderedBy: 'step', savedAt: Date.UTC(2026, 11, 1), model,
      checkpoints: [40, 70, 95].map((v, i) => ({ file: join(runDir, `step_${i + 1}.pth`), step: (i + 1) * 1000, attentionDistance: v, headDiversity: 2 - i * 0.5, ckaMeanOffDiagonal: 0.8, ckaToFinal: i === 2 ? 1 : 0.6 })),
    });
    const services = { context: { globalStorageUri: fakeVscode.Uri.file(storage) }, headers: createHeaderService(() => undefined), cachedAnalysis: async () => undefined } as unknown as HostServices;
    const provider = new CheckpointHoverProvider(services);
    const token = { isCancellationRequested: false };
    const line = `trainer = Trainer(output_dir="runs/exp1", resume="runs/other")`;
    const d = doc('file', join(ws, 'train.py'), line);
    const hover = (await provider.provideHover(d as never, new fakeVscode.Position(0, line.indexOf('exp1')) as never, token as never)) as unknown as { contents: { value: string; isTrusted: unknown } } | undefined;
    assert.ok(hover, 'a hover on the analysed run folder');
    const md = hover.contents.value;
    assert.match(md, /training run exp1/);
    assert.match(md, /Run exp1: 3 checkpoints by step/);
    assert.match(md, /Attention distance over the run \S+ 40\\\.0 → 95\\\.0 px/); // markdown-escaped
    const links = [...md.matchAll(/\]\((command:[^)]*)\)/g)].map((m) => decodeURIComponent(m[1]!));
    assert.equal(links.length, 1);
    assert.ok(links[0]!.startsWith('command:modelLens.analyzeTrainingRun?') && links[0]!.includes(runDir), links[0]);
    assert.deepEqual(hover.contents.isTrusted, { enabledCommands: ['modelLens.analyzeTrainingRun'] });
    // A folder without an analysed run, and a folder that does not exist: no hover.
    assert.equal(await provider.provideHover(d as never, new fakeVscode.Position(0, line.indexOf('other')) as never, token as never), undefined);
    const missing = doc('file', join(ws, 'train.py'), `out = "runs/nope"`);
    assert.equal(await provider.provideHover(missing as never, new fakeVscode.Position(0, 10) as never, token as never), undefined);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});
