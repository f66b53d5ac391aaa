// Runs every file of the bad-input corpus through openCheckpoint: each must give the typed error of
// its manifest entry (code, message, offset) or open with the listed findings; none may take long,
// grow memory much, or ever execute anything (the hostile pickles' canary files never appear).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelLensError } from '../../src/formats/errors';
import type { Finding } from '../../src/formats/checkpoint';
import { openCheckpoint } from '../../src/formats/openCheckpoint';
import { readTensorF32 } from '../../src/formats/tensorData';
import { BAD } from './readerTestUtil';

interface Entry {
  file: string;
  expectError?: { code: string; messageIncludes: string; offset?: number };
  expectOpen?: { findings: Array<Partial<Finding>>; tensorCount?: number };
  canary?: string;
}

const manifest = JSON.parse(readFileSync(resolve(BAD, 'manifest.json'), 'utf8')) as { files: Entry[] };
const MAX_MS = 3000;
const MAX_RSS_GROWTH = 256 * 1024 * 1024;

test('the corpus has at least 25 files and covers the required cases', () => {
  assert.ok(manifest.files.length >= 25, `${manifest.files.length} files`);
  for (const e of manifest.files) assert.ok(existsSync(resolve(BAD, e.file)), e.file);
  const names = manifest.files.map((e) => e.file).join(' ');
  for (const must of [
    'empty', 'lfs-pointer', 'html-page', 'zip-truncated-central-dir', 'data-pkl-truncated', 'os-system-reduce', 'os-system-stack-global',
    'pickle-trailing-garbage', 'missing-storage', 'storage-too-small', 'view-past-end', 'deep-nesting', 'binunicode-4gb',
    'st-header-len-2p64', 'st-header-len-past-eof', 'st-header-len-100000001', 'st-non-utf8', 'st-overlap', 'st-gap',
    'st-trailing-bytes', 'st-shape-overflow', 'st-unknown-dtype', 'st-duplicate-keys', 'onnx-random-bytes', 'onnx-truncated',
    'onnx-external-dotdot',
  ]) {
    assert.ok(names.includes(must), `corpus lacks ${must}`);
  }
});

for (const entry of manifest.files) {
  test(`bad corpus: ${entry.file}`, async () => {
    const path = resolve(BAD, entry.file);
    if (entry.canary) rmSync(entry.canary, { force: true });
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    let opened: Awaited<ReturnType<typeof openCheckpoint>> | undefined;
    let error: unknown;
    try {
      opened = await openCheckpoint(path);
      // Reading every tensor of a file that opens must work too (or fail typed).
      for (const t of opened.tensors) await readTensorF32(t);
    } catch (e) {
      error = e;
    }
    const ms = performance.now() - t0;
    assert.ok(ms < MAX_MS, `${entry.file} took ${ms.toFixed(0)} ms`);
    assert.ok(process.memoryUsage().rss - rss0 < MAX_RSS_GROWTH, `${entry.file} grew memory by ${process.memoryUsage().rss - rss0} bytes`);
    if (entry.expectError) {
      assert.ok(error !== undefined, `${entry.file} opened but should fail with ${entry.expectError.code}`);
      assert.ok(error instanceof ModelLensError, `${entry.file}: untyped error ${String(error)}`);
      assert.equal(error.code, entry.expectError.code, error.message);
      assert.ok(error.message.includes(entry.expectError.messageIncludes), `"${error.message}" lacks "${entry.expectError.messageIncludes}"`);
      if (entry.expectError.offset !== undefined) assert.equal(error.offset, entry.expectError.offset, error.message);
      assert.ok(error.file.endsWith(entry.file.split('/').slice(-1)[0]!) || error.file.includes(entry.file.split('/')[0]!), `error names ${error.file}`);
      assert.ok(!error.message.includes('\n    at '), 'no stack trace in the message');
    } else {
      assert.equal(error, undefined, `${entry.file} should open: ${String(error)}`);
      const want = entry.expectOpen!;
      if (want.tensorCount !== undefined) assert.equal(opened!.tensors.length, want.tensorCount);
      for (const wf of want.findings) {
        const hit = opened!.findings.find((f) => Object.entries(wf).every(([k, v]) => (f as unknown as Record<string, unknown>)[k] === v));
        assert.ok(hit, `${entry.file}: no finding like ${JSON.stringify(wf)} in ${JSON.stringify(opened!.findings)}`);
        assert.ok(hit.offset === undefined || Number.isInteger(hit.offset));
      }
      // Danger findings come first.
      if (opened!.findings.some((f) => f.severity === 'danger')) assert.equal(opened!.findings[0]!.severity, 'danger');
    }
    if (entry.canary) assert.equal(existsSync(entry.canary), false, `canary ${entry.canary} appeared: something was executed`);
  });
}
