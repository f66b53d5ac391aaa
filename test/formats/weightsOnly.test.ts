// weights_only: which pickle globals torch.load(weights_only=True) refuses, pinned against torch's own
// allowlist (torch/_weights_only_unpickler.py, _get_allowed_globals) and the reader fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { weightsOnlyAllows, weightsOnlyNote, weightsOnlyRefusals } from '../../src/formats/weightsOnly';
import { toInspectorData } from '../../src/host/inspectorData';
import { recognize } from '../../src/model/recognize';

const fixtures = resolve(__dirname, '..', '..', '..', 'test', 'fixtures');

test('torch’s default weights_only allowlist: tensors, storages, dtypes, OrderedDict in; argparse, numpy, modules out', () => {
  for (const [m, n] of [['collections', 'OrderedDict'], ['collections', 'Counter'], ['torch._utils', '_rebuild_tensor_v2'], ['torch._utils', '_rebuild_parameter'], ['torch', 'FloatStorage'], ['torch', 'BFloat16Storage'], ['torch.cuda', 'HalfStorage'], ['torch', 'FloatTensor'], ['torch', 'float32'], ['torch', 'bfloat16'], ['torch', 'Size'], ['torch.nn.parameter', 'Parameter'], ['torch._tensor', '_rebuild_from_type_v2'], ['_codecs', 'encode'], ['__builtin__', 'set'], ['torch.storage', 'UntypedStorage']]) {
    assert.ok(weightsOnlyAllows(m!, n!), `${m}.${n} is allowed by default`);
  }
  for (const [m, n] of [['argparse', 'Namespace'], ['numpy.core.multiarray', 'scalar'], ['numpy', 'dtype'], ['yacs.config', 'CfgNode'], ['collections', 'defaultdict'], ['torch.nn.modules.container', 'Sequential'], ['builtins', 'list'], ['pathlib', 'PosixPath'], ['os', 'system'], ['torch', 'load'], ['torch._tensor', '_rebuild_from_type']]) {
    assert.ok(!weightsOnlyAllows(m!, n!), `${m}.${n} is refused by default`);
  }
});

test('reader fixtures: the refused globals in file order, and the sentence the inspector and hover show', async () => {
  const refusals = async (name: string): Promise<string[]> => weightsOnlyRefusals((await openCheckpoint(resolve(fixtures, name))).findings);
  assert.deepEqual(await refusals('readers/bf16.pth'), []);
  assert.deepEqual(await refusals('readers/views_fp32.pth'), []);
  assert.deepEqual(await refusals('readers/mae_wrapper.pth'), ['argparse.Namespace']);
  // The first refused class is the one torch names in its error (checked with torch.load(weights_only=True)).
  assert.equal((await refusals('readers/full_module.pth'))[0], 'torch.nn.modules.container.Sequential');
  assert.equal((await refusals('readers/lightning_like.ckpt'))[0], 'lightning.fabric.utilities.data.AttributeDict');
  assert.deepEqual(await refusals('readers/yacs_numpy.pth'), ['yacs.config.CfgNode', 'numpy.core.multiarray.scalar', 'numpy.dtype']);
  assert.equal(weightsOnlyNote(['argparse.Namespace'], false), 'torch.load will refuse this file unless argparse.Namespace is allowlisted (weights_only=True is the default since PyTorch 2.6; torch.serialization.add_safe_globals).');
  assert.match(weightsOnlyNote(['a.A', 'b.B', 'c.C', 'd.D'], false)!, /unless a\.A, b\.B and c\.C \(and 1 more\) are allowlisted/);
  assert.match(weightsOnlyNote(['os.system'], true)!, /refuses this file: it references code/);
  assert.equal(weightsOnlyNote([], false), undefined);
  // What the inspector receives for the MAE checkpoint with its args Namespace.
  const file = resolve(fixtures, 'models', 'mae_pretrain_vit_tiny_patch8.pth');
  const checkpoint = await openCheckpoint(file);
  const data = toInspectorData({ checkpoint, summary: recognize(checkpoint).summary, readMs: 1 });
  assert.match(data.weightsOnly ?? '', /^torch\.load will refuse this file unless argparse\.Namespace is allowlisted/);
  const plain = await openCheckpoint(resolve(fixtures, 'models', 'vit_tiny_patch8_32.pth'));
  assert.equal(toInspectorData({ checkpoint: plain, summary: recognize(plain).summary, readMs: 1 }).weightsOnly, undefined);
});
