// The inspector's view of an OpenAI TorchScript release (the zoo's traced CLIP archive): the payload the
// webview receives names the format, recognises CLIP as analysable and carries the finding that says the
// archive's code was neither read nor run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHeaderService } from '../../src/host/headerService';
import { toInspectorData } from '../../src/host/inspectorData';

const JIT = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'zoo', 'clip_vit_b8_jit.pt');

test('inspector: a TorchScript archive shows as torchscript, CLIP, analysable, code not read', async () => {
  const data = toInspectorData(await createHeaderService(() => undefined).inspect(JIT));
  assert.equal(data.format, 'torchscript');
  assert.equal(data.summary.family, 'clip');
  assert.equal(data.summary.notAnalyzable, undefined);
  assert.equal(data.summary.layers, 2);
  assert.equal(data.summary.heads, 2);
  assert.equal(data.metadata['torchscript.root_class'], '__torch__.ClipJit');
  assert.ok(data.tensors.some((t) => t.name === 'visual.transformer.resblocks.1.mlp.c_proj.weight' && t.dtype === 'F16'));
  const f = data.findings.find((x) => x.kind === 'torchscript');
  assert.match(f?.message ?? '', /code\/ folder \(66 files\).*neither read nor executed/);
  assert.equal(data.findings.filter((x) => x.severity !== 'info').length, 0);
  assert.equal(data.weightsOnly, undefined);
});
