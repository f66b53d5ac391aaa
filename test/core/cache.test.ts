import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, utimesSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultCache, analysisCacheKey, defaultCacheDir } from '../../src/core/cache';
import type { AnalysisResult } from '../../src/core/resultSchema';

const fake = (tag: string, pad = 0): AnalysisResult => ({ schema: 'model-lens/analysis@1', warnings: [tag, 'x'.repeat(pad)] } as unknown as AnalysisResult);

test('cache key follows file identity, options and probe folder contents', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cache-'));
  try {
    const ck = join(tmp, 'm.pth');
    writeFileSync(ck, 'abc');
    const imgs = join(tmp, 'imgs');
    mkdirSync(imgs);
    writeFileSync(join(imgs, 'a.png'), 'x');
    const base = { file: ck, batchSize: 16, device: 'auto' };
    const k1 = await analysisCacheKey(base);
    assert.equal(await analysisCacheKey({ ...base }), k1);
    assert.notEqual(await analysisCacheKey({ ...base, batchSize: 8 }), k1);
    assert.notEqual(await analysisCacheKey({ ...base, heads: 3 }), k1);
    assert.notEqual(await analysisCacheKey({ ...base, limit: 5 }), k1);
    const withImgs = await analysisCacheKey({ ...base, images: imgs });
    assert.notEqual(withImgs, k1);
    writeFileSync(join(imgs, 'b.png'), 'y');
    assert.notEqual(await analysisCacheKey({ ...base, images: imgs }), withImgs, 'a new probe image changes the key');
    utimesSync(ck, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.notEqual(await analysisCacheKey(base), k1, 'mtime is part of the identity');
    await assert.rejects(analysisCacheKey({ ...base, file: join(tmp, 'missing.pth') }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('get/put round trip, key collision safety, LRU eviction under the size limit', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cache-'));
  try {
    const cache = new ResultCache(join(tmp, 'c'), 5000);
    assert.equal(await cache.get('k1'), undefined);
    await cache.put('k1', fake('one', 1500));
    assert.deepEqual((await cache.get('k1'))?.warnings[0], 'one');
    await cache.put('k2', fake('two', 1500));
    // Make k1 the most recently used, then overflow: k2 (least recent) goes first.
    const files = readdirSync(join(tmp, 'c'));
    for (const f of files) utimesSync(join(tmp, 'c', f), new Date(2000, 1, 1), new Date(2000, 1, 1));
    await cache.get('k1');
    await cache.put('k3', fake('three', 1500));
    await cache.put('k4', fake('four', 100));
    assert.equal(await cache.get('k2'), undefined);
    assert.equal((await cache.get('k1'))?.warnings[0], 'one');
    assert.equal((await cache.get('k4'))?.warnings[0], 'four');
    await cache.clear();
    assert.equal(await cache.get('k1'), undefined);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('default cache folder honours XDG_CACHE_HOME', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux'), join('/x', 'model-lens'));
  assert.match(defaultCacheDir({}, 'linux'), /\.cache[\\/]model-lens$/);
});
