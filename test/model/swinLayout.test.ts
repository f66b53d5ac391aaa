// "Never silently wrong" for Swin / SwinV2: in every layout of test/fixtures/swin (timm old and new, microsoft
// V1 and V2, SwinV2 without buffers, SimMIM, HF Swin and Swinv2), the file as saved is analyzable (its buffers,
// heads, final norms and mask tokens are explained) and one unknown tensor, beside the encoder or inside a
// block, makes it not analyzable with the tensor named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import type { Checkpoint, TensorInfo } from '../../src/formats/checkpoint';
import { recognize } from '../../src/model/recognize';
import { attachSidecarConfig } from '../../src/model/sidecarConfig';
import { FIX } from './archManifest';

interface SwinEntry { file: string; family: string; variant?: string; layout: string }
const manifest = JSON.parse(readFileSync(join(FIX, 'swin', 'manifest.json'), 'utf8')) as { models: SwinEntry[] };

const fake = (name: string, shape: number[]): TensorInfo => ({ name, dtype: 'F32', shape, location: { file: 'x', offset: 0, length: 0 } });

async function open(e: SwinEntry): Promise<Checkpoint> {
  return attachSidecarConfig(await openCheckpoint(join(FIX, 'swin', e.file), e.variant ? { variant: e.variant } : {}));
}

for (const e of manifest.models) {
  test(`Swin never silently wrong: ${e.layout} refuses an unknown encoder tensor by name`, async () => {
    const ckpt = await open(e);
    const r = recognize(ckpt);
    assert.ok(r.swinSpec, `${e.file} should be analyzable as saved: ${r.summary.notAnalyzable}`);
    assert.equal(r.summary.family, e.family);
    const prefix = String(r.summary.details?.['prefix'] ?? '');
    const ln1 = r.swinSpec.weights.stages[0]!.blocks[0]!.ln1W;
    const block0 = ln1.slice(0, ln1.lastIndexOf('.', ln1.lastIndexOf('.') - 1) + 1);
    const dim = r.swinSpec.embedDim;
    for (const extra of [`${prefix}unknown_proj.weight`, `${block0}attn.q_norm.weight`, `${block0}attention.self.query_norm.weight`]) {
      const x = recognize({ ...ckpt, tensors: [...ckpt.tensors, fake(extra, [dim])] });
      assert.equal(x.swinSpec, undefined, `${e.file}: ${extra} accepted`);
      assert.equal(x.summary.family, e.family);
      assert.ok(x.summary.notAnalyzable?.includes(extra), `${e.file}: message does not name ${extra}: ${x.summary.notAnalyzable}`);
      assert.match(x.summary.notAnalyzable ?? '', /^1 tensor\(s\) in the encoder that the swin(v2)? layout does not explain/);
    }
  });
}

test('Swin: many unexplained tensors are counted, the first few named', async () => {
  const e = manifest.models.find((m) => m.file === 'swin_timm_w4.safetensors')!;
  const ckpt = await open(e);
  const extras = Array.from({ length: 7 }, (_, i) => fake(`layers.0.blocks.0.attn.extra${i}`, [4]));
  const r = recognize({ ...ckpt, tensors: [...ckpt.tensors, ...extras] });
  assert.equal(r.swinSpec, undefined);
  assert.match(r.summary.notAnalyzable ?? '', /^7 tensor\(s\) .*layers\.0\.blocks\.0\.attn\.extra0, .*extra3 and 3 more\)/);
  // Tensors outside the encoder's prefix (SimMIM's decoder, a classifier beside `swin.`) are not its business.
  const simmim = manifest.models.find((m) => m.file === 'simmim_swin_w4.pth')!;
  const s = await open(simmim);
  assert.ok(recognize({ ...s, tensors: [...s.tensors, fake('decoder.9.weight', [3])] }).swinSpec);
});
