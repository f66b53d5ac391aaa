// The header cache: one read per file identity (path, size, mtime) and options; changes re-read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeaderCache } from '../../src/runtime/headerCache';
import { ModelLensError } from '../../src/formats/errors';

test('reads once per identity; a changed mtime or size re-reads; options are part of the key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-hc-'));
  const f = join(dir, 'a.pth');
  writeFileSync(f, 'abc');
  let loads = 0;
  const cache = new HeaderCache<string>(async (p, k) => `${p}|${k}|${++loads}`);
  const v1 = await cache.get(f);
  assert.equal(await cache.get(f), v1);
  assert.equal(loads, 1);
  await cache.get(f, 'ema');
  assert.equal(loads, 2);
  utimesSync(f, new Date(), new Date(Date.now() + 5000));
  const v2 = await cache.get(f);
  assert.notEqual(v2, v1);
  assert.equal(loads, 3);
  writeFileSync(f, 'abcd');
  utimesSync(f, new Date(), new Date(Date.now() + 5000));
  await cache.get(f);
  assert.equal(loads, 4);
  assert.equal(await cache.peek(f), `${f}||4`);
  assert.equal(await cache.peek(f, 'other'), undefined);
});

test('failures are cached until the file changes; missing files are typed errors', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-hc-'));
  const f = join(dir, 'bad.pth');
  writeFileSync(f, 'x');
  let loads = 0;
  const cache = new HeaderCache<string>(async () => {
    loads++;
    throw new ModelLensError('corrupt', f, 'nope', 3);
  });
  await assert.rejects(cache.get(f), /nope/);
  await assert.rejects(cache.get(f), /nope/);
  assert.equal(loads, 1);
  assert.equal(await cache.peek(f), undefined);
  await assert.rejects(cache.get(join(dir, 'missing.pth')), (e: ModelLensError) => e.code === 'not-found');
  await assert.rejects(cache.get(dir), (e: ModelLensError) => e.code === 'io');
});

test('concurrent gets share one read; LRU bound holds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-hc-'));
  let loads = 0;
  const cache = new HeaderCache<number>(async () => {
    await new Promise((r) => setTimeout(r, 10));
    return ++loads;
  }, 3);
  const f = join(dir, 'c.pth');
  writeFileSync(f, 'x');
  const [a, b] = await Promise.all([cache.get(f), cache.get(f)]);
  assert.equal(a, b);
  assert.equal(loads, 1);
  for (let i = 0; i < 5; i++) {
    const g = join(dir, `f${i}.pth`);
    writeFileSync(g, 'x');
    await cache.get(g);
  }
  assert.equal(cache.size, 3);
});
