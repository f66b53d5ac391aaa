// The hover's pure logic: which string is under the cursor, and which file it names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHECKPOINT_GLOB, candidatePaths, folderPathAt, hasCheckpointExtension, pathAt, resolveCheckpointPath, resolveFolderPath } from '../../src/runtime/checkpointPaths';

/** pathAt with the cursor on the first occurrence of `marker` (plus `delta`). */
function at(line: string, marker: string, delta = 1): string | undefined {
  const i = line.indexOf(marker);
  assert.ok(i >= 0, `marker ${marker} not in line`);
  return pathAt(line, i + delta)?.text;
}

test('python strings: single, double, f-less, escaped quotes', () => {
  assert.equal(at(`model.load_state_dict(torch.load("runs/mae/checkpoint-799.pth"))`, 'checkpoint'), 'runs/mae/checkpoint-799.pth');
  assert.equal(at(`ckpt = 'weights/vit_base.safetensors'  # main`, 'vit_base'), 'weights/vit_base.safetensors');
  assert.equal(at(`a = "x.pth"; b = "y.pt"`, 'y.pt'), 'y.pt');
  assert.equal(at(`a = "x.pth"; b = "y.pt"`, 'x.pth'), 'x.pth');
  // Cursor between the strings is not inside either.
  assert.equal(pathAt(`a = "x.pth"; b = "y.pt"`, 12), undefined);
  assert.equal(at(`p = "it\\"s/model.ckpt"`, 'model'), 'it\\"s/model.ckpt');
});

test('cursor on the quote characters and at the string ends', () => {
  const line = `load("m.onnx")`;
  assert.equal(pathAt(line, line.indexOf('"') + 1)?.text, 'm.onnx');
  assert.equal(pathAt(line, line.lastIndexOf('"'))?.text, 'm.onnx');
  assert.equal(pathAt(line, 0), undefined);
});

test('unquoted: YAML values, TOML, shell arguments, markdown links', () => {
  assert.equal(at(`  pretrained: ./ckpts/deit_small.pth`, 'deit'), './ckpts/deit_small.pth');
  assert.equal(at(`resume:out/model_ema.ckpt`, 'model_ema'), 'out/model_ema.ckpt');
  assert.equal(at(`python main.py --resume ~/runs/ckpt.pth --epochs 100`, 'ckpt.pth'), '~/runs/ckpt.pth');
  assert.equal(at(`torchrun train.py --init=/data/vit.safetensors`, 'vit.'), '/data/vit.safetensors');
  assert.equal(at(`See [the weights](models/vit.onnx).`, 'vit.onnx'), 'models/vit.onnx');
  assert.equal(at(`Weights live in models/vit.pth.`, 'vit.pth'), 'models/vit.pth');
  assert.equal(at(`path = C:\\models\\vit.pth`, 'vit'), 'C:\\models\\vit.pth');
});

test('only checkpoint extensions qualify, so ordinary text costs no file system access', () => {
  assert.equal(at(`import torch.nn as nn`, 'torch'), undefined);
  assert.equal(at(`open("notes.txt")`, 'notes'), undefined);
  assert.equal(at(`cfg = "model.pth.json"`, 'model'), undefined);
  assert.equal(at(`x = ".pth"`, 'pth'), undefined);
  assert.equal(pathAt('', 0), undefined);
  assert.equal(pathAt('abc', 99), undefined);
  assert.ok(hasCheckpointExtension('A/B/MODEL.PTH'));
  assert.ok(!hasCheckpointExtension('model.pth.tmp'));
  // MoCo / DeiT style names: the readers then go by the content
  assert.equal(at(`torch.load("runs/checkpoint_0299.pth.tar")`, 'runs'), 'runs/checkpoint_0299.pth.tar');
  assert.ok(hasCheckpointExtension('a/MODEL_BEST.PTH.TAR'));
  assert.ok(!hasCheckpointExtension('data.tar'));
});

test('sharded checkpoints: the index files name a model; other JSON does not', () => {
  assert.equal(at(`from_pretrained("out/model.safetensors.index.json")`, 'model'), 'out/model.safetensors.index.json');
  assert.equal(at(`  index: ckpt/pytorch_model.bin.index.json`, 'pytorch'), 'ckpt/pytorch_model.bin.index.json');
  assert.equal(at(`cfg = "out/config.json"`, 'config'), undefined);
  assert.equal(at(`x = "tokenizer.index.json"`, 'tokenizer'), undefined);
  assert.ok(hasCheckpointExtension('A/MODEL.SAFETENSORS.INDEX.JSON'));
  assert.ok(!hasCheckpointExtension('.safetensors.index.json.bak'));
});

test('workspace glob lists the sharded index files too', () => {
  const globRe = (g: string): RegExp => {
    const m = /^\*\*\/\*\.\{(.*)\}$/.exec(g)!;
    return new RegExp(`\\.(?:${m[1]!.split(',').map((x) => x.replace(/\./g, '\\.')).join('|')})$`);
  };
  const re = globRe(CHECKPOINT_GLOB);
  for (const f of ['a.pth', 'b.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin.index.json', 'm.onnx', 'checkpoint.pth.tar']) assert.match(f, re);
  for (const f of ['config.json', 'a.pth.txt']) assert.doesNotMatch(f, re);
});

