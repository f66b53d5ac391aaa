import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cacheKey, createResultCache, defaultCacheDir } from '../../src/runtime/cache';
import type { AnalysisRunParams } from '../../src/protocol/workerProtocol';
import type { AnalysisResult } from '../../src/analysis/resultSchema';

const root = resolve(__dirname, '..', '..', '..');
const result = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', 'vitb16-mim.json'), 'utf8')) as AnalysisResult;

function setup(): { dir: string; ckpt: string; other: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ml-cache-'));
  const ckpt = join(dir, 'a.safetensors');
  const other = join(dir, 'b.safetensors');
  writeFileSync(ckpt, 'x'.repeat(100));
  writeFileSync(other, 'y'.repeat(100));
  return { dir, ckpt, other, done: () => rmSync(dir, { recursive: true, force: true }) };
}

const params = (file: string, extra: Partial<AnalysisRunParams> = {}): AnalysisRunParams => ({ file, batchSize: 16, device: 'auto', limit: 64, jobId: 'j1', ...extra });

test('a stored result comes back for the same file and options, not for other options', async () => {
  const t = setup();
  try {
    const cache = createResultCache(join(t.dir, 'storage', 'analysis-cache'), () => 10);
    assert.equal(await cache.get(params(t.ckpt)), undefined);
    await cache.put(params(t.ckpt), result);
    assert.deepEqual(await cache.get(params(t.ckpt, { jobId: 'other job' })), result);
    assert.equal(await cache.get(params(t.ckpt, { batchSize: 8 })), undefined);
    assert.equal(await cache.get(params(t.ckpt, { heads: 6 })), undefined);
    assert.equal(await cache.get(params(t.ckpt, { variant: 'ema' })), undefined, 'another weight variant');
    assert.equal(await cache.get(params(t.ckpt, { fileB: t.other })), undefined);
    assert.equal(await cache.get(params(t.other)), undefined);
    assert.deepEqual(await cache.latestFor(t.ckpt), result);
  } finally {
    t.done();
  }
});

test('changing the checkpoint (mtime or size) or the probe folder invalidates the entry', async () => {
  const t = setup();
  try {
    const probes = join(t.dir, 'probes');
    mkdirSync(probes);
    writeFileSync(join(probes, 'a.png'), 'not really a png');
    const cache = createResultCache(join(t.dir, 'storage', 'analysis-cache'), () => 10);
    await cache.put(params(t.ckpt, { images: probes }), result);
    assert.deepEqual(await cache.get(params(t.ckpt, { images: probes })), result);
    writeFileSync(join(probes, 'b.png'), 'another');
    assert.equal(await cache.get(params(t.ckpt, { images: probes })), undefined, 'new probe image');
    await cache.put(params(t.ckpt), result);
    utimesSync(t.ckpt, new Date(), new Date(Date.now() + 5000));
    assert.equal(await cache.get(params(t.ckpt)), undefined, 'touched checkpoint');
    assert.equal(await cache.latestFor(t.ckpt), undefined);
    const k1 = await cacheKey(params(t.ckpt));
    writeFileSync(t.ckpt, 'x'.repeat(101));
    assert.notEqual((await cacheKey(params(t.ckpt))).key, k1.key);
  } finally {
    t.done();
  }
});

test('size limit evicts least recently used entries; 0 disables; clear empties', async () => {
  const t = setup();
  try {
    const storage = join(t.dir, 'storage');
    const size = Buffer.byteLength(JSON.stringify(result));
    // Room for two entries, not three.
    let limitMB = (2.5 * size) / (1024 * 1024);
    const cache = createResultCache(join(storage, 'analysis-cache'), () => limitMB);
    await cache.put(params(t.ckpt, { batchSize: 4 }), result);
    await new Promise((r) => setTimeout(r, 20));
    await cache.put(params(t.ckpt, { batchSize: 8 }), result);
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(await cache.get(params(t.ckpt, { batchSize: 4 })), 'read marks it recent');
    await new Promise((r) => setTimeout(r, 20));
    await cache.put(params(t.ckpt, { batchSize: 16 }), result);
    assert.ok(await cache.get(params(t.ckpt, { batchSize: 4 })));
    assert.equal(await cache.get(params(t.ckpt, { batchSize: 8 })), undefined, 'LRU entry evicted');
    assert.ok(await cache.get(params(t.ckpt, { batchSize: 16 })));
    const cleared = await cache.clear();
    assert.equal(cleared.entries, 2);
    assert.ok(cleared.bytes >= 2 * size);
    assert.deepEqual(readdirSync(join(storage, 'analysis-cache')), []);
    limitMB = 0;
    await cache.put(params(t.ckpt), result);
    assert.equal(await cache.get(params(t.ckpt)), undefined);
  } finally {
    t.done();
  }
});

test('cache key follows file identity, options and probe folder contents', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cache-'));
  try {
    const ck = join(tmp, 'm.pth');
    writeFileSync(ck, 'abc');
    const imgs = join(tmp, 'imgs');
    mkdirSync(imgs);
    writeFileSync(join(imgs, 'a.png'), 'x');
    const base = { file: ck, batchSize: 16, device: 'auto' };
    const k1 = (await cacheKey(base)).key;
    assert.equal((await cacheKey({ ...base })).key, k1);
    assert.notEqual((await cacheKey({ ...base, batchSize: 8 })).key, k1);
    assert.notEqual((await cacheKey({ ...base, heads: 3 })).key, k1);
    assert.notEqual((await cacheKey({ ...base, limit: 5 })).key, k1);
    assert.notEqual((await cacheKey({ ...base, variant: 'ema' })).key, k1, 'the weight variant is part of the key');
    assert.notEqual((await cacheKey({ ...base, distanceConvention: 'vit' })).key, k1, 'the distance convention is part of the key');
    assert.notEqual((await cacheKey({ ...base, ckaTokens: 'cls' })).key, k1, 'the CKA tokens are part of the key');
    assert.equal((await cacheKey({ ...base, distanceConvention: 'renormalised', ckaTokens: 'all' })).key, k1, 'the defaults spelled out are the defaults');
    const withImgs = (await cacheKey({ ...base, images: imgs })).key;
    assert.notEqual(withImgs, k1);
    writeFileSync(join(imgs, 'b.png'), 'y');
    assert.notEqual((await cacheKey({ ...base, images: imgs })).key, withImgs, 'a new probe image changes the key');
    utimesSync(ck, new Date(2001, 1, 1), new Date(2001, 1, 1));
    assert.notEqual((await cacheKey(base)).key, k1, 'mtime is part of the identity');
    await assert.rejects(cacheKey({ ...base, file: join(tmp, 'missing.pth') }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('default cache folder honours XDG_CACHE_HOME', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x' }, 'linux'), join('/x', 'model-lens'));
  assert.match(defaultCacheDir({}, 'linux'), /\.cache[\\/]model-lens$/);
});
