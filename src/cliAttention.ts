// `model-lens attention CKPT --image IMG …`: one attention map of one image, as model-lens/attention-map@1
// JSON, as the attention view's picture (PNG), or as a short table. Runs in this process with the
// worker's AttentionService (one image needs one forward pass).
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ATTENTION_MAP_SCHEMA, type AttentionKind, type AttentionMapDoc } from './analysis/attentionMaps';
import { encodePng } from './analysis/pngEncode';
import type { DeviceName } from './analysis/resultSchema';
import { ModelLensError } from './formats/errors';
import { pictureTitle, renderPicture, tileLabel } from './protocol/attentionPicture';
import type { AttentionMapParams, AttentionMapResult } from './protocol/workerProtocol';
import { AttentionService } from './worker/attentionService';

export const ATTENTION_USAGE = [
  '  model-lens attention CKPT --image IMG [--layer L] [--head H] [--query ROW,COL | --cls | --rollout]',
  '                          [--png OUT] [--json OUT] [--opacity A] [--device D] [--heads H] [--variant V]',
  '                          [--image-size N]',
];

export const ATTENTION_OPTIONS = [
  '  --image IMG    (attention) the PNG/JPEG to look at; preprocessed like the probes',
  '  --layer L      (attention) layer from 1 (default: the last); rollout runs through layers 1..L',
  '  --head H       (attention) only head H (from 1; default: every head)',
  '  --query R,C    (attention) the row of query patch R,C (from 0 at the top-left); --cls: the class token\'s',
  '                 row (default when the model has one); --rollout: attention rollout',
  '  --png OUT      (attention) the attention view\'s picture; --opacity A heat-map opacity 0..1 (default 0.6)',
];

export interface AttentionArgs {
  positional: string[];
  flags: Map<string, string | true>;
}

