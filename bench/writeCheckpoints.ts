// Writes random timm-layout ViT checkpoints as safetensors files for the timeline and weights-diff
// benchmarks, streaming tensor by tensor (a 1.2 GB ViT-L never sits in memory). Usage:
//   node out/bench/writeCheckpoints.js DIR COUNT [--dim D --layers L --heads H --drift X]
// Checkpoint k has weights w_1 + k·drift·(w_2 − w_1)/COUNT-ish: a "run" whose layers move step by step.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomVit } from './vitB';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

function shapes(dim: number, layers: number, patch: number, image: number): Array<[string, number[]]> {
  const n = (image / patch) ** 2;
  const out: Array<[string, number[]]> = [['cls_token', [1, 1, dim]], ['pos_embed', [1, n + 1, dim]], ['patch_embed.proj.weight', [dim, 3, patch, patch]], ['patch_embed.proj.bias', [dim]]];
  for (let l = 0; l < layers; l++) {
    const p = `blocks.${l}.`;
    out.push([`${p}norm1.weight`, [dim]], [`${p}norm1.bias`, [dim]], [`${p}attn.qkv.weight`, [3 * dim, dim]], [`${p}attn.qkv.bias`, [3 * dim]],
      [`${p}attn.proj.weight`, [dim, dim]], [`${p}attn.proj.bias`, [dim]], [`${p}norm2.weight`, [dim]], [`${p}norm2.bias`, [dim]],
      [`${p}mlp.fc1.weight`, [4 * dim, dim]], [`${p}mlp.fc1.bias`, [4 * dim]], [`${p}mlp.fc2.weight`, [dim, 4 * dim]], [`${p}mlp.fc2.bias`, [dim]]);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = process.argv[2] as string;
  const count = Number(process.argv[3] ?? '1');
  const dim = arg('--dim', 384);
  const layers = arg('--layers', 12);
  const heads = arg('--heads', 6);
  const drift = arg('--drift', 0.5);
  mkdirSync(dir, { recursive: true });
  const base = randomVit({ dim, layers, heads, seed: 1 });
  const target = randomVit({ dim, layers, heads, seed: 2 });
  const list = shapes(dim, layers, 16, 224);
  const header: Record<string, unknown> = { __metadata__: { num_heads: String(heads), format: 'pt' } };
  let offset = 0;
  for (const [name, shape] of list) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let hb = Buffer.from(JSON.stringify(header));
  hb = Buffer.concat([hb, Buffer.alloc((8 - (hb.length % 8)) % 8, 0x20)]);
  for (let k = 1; k <= count; k++) {
    const fd = openSync(join(dir, `step_${k * 1000}.safetensors`), 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    writeSync(fd, len);
    writeSync(fd, hb);
    // Deeper layers move more: a run in which the last blocks change most.
    for (const [name] of list) {
      const a = await base.weights(name);
      const b = await target.weights(name);
      const layer = /^blocks\.(\d+)\./.exec(name);
      const f = (drift * k * (layer ? 1 + Number(layer[1]) : 0.5)) / (count * layers);
      for (let i = 0; i < a.length; i++) a[i] = a[i]! + f * (b[i]! - a[i]!);
      if (name.endsWith('norm1.weight') || name.endsWith('norm2.weight')) for (let i = 0; i < a.length; i++) a[i] = a[i]! + 1;
      writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    }
    closeSync(fd);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
