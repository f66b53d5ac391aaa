// Deterministic mutation fuzzing of the readers: flipped, truncated, inserted and overwritten bytes in
// good fixtures must give either a valid checkpoint or a ModelLensError, never another exception,
// a hang or runaway memory. Zip fixtures are re-zipped around a mutated data.pkl so the unpickler and
// the storage checks are reached (a plain byte flip would mostly stop at the CRC check).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MemoryByteSource } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openSource } from '../../src/formats/openCheckpoint';
import { runPickle } from '../../src/formats/pickle';
import { readTensorF32 } from '../../src/formats/tensorData';
import { openZip, readEntry } from '../../src/formats/zip';
import { buildZip, READERS } from './readerTestUtil';
import { mulberry32 } from '../../src/analysis/probes';

const rng = mulberry32;

const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x28, 0x2e, 0x52, 0x63, 0x93, 0x94, 0x95, 0x58, 0x8d, 0x7b, 0x22, 0x5b];

function mutate(data: Uint8Array, r: () => number): Uint8Array {
  const d = new Uint8Array(data);
  const kind = Math.floor(r() * 5);
  const at = Math.floor(r() * d.length);
  switch (kind) {
    case 0:
      for (let i = 0; i < 1 + Math.floor(r() * 4); i++) d[Math.floor(r() * d.length)]! ^= 1 << Math.floor(r() * 8);
      return d;
    case 1:
      return d.subarray(0, at);
    case 2: {
      const ins = Uint8Array.from({ length: 1 + Math.floor(r() * 8) }, () => INTERESTING[Math.floor(r() * INTERESTING.length)]!);
      return Uint8Array.from([...d.subarray(0, at), ...ins, ...d.subarray(at)]);
    }
    case 3:
      for (let i = 0; i < 4 && at + i < d.length; i++) d[at + i] = 0xff;
      return d;
    default:
      d[at] = INTERESTING[Math.floor(r() * INTERESTING.length)]!;
      return d;
  }
}

async function openAndRead(name: string, bytes: Uint8Array): Promise<'ok' | 'typed'> {
  const src = new MemoryByteSource(name, bytes);
  try {
    const ck = await openSource(src);
    for (const t of ck.tensors) {
      if (t.location.file !== name) continue; // shards live elsewhere
      await readTensorF32(t, { source: src });
    }
    return 'ok';
  } catch (e) {
    if (e instanceof ModelLensError) return 'typed';
    throw new Error(`${name}: untyped ${String(e)}\n${(e as Error).stack ?? ''}`);
  }
}

test('mutated files: only typed errors', async () => {
  const r = rng(20261126);
  const files = ['views_fp32.pth', 'legacy.pth', 'mixed.safetensors', 'mae_wrapper.pth', 'ddp_proto4.pth', 'yacs_numpy.pth', 'full_module.pth'];
  const tally = { ok: 0, typed: 0 };
  const t0 = performance.now();
  for (const f of files) {
    const data = new Uint8Array(readFileSync(resolve(READERS, f)));
    for (let i = 0; i < 150; i++) tally[await openAndRead(f, mutate(data, r))]++;
  }
  assert.ok(tally.typed > 0 && tally.ok > 0, JSON.stringify(tally));
  assert.ok(performance.now() - t0 < 60_000);
});

test('mutated data.pkl inside consistent archives: only typed errors', async () => {
  const r = rng(7);
  const tally = { ok: 0, typed: 0 };
  for (const f of ['views_fp32.pth', 'mae_wrapper.pth', 'ddp_proto4.pth', 'yacs_numpy.pth', 'full_module.pth']) {
    const src = new MemoryByteSource(f, new Uint8Array(readFileSync(resolve(READERS, f))));
    const zip = await openZip(src);
    const entries = await Promise.all([...zip.entries.values()].map(async (e) => ({ name: e.name, data: (await readEntry(zip, e, 1 << 24)).data })));
    const pkl = entries.find((e) => e.name.endsWith('data.pkl'))!;
    for (let i = 0; i < 150; i++) {
      const mutated = entries.map((e) => (e === pkl ? { name: e.name, data: mutate(e.data, r) } : e));
      tally[await openAndRead(f, buildZip(mutated))]++;
    }
  }
  assert.ok(tally.typed > 0, JSON.stringify(tally));
});

test('mutated raw pickles (protocols 0-5): only typed errors', () => {
  const r = rng(99);
  for (let p = 0; p <= 5; p++) {
    const data = new Uint8Array(readFileSync(resolve(READERS, 'pickles', `proto${p}.pkl`)));
    for (let i = 0; i < 300; i++) {
      try {
        runPickle(mutate(data, r), { file: `proto${p}.pkl` });
      } catch (e) {
        assert.ok(e instanceof ModelLensError, `protocol ${p}: untyped ${String(e)}\n${(e as Error).stack ?? ''}`);
      }
    }
  }
});
