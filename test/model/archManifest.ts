// Shared by the recognition tests: the fixture manifest, the tensor listing, and the check of one summary.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recognize } from '../../src/model/recognize';
import type { Checkpoint, DType, TensorInfo } from '../../src/formats/checkpoint';
import type { VitSpec } from '../../src/model/modelTypes';

export const FIX = join(__dirname, '..', '..', '..', 'test', 'fixtures');

export interface ManifestModel {
  file: string; format: string; family: string; layers: number | null; heads: number | null; headsSource: string;
  dim: number | null; patchSize: [number, number] | null; imageSize: [number, number] | null; specialTokens: number | null;
  params: number; dtype: string; dtypes?: Record<string, number>; tensorCount: number; analyzable: boolean;
  spec?: { mlpDim: number; lnEps: number; qkvBias: boolean; layerScale: boolean; relPos: string | null; mean: number[]; std: number[] };
  details?: Record<string, unknown>; decoderTensors?: number; decoderParams?: number;
  variant?: string; variants?: string[]; opCounts?: Record<string, number>; nodeCount?: number;
}
export interface Listing { files: Record<string, { variant: string | null; config: Record<string, unknown> | null; tensors: Array<[string, DType, number[]]> }> }

export const manifest = JSON.parse(readFileSync(join(FIX, 'manifest.json'), 'utf8')) as { models: ManifestModel[] };
export const listing = JSON.parse(readFileSync(join(FIX, 'models', 'tensorListing.json'), 'utf8')) as Listing;

export function tensors(list: Array<[string, DType, number[]]>): TensorInfo[] {
  return list.map(([name, dtype, shape]) => ({ name, dtype, shape, location: { file: 'x', offset: 0, length: 0 } }));
}

export function ckptOf(file: string, over: Partial<Checkpoint> = {}): Checkpoint {
  const l = listing.files[file];
  assert.ok(l, `no listing for ${file}`);
  const c: Checkpoint = {
    file: join(FIX, file), format: file.endsWith('.safetensors') ? 'safetensors' : 'pytorch-zip', sizeBytes: 0,
    tensors: tensors(l.tensors), metadata: {}, extras: [], findings: [], variants: [],
  };
  if (l.config) c.config = l.config;
  return { ...c, ...over };
}

function allSpecNames(spec: VitSpec): string[] {
  const w = spec.weights;
  const out = [w.patchW, w.patchB, w.clsToken, w.distToken, w.posEmbed, w.sharedRelPosTable, w.sharedRelPosIndex];
  for (const b of w.blocks) out.push(...Object.values(b));
  return out.filter((x): x is string => typeof x === 'string');
}

/** The manifest's expectations, checked against a recognition of `ckpt`. */
export function checkAgainstManifest(e: ManifestModel, ckpt: Checkpoint): void {
  const { summary, spec, swinSpec } = recognize(ckpt);
  const where = e.file;
  assert.equal(summary.family, e.family, `${where}: family`);
  assert.equal(summary.layers, e.layers, `${where}: layers`);
  assert.equal(summary.heads, e.heads, `${where}: heads`);
  assert.equal(summary.headsSource, e.headsSource, `${where}: headsSource`);
  assert.equal(summary.dim, e.dim, `${where}: dim`);
  assert.deepEqual(summary.patchSize, e.patchSize, `${where}: patchSize`);
  assert.deepEqual(summary.imageSize, e.imageSize, `${where}: imageSize`);
  assert.equal(summary.specialTokens, e.specialTokens, `${where}: specialTokens`);
  assert.equal(summary.params, e.params, `${where}: params`);
  assert.equal(summary.dtype, e.dtype, `${where}: dtype`);
  if (e.dtypes) assert.deepEqual(summary.dtypes, e.dtypes, `${where}: dtypes`);
  assert.equal(summary.format, ckpt.format);
  if (e.family === 'onnx-graph') return;
  assert.equal((spec ?? swinSpec) !== undefined, e.analyzable, `${where}: analyzable (${summary.notAnalyzable ?? ''})`);
  assert.equal(summary.notAnalyzable === undefined, e.analyzable, `${where}: notAnalyzable ${summary.notAnalyzable ?? ''}`);
  if (e.decoderTensors !== undefined) {
    assert.equal(summary.details?.['decoderTensors'], e.decoderTensors);
    assert.equal(summary.details?.['decoderParams'], e.decoderParams);
  }
  if (e.family === 'swin') {
    for (const [k, v] of Object.entries(e.details ?? {})) assert.deepEqual(summary.details?.[k], v, `${where}: details.${k}`);
  }
  if (!spec || !e.spec) return;
  assert.equal(spec.family, e.family);
  assert.equal(spec.layers, e.layers);
  assert.equal(spec.heads, e.heads);
  assert.equal(spec.dim, e.dim);
  assert.equal(spec.mlpDim, e.spec.mlpDim, `${where}: mlpDim`);
  assert.equal(spec.inChans, 3);
  assert.deepEqual(spec.patchSize, e.patchSize);
  assert.deepEqual(spec.imageSize, e.imageSize);
  assert.equal(spec.specialTokens, e.specialTokens);
  assert.equal(spec.lnEps, e.spec.lnEps, `${where}: lnEps`);
  assert.deepEqual(spec.mean, e.spec.mean, `${where}: mean`);
  assert.deepEqual(spec.std, e.spec.std, `${where}: std`);
  assert.equal(spec.weights.blocks.length, e.layers);
  const b0 = spec.weights.blocks[0];
  assert.ok(b0);
  assert.equal(b0.qkvB !== undefined || b0.qB !== undefined, e.spec.qkvBias, `${where}: qkv bias`);
  assert.equal(b0.gamma1 !== undefined && b0.gamma2 !== undefined, e.spec.layerScale, `${where}: layer scale`);
  assert.equal(b0.relPosTable !== undefined, e.spec.relPos === 'per-layer', `${where}: per-layer rel pos`);
  assert.equal(spec.weights.sharedRelPosTable !== undefined, e.spec.relPos === 'shared', `${where}: shared rel pos`);
  assert.equal(spec.weights.posEmbed === undefined, e.spec.relPos !== null, `${where}: abs pos embed`);
  assert.equal(spec.weights.distToken !== undefined, e.specialTokens === 2);
  const names = new Set(ckpt.tensors.map((t) => t.name));
  for (const n of allSpecNames(spec)) assert.ok(names.has(n), `${where}: spec names missing tensor ${n}`);
  // MAE: the encoder only
  for (const n of allSpecNames(spec)) assert.ok(!/decoder|mask_token/.test(n), `${where}: ${n} is not encoder`);
}