function row(b64: string): Float32Array {
  const b = Buffer.from(b64, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Runs the attention command; `usage` throws the CLI's usage error (exit 2). */
export async function attentionCommand(a: AttentionArgs, usage: (msg: string) => never, devices: readonly DeviceName[]): Promise<void> {
  if (a.positional.length !== 1) usage('attention needs exactly one checkpoint');
  const val = (name: string): string | undefined => {
    const v = a.flags.get(name);
    if (v === true) usage(`--${name} needs a value`);
    return v;
  };
  const int = (name: string, min: number): number | undefined => {
    const v = val(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`--${name} must be an integer >= ${min}, got ${v}`);
    return n;
  };
  const image = val('image') ?? usage('attention needs --image IMG');
  const device = (val('device') ?? 'cpu') as DeviceName;
  if (!devices.includes(device)) usage(`--device must be one of ${devices.join('|')}, got ${device}`);
  const queryText = val('query');
  const kinds = [queryText !== undefined, a.flags.has('cls'), a.flags.has('rollout')].filter(Boolean).length;
  if (kinds > 1) usage('give at most one of --query ROW,COL, --cls, --rollout');
  let query: [number, number] | undefined;
  if (queryText !== undefined) {
    const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(queryText);
    if (!m) usage(`--query must be ROW,COL (integers from 0), got ${queryText}`);
    query = [Number(m[1]), Number(m[2])];
  }
  const opacityText = val('opacity');
  const opacity = opacityText === undefined ? 0.6 : Number(opacityText);
  if (!(opacity >= 0 && opacity <= 1)) usage(`--opacity must be between 0 and 1, got ${opacityText}`);
  const layerFlag = int('layer', 1);
  const headFlag = int('head', 1);
  const pngOut = val('png');
  const jsonOut = val('json');

  const service = new AttentionService();
  try {
    const base: Omit<AttentionMapParams, 'layer' | 'kind'> = { file: a.positional[0]!, device, image: { file: image }, withImage: pngOut !== undefined };
    const v = val('variant');
    if (v !== undefined) base.variant = v;
    const heads = int('heads', 1);
    if (heads !== undefined) base.heads = heads;
    // The size the analysis ran at, so a map can be read beside its numbers (same resampled position embedding).
    const size = int('image-size', 1);
    if (size !== undefined) base.imageSize = size;
    // The first request learns the model's layout (layers, class token); the forward pass is cached.
    const probe = await service.map({ ...base, layer: 0, kind: 'rollout' });
    const layers = probe.model.layers;
    if (layerFlag !== undefined && layerFlag > layers) throw new ModelLensError('not-analyzable', base.file, `--layer ${layerFlag} is out of range: the model has ${layers} layers (1–${layers})`);
    const kind: AttentionKind = query ? 'query' : a.flags.has('rollout') ? 'rollout' : a.flags.has('cls') || probe.model.hasCls ? 'cls' : 'rollout';
    if (kind === 'cls' && !probe.model.hasCls) throw new ModelLensError('not-analyzable', base.file, `--cls: the model has no class token (${probe.model.specialTokens} special tokens); use --query ROW,COL or --rollout`);
    const nHeads = probe.model.heads;
    if (headFlag !== undefined && headFlag > nHeads) throw new ModelLensError('not-analyzable', base.file, `--head ${headFlag} is out of range: the model has ${nHeads} heads (1–${nHeads})`);
    const layer = (layerFlag ?? layers) - 1;
    const res = await service.map({ ...base, layer, kind, ...(query ? { query } : {}) });
    const doc = toDoc(res, basename(base.file), image, headFlag);
    if (jsonOut !== undefined) write(jsonOut, `${JSON.stringify(doc)}\n`);
    if (pngOut !== undefined) write(pngOut, pictureFor(res, doc, opacity));
    if (jsonOut === undefined && pngOut === undefined) process.stdout.write(`${summary(res, doc)}\n`);
    else if (jsonOut !== '-' && pngOut !== '-') process.stdout.write(`${summary(res, doc)}\n`);
  } finally {
    await service.release();
  }
}

function write(target: string, data: string | Buffer): void {
  if (target === '-') {
    process.stdout.write(data);
    return;
  }
  try {
    writeFileSync(target, data);
  } catch (e) {
    throw new ModelLensError('io', target, `cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

export function toDoc(res: AttentionMapResult, model: string, image: string, head?: number): AttentionMapDoc {
  const all = row(res.rows);
  const n = res.model.grid[0] * res.model.grid[1];
  const count = all.length / n;
  const picked = res.kind === 'rollout' ? [0] : head !== undefined ? [head - 1] : Array.from({ length: count }, (_, h) => h);
  return {
    schema: ATTENTION_MAP_SCHEMA,
    model,
    image: basename(image),
    layer: res.layer + 1,
    kind: res.kind,
    ...(res.query ? { query: res.query } : {}),
    grid: res.model.grid,
    patchSize: res.model.patchSize,
    heads: res.kind === 'rollout' ? Array.from({ length: res.model.heads }, (_, h) => h + 1) : picked.map((h) => h + 1),
    rows: picked.map((h) => Array.from(all.subarray(h * n, (h + 1) * n))),
    specialMass: picked.map((h) => res.specialMass[h]!),
  };
}

function pictureFor(res: AttentionMapResult, doc: AttentionMapDoc, opacity: number): Buffer {
  const [h, w] = res.model.inputSize;
  const tiles = res.kind === 'rollout'
    ? [{ row: doc.rows[0]!, label: `mean of ${res.model.heads} heads` }]
    : doc.heads.map((head, k) => ({ row: doc.rows[k]!, label: tileLabel(head, res.distance[head - 1], res.entropy[head - 1]) }));
  const pic = renderPicture({ rgb: Buffer.from(res.image.rgb ?? '', 'base64'), width: w, height: h, grid: res.model.grid, tiles, opacity, query: res.query, title: pictureTitle(res.kind, res.layer, res.image.name, res.query) });
  return encodePng(pic.width, pic.height, pic.data);
}

function summary(res: AttentionMapResult, doc: AttentionMapDoc): string {
  const [, gw] = res.model.grid;
  const lines = [`${doc.model}: ${pictureTitle(res.kind, res.layer, res.image.name, res.query)} (${res.model.grid.join('×')} patches, ${res.device})`];
  doc.rows.forEach((r, k) => {
    let best = 0;
    for (let j = 1; j < r.length; j++) if (r[j]! > r[best]!) best = j;
    const who = res.kind === 'rollout' ? 'rollout' : `head ${doc.heads[k]}`;
    const stats = res.kind === 'rollout' ? '' : `  distance ${res.distance[doc.heads[k]! - 1]!.toFixed(1)} px  entropy ${res.entropy[doc.heads[k]! - 1]!.toFixed(2)} nats`;
    lines.push(`  ${who}: peak at patch ${Math.floor(best / gw)},${best % gw} (${r[best]!.toFixed(3)})  special-token mass ${doc.specialMass[k]!.toFixed(3)}${stats}`);
  });
  return lines.join('\n');
}
