// attention/map and attention/probes through the BUILT worker (dist/worker.js) and WorkerClient: the
// rows that cross the process boundary are base64 float32 and equal the PyTorch reference; bad params
// are refused with a typed error before any work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkerClient } from '../../src/runtime/workerClient';
import { ATTENTION_MAP, ATTENTION_PROBES, type AttentionMapResult, type AttentionProbesResult } from '../../src/protocol/workerProtocol';

const root = join(__dirname, '..', '..', '..');
const fixtures = join(root, 'test', 'fixtures');
interface RefCase { name: string; file: string; image: string; query: [number, number]; perLayer: Array<{ query: number[][] }> }
const timm = (JSON.parse(readFileSync(join(fixtures, 'attention', 'refs.json'), 'utf8')) as { cases: RefCase[] }).cases.find((c) => c.name === 'timm-vit')!;

test('worker: attention/probes then attention/map of a strip image; bad params refused', { timeout: 60_000 }, async () => {
  const client = new WorkerClient({ workerPath: join(root, 'dist', 'worker.js') });
  try {
    const strip = await client.request<AttentionProbesResult>(ATTENTION_PROBES, { images: join(fixtures, 'probes', 'png32'), limit: 4, inputSize: [32, 32], thumb: 16 });
    assert.equal(strip.items.length, 4);
    const ref = strip.items.find((i) => i.name === 'p03.png')!.ref;
    const res = await client.request<AttentionMapResult>(ATTENTION_MAP, { file: join(fixtures, timm.file), device: 'cpu', image: ref, layer: 1, kind: 'query', query: timm.query });
    assert.equal(typeof res.rows, 'string', 'rows travel as base64');
    const b = Buffer.from(res.rows, 'base64');
    const rows = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const want = timm.perLayer[1]!.query;
    assert.equal(rows.length, want.length * 16);
    want.forEach((row, h) => row.forEach((v, j) => assert.ok(Math.abs(rows[h * 16 + j]! - v) <= 1e-5, `head ${h + 1} key ${j}`)));
    await assert.rejects(client.request(ATTENTION_MAP, { file: join(fixtures, timm.file), image: ref, layer: 0, kind: 'everything' }), /kind must be one of/);
    await assert.rejects(client.request(ATTENTION_MAP, { file: join(fixtures, timm.file), image: { file: 3 }, layer: 0, kind: 'cls' }), /image\.file must be/);
    await assert.rejects(client.request(ATTENTION_PROBES, { inputSize: [32], thumb: 16 }), /inputSize must be/);
    for (const imageSize of [0, 4097, 32.5, '48']) {
      await assert.rejects(client.request(ATTENTION_MAP, { file: join(fixtures, timm.file), image: ref, layer: 0, kind: 'cls', imageSize }), /imageSize must be an integer in 1\.\.4096/);
    }
  } finally {
    client.dispose();
  }
});