test('span offsets point at the path inside the line', () => {
  const line = `x = torch.load('a/b.pt')`;
  const span = pathAt(line, line.indexOf('b.pt'))!;
  assert.equal(line.slice(span.start, span.end), 'a/b.pt');
});

test('candidate order: the file first, then each workspace folder; ~ and file:// and absolute paths', () => {
  const ctx = { documentDir: '/ws/a/scripts', workspaceFolders: ['/ws/a', '/ws/b'], homeDir: '/home/me' };
  assert.deepEqual(candidatePaths('ckpt/x.pth', ctx), ['/ws/a/scripts/ckpt/x.pth', '/ws/a/ckpt/x.pth', '/ws/b/ckpt/x.pth']);
  assert.deepEqual(candidatePaths('./x.pth', ctx), ['/ws/a/scripts/x.pth', '/ws/a/x.pth', '/ws/b/x.pth']);
  assert.deepEqual(candidatePaths('../x.pth', ctx), ['/ws/a/x.pth', '/ws/x.pth']);
  assert.deepEqual(candidatePaths('~/runs/x.pth', ctx), ['/home/me/runs/x.pth']);
  assert.deepEqual(candidatePaths('/abs/x.pth', ctx), ['/abs/x.pth']);
  assert.deepEqual(candidatePaths(pathToFileURL('/abs/y z.pth').href, ctx), ['/abs/y z.pth']);
  assert.deepEqual(candidatePaths('x.pth', { workspaceFolders: [], homeDir: '/h' }), []);
});

test('resolveCheckpointPath finds the first existing file on disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ml-hover-'));
  const wsA = join(root, 'a');
  const wsB = join(root, 'b');
  const home = join(root, 'home');
  for (const d of [join(wsA, 'scripts'), join(wsB, 'ckpt'), join(home, 'runs'), join(wsA, 'dir.pth')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(wsB, 'ckpt', 'only_in_b.pth'), 'x');
  writeFileSync(join(wsA, 'scripts', 'both.pth'), 'x');
  writeFileSync(join(wsB, 'both.pth'), 'x');
  writeFileSync(join(home, 'runs', 'h.safetensors'), 'x');
  const isFile = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined))?.isFile() ?? false;
  const ctx = { documentDir: join(wsA, 'scripts'), workspaceFolders: [wsA, wsB], homeDir: home };
  assert.equal(await resolveCheckpointPath('ckpt/only_in_b.pth', ctx, isFile), join(wsB, 'ckpt', 'only_in_b.pth'));
  assert.equal(await resolveCheckpointPath('both.pth', ctx, isFile), join(wsA, 'scripts', 'both.pth'));
  assert.equal(await resolveCheckpointPath('~/runs/h.safetensors', ctx, isFile), join(home, 'runs', 'h.safetensors'));
  assert.equal(await resolveCheckpointPath('missing.pth', ctx, isFile), undefined);
  assert.equal(await resolveCheckpointPath('dir.pth', { ...ctx, documentDir: wsA }, isFile), undefined, 'a folder named like a checkpoint is not one');
  let calls = 0;
  await resolveCheckpointPath('notes.txt', ctx, async () => (calls++, true));
  assert.equal(calls, 0);
});

test('folder paths (a run\'s output directory) qualify only when they look like paths and name no checkpoint', async () => {
  const f = (line: string, marker: string): string | undefined => folderPathAt(line, line.indexOf(marker) + 1)?.text;
  assert.equal(f(`output_dir = "runs/vit_s_mim"`, 'vit_s'), 'runs/vit_s_mim');
  assert.equal(f(`  output_dir: ./runs/exp3/`, 'exp3'), './runs/exp3/');
  assert.equal(f(`python train.py --output ~/runs/exp1 --epochs 3`, 'exp1'), '~/runs/exp1');
  assert.equal(f(`load("runs/model.pth")`, 'model'), undefined, 'a checkpoint path is the checkpoint hover');
  assert.equal(f(`import torch.nn as nn`, 'torch'), undefined, 'no separator: not a path');
  assert.equal(f(`name = "vit_small"`, 'vit'), undefined);
  const root = mkdtempSync(join(tmpdir(), 'ml-folder-'));
  mkdirSync(join(root, 'runs', 'exp1'), { recursive: true });
  writeFileSync(join(root, 'runs', 'file'), 'x');
  const isDir = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined))?.isDirectory() === true;
  assert.equal(await resolveFolderPath('runs/exp1/', { documentDir: root, workspaceFolders: [], homeDir: '/nowhere' }, isDir), join(root, 'runs', 'exp1'));
  assert.equal(await resolveFolderPath('runs/file', { documentDir: root, workspaceFolders: [], homeDir: '/nowhere' }, isDir), undefined);
});
