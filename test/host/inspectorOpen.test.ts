// Time to open the inspector on a large file, host side: header read + recognition + the payload the
// webview receives, on a sparse 6 GiB safetensors file with 10,000 tensors. Reported as diagnostics;
// asserts the payload is complete and bounded (no tensor data in it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createHeaderService } from '../../src/host/headerService';
import { toInspectorData } from '../../src/host/inspectorData';

test('inspector open: 10,000 tensors, 6 GiB sparse safetensors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-open-'));
  try {
    const header: Record<string, unknown> = {};
    let off = 0;
    const count = 10_000;
    const each = Math.floor((6 * 2 ** 30) / count / 2) * 2; // bytes per F16 tensor
    for (let i = 0; i < count; i++) {
      header[`layers.${i}.weight`] = { dtype: 'F16', shape: [each / 2], data_offsets: [off, off + each] };
      off += each;
    }
    const json = JSON.stringify(header);
    const path = join(dir, 'many.safetensors');
    const fd = openSync(path, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, json);
    ftruncateSync(fd, 8 + Buffer.byteLength(json) + off);
    closeSync(fd);

    const headers = createHeaderService(() => undefined);
    const t0 = performance.now();
    const ic = await headers.inspect(path);
    const t1 = performance.now();
    const data = toInspectorData(ic);
    const payload = JSON.stringify({ kind: 'note', method: 'inspector/show', params: { data } });
    const t2 = performance.now();
    assert.equal(data.tensors.length, count);
    assert.equal(data.sizeBytes, 8 + Buffer.byteLength(json) + off);
    assert.ok(payload.length < 200 * count, `payload ${payload.length} chars`);
    const report = `inspector open on ${(data.sizeBytes / 2 ** 30).toFixed(2)} GiB, ${count} tensors: header+recognition ${(t1 - t0).toFixed(1)} ms, view payload ${(t2 - t1).toFixed(1)} ms (${(payload.length / 1024).toFixed(0)} KiB JSON)`;
    t.diagnostic(report);
    console.log(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
