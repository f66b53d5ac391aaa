// The model zoo end to end: each family's checkpoint (written by test/fixtures/zoo/makeZoo.py in its
// project's own key layout) analysed by the BUILT CLI, as a user would, against the float64 PyTorch
// reference of that project's forward pass: attention distance and head diversity per head (rel 1e-3),
// CKA (abs 2e-3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');
const FIX = join(root, 'test', 'fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'lens-zoo-'));
const env = { ...process.env, MODEL_LENS_CACHE_DIR: join(tmp, 'cache') };

interface ZooEntry { file: string; family: string; ref?: string; variant?: string; specialTokens: number; heads: number; mean: number[]; std: number[] }
interface Ref {
  probeDir: string; batchSize: number; heads: number; layers: number;
  attentionDistance: { perHead: number[][] }; headDiversity: { perHead: number[][] }; cka: { matrix: number[][]; batches: number };
}
interface Result {
  model: { family: string; heads: number; specialTokens: number };
  probe: { count: number; preprocess: { mean: number[]; std: number[] } };
  attentionDistance: { perHead: number[][] }; headDiversity: { perHead: number[][] }; cka: { matrix: number[][]; batches: number };
}

const zoo = JSON.parse(readFileSync(join(FIX, 'zoo', 'manifest.json'), 'utf8')) as { models: ZooEntry[] };

test.after(() => rmSync(tmp, { recursive: true, force: true }));

export function analyze(file: string, ref: Ref, variant?: string): Result {
  const args = [cli, 'analyze', join(FIX, file), '--images', join(FIX, ref.probeDir), '--batch', String(ref.batchSize), '--json', '-', '--no-cache', '--device', 'cpu'];
  if (variant) args.push('--variant', variant);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Result;
}

for (const e of zoo.models.filter((m) => m.ref)) {
  test(`zoo ${e.family}: ${e.file}${e.variant ? ` (${e.variant})` : ''} matches its project's float64 forward pass`, () => {
    const ref = JSON.parse(readFileSync(join(FIX, e.ref!), 'utf8')) as Ref;
    // The default weight set is the one the project evaluates (DINO: teacher; MoCo v3: base_encoder).
    const explicit = e.variant === 'momentum_encoder' || e.variant === 'student' ? e.variant : undefined;
    const res = analyze(e.file, ref, explicit);
    assert.equal(res.model.family, e.family);
    assert.equal(res.model.heads, ref.heads);
    assert.equal(res.model.specialTokens, e.specialTokens);
    assert.deepEqual(res.probe.preprocess.mean, e.mean);
    assert.deepEqual(res.probe.preprocess.std, e.std);
    assert.equal(res.cka.batches, ref.cka.batches);
    for (let l = 0; l < ref.layers; l++) {
      for (let h = 0; h < ref.heads; h++) {
        const [gd, wd] = [res.attentionDistance.perHead[l]![h]!, ref.attentionDistance.perHead[l]![h]!];
        assert.ok(Math.abs(gd - wd) <= 1e-3 * Math.abs(wd), `${e.file}: AD[${l}][${h}] ${gd} vs ${wd}`);
        const [gk, wk] = [res.headDiversity.perHead[l]![h]!, ref.headDiversity.perHead[l]![h]!];
        assert.ok(Math.abs(gk - wk) <= 1e-3 * Math.abs(wk), `${e.file}: HD[${l}][${h}] ${gk} vs ${wk}`);
      }
      for (let m = 0; m < ref.layers; m++) {
        const [g, w] = [res.cka.matrix[l]![m]!, ref.cka.matrix[l]![m]!];
        assert.ok(Math.abs(g - w) <= 2e-3, `${e.file}: CKA[${l}][${m}] ${g} vs ${w}`);
      }
    }
  });
}

test('DINOv2 registers count as special tokens and change the numbers (vs the same file with them deleted)', () => {
  const withReg = zoo.models.find((m) => m.file.endsWith('dinov2_vits14_reg4.pth'))!;
  const noReg = zoo.models.find((m) => m.file.endsWith('dinov2_vits14_noreg.pth'))!;
  const ra = analyze(withReg.file, JSON.parse(readFileSync(join(FIX, withReg.ref!), 'utf8')) as Ref);
  const rb = analyze(noReg.file, JSON.parse(readFileSync(join(FIX, noReg.ref!), 'utf8')) as Ref);
  assert.equal(ra.model.specialTokens, 5);
  assert.equal(rb.model.specialTokens, 1);
  const diff = Math.abs(ra.attentionDistance.perHead[1]![0]! - rb.attentionDistance.perHead[1]![0]!);
  assert.ok(diff > 1e-3 * Math.abs(rb.attentionDistance.perHead[1]![0]!), `registers changed nothing (${diff})`);
});

test('heads, honestly: inspect says where the count came from; a contradicting --heads needs --heads-force', () => {
  const file = join(FIX, 'zoo', 'hf_clip', 'model.safetensors');
  const run = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  assert.match(run('inspect', file).out, /2 layers × 4 heads \(from the config: vision_config\.num_attention_heads\)/);
  const refused = run('analyze', file, '--heads', '2', '--limit', '4', '--batch', '4', '--no-cache');
  assert.equal(refused.code, 2);
  assert.match(refused.err, /override 2 contradicts the 4 heads .*--heads-force/);
  const forced = run('analyze', file, '--heads', '2', '--heads-force', '--limit', '4', '--batch', '4', '--no-cache', '--json', '-');
  assert.equal(forced.code, 0, forced.err);
  const res = JSON.parse(forced.out) as Result;
  assert.equal(res.model.heads, 2);
});

test('HF BEiT / Data2Vec-vision through the CLI: inspect says the family and where the heads came from; an unexplained encoder tensor is refused by name', () => {
  const run = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const beit = run('inspect', join(FIX, 'zoo', 'hf_beit', 'pytorch_model.bin'));
  assert.equal(beit.code, 0, beit.err);
  assert.match(beit.out, /hf-beit, 2 layers × 4 heads \(from the config: num_attention_heads\)/);
  const src = join(FIX, 'zoo', 'hf_data2vec_vision');
  const d2v = run('inspect', join(src, 'model.safetensors'));
  assert.match(d2v.out, /hf-data2vec-vision, 2 layers × 12 heads \(read from the weights: encoder\.relative_position_bias\.relative_position_bias_table/);
  assert.doesNotMatch(d2v.out, /not analyzable/);
  // The same file with one more tensor in a block (as a qk-norm variant would have), beside the same config.json.
  const bytes = readFileSync(join(src, 'model.safetensors'));
  const hlen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  const data = bytes.subarray(8 + hlen);
  const extra = 'encoder.layer.1.attention.attention.q_norm.weight';
  header[extra] = { dtype: 'F32', shape: [48], data_offsets: [data.length, data.length + 48 * 4] };
  let hb = Buffer.from(JSON.stringify(header), 'utf8');
  hb = Buffer.concat([hb, Buffer.alloc((8 - (hb.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const dir = join(tmp, 'd2v_qknorm');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, hb, data, Buffer.alloc(48 * 4)]));
  copyFileSync(join(src, 'config.json'), join(dir, 'config.json'));
  const refused = run('analyze', join(dir, 'model.safetensors'), '--limit', '4', '--batch', '4', '--no-cache', '--device', 'cpu');
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /not supported yet: unrecognized block tensors \(encoder\.layer\.1\.attention\.attention\.q_norm\.weight\)/);
});

/** A copy of a zoo safetensors folder with one more F32 tensor of `shape` in the weights file, beside the same config files. */
function withExtraTensor(folder: string, name: string, shape: number[]): string {
  const src = join(FIX, 'zoo', folder);
  const bytes = readFileSync(join(src, 'model.safetensors'));
  const hlen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + hlen).toString('utf8')) as Record<string, unknown>;
  const data = bytes.subarray(8 + hlen);
  const size = shape.reduce((a, b) => a * b, 1) * 4;
  header[name] = { dtype: 'F32', shape, data_offsets: [data.length, data.length + size] };
  let hb = Buffer.from(JSON.stringify(header), 'utf8');
  hb = Buffer.concat([hb, Buffer.alloc((8 - (hb.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hb.length));
  const dir = join(tmp, `${folder}_extra`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([len, hb, data, Buffer.alloc(size)]));
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(src, f), join(dir, f));
  return join(dir, 'model.safetensors');
}

test('HF DeiT / ViTMAE through the CLI: inspect names the model_type and where the heads came from; an unexplained encoder tensor is refused by name', () => {
  const run = (...args: string[]): { code: number | null; out: string; err: string } => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const deit = run('inspect', join(FIX, 'zoo', 'hf_deit_distilled', 'model.safetensors'));
  assert.equal(deit.code, 0, deit.err);
  assert.match(deit.out, /hf-vit \(model_type deit\), 2 layers × 12 heads \(from the config: 12 \(the class default; the config does not write it\)\)/);
  assert.doesNotMatch(deit.out, /not analyzable/);
  const mae = run('inspect', join(FIX, 'zoo', 'hf_vit_mae', 'pytorch_model.bin'));
  assert.equal(mae.code, 0, mae.err);
  assert.match(mae.out, /hf-vit \(model_type vit_mae\), 2 layers × 4 heads \(from the config: num_attention_heads\)/);
  assert.doesNotMatch(mae.out, /not analyzable/);
  // A norm after the patch embedding (as some ViT variants have) that the HF ViT layout does not build.
  const extra = withExtraTensor('hf_deit_distilled', 'deit.embeddings.patch_norm.weight', [48]);
  const refused = run('analyze', extra, '--limit', '4', '--batch', '4', '--no-cache', '--device', 'cpu');
  assert.equal(refused.code, 2, refused.err);
  assert.match(refused.err, /1 tensor\(s\) in the encoder that the hf-vit layout does not explain \(deit\.embeddings\.patch_norm\.weight\)/);
});

test('an OpenAI TorchScript release (.pt archive) gives exactly the numbers of the same weights as a state dict; inspect says what it read', () => {
  const jit = zoo.models.find((m) => m.file.endsWith('clip_vit_b8_jit.pt'))!;
  const plain = zoo.models.find((m) => m.file.endsWith('clip_vit_b8_state_dict.pt'))!;
  const ref = JSON.parse(readFileSync(join(FIX, jit.ref!), 'utf8')) as Ref;
  const a = analyze(jit.file, ref) as Result & { model: { format: string }; specialMass: unknown };
  const b = analyze(plain.file, ref) as Result & { model: { format: string }; specialMass: unknown };
  assert.equal(a.model.format, 'torchscript');
  assert.equal(b.model.format, 'pytorch-zip');
  assert.equal(a.model.family, 'clip');
  assert.deepEqual(a.attentionDistance, b.attentionDistance);
  assert.deepEqual(a.headDiversity, b.headDiversity);
  assert.deepEqual(a.specialMass, b.specialMass);
  assert.deepEqual(a.cka, b.cka);
  const r = spawnSync(process.execPath, [cli, 'inspect', join(FIX, jit.file)], { encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(torchscript, /);
  assert.match(r.stdout, /clip, 2 layers × 2 heads/);
  assert.match(r.stdout, /TorchScript archive \(torch\.jit\.save\).*its code\/ folder \(66 files\).* were neither read nor executed/);
});
