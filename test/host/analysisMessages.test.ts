import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePngDataUrl, validateExportRequest, validateViewMessage } from '../../src/host/analysisMessages';
import { ANALYSIS_VIEW_METHODS as M, MAX_PNG_DATA_URL_CHARS } from '../../src/protocol/analysisViewProtocol';

// A real 1×1 PNG (signature, IHDR, IDAT, IEND).
const PNG_1x1 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const pngUrl = `data:image/png;base64,${PNG_1x1}`;

test('accepts the view notifications with empty params, and $/cancel with an id', () => {
  for (const method of [M.ready, M.cancel, M.rerun, M.showLog, M.openMetricsDocs]) {
    const v = validateViewMessage({ kind: 'note', method, params: {} });
    assert.ok(v.ok, method);
    assert.deepEqual(v.ok && v.message, { kind: 'note', method, params: {} });
  }
  assert.ok(validateViewMessage({ kind: 'note', method: M.ready }).ok, 'params may be absent');
  assert.equal(validateViewMessage({ kind: 'note', method: M.openMetricsDocs, params: { path: '/etc/passwd' } }).ok, false, 'the docs link takes no path from the view');
  assert.deepEqual(validateViewMessage({ kind: 'note', method: '$/cancel', params: { id: 3 } }), { ok: true, message: { kind: 'note', method: '$/cancel', params: { id: 3 } } });
});

test('rejects unknown methods, host-only methods, stray params and malformed envelopes', () => {
  const bad: unknown[] = [
    null,
    'ready',
    [],
    { kind: 'note' },
    { kind: 'note', method: 'analysis/run', params: {} },
    { kind: 'note', method: M.show, params: {} },
    { kind: 'note', method: M.progress, params: { done: 1 } },
    { kind: 'note', method: M.cancel, params: { id: 1 } },
    { kind: 'note', method: M.ready, params: [] },
    { kind: 'note', method: '$/cancel', params: { id: 'x' } },
    { kind: 'req', method: M.export, params: { format: 'json' } },
    { kind: 'req', id: -1, method: M.export, params: { format: 'json' } },
    { kind: 'req', id: 1, method: M.renderPng, params: { chart: 'cka' } },
    { kind: 'req', id: 1, method: '__proto__', params: {} },
    { kind: 'res', id: 1 },
    { kind: 'res', id: 1, ok: true, result: { nope: 1 } },
    { kind: 'evil', id: 1 },
  ];
  for (const m of bad) assert.equal(validateViewMessage(m).ok, false, JSON.stringify(m));
});

test('export requests: json, csv per metric, png per chart; nothing else', () => {
  assert.deepEqual(validateExportRequest({ format: 'json' }), { ok: true, request: { format: 'json' } });
  for (const metric of ['attentionDistance', 'headDiversity', 'cka', 'crossCka']) {
    assert.deepEqual(validateExportRequest({ format: 'csv', metric }), { ok: true, request: { format: 'csv', metric } });
  }
  for (const chart of ['attention-distance', 'head-diversity', 'cka', 'cka-b', 'cross-cka']) {
    assert.deepEqual(validateExportRequest({ format: 'png', chart, dataUrl: pngUrl }), { ok: true, request: { format: 'png', chart, dataUrl: pngUrl } });
  }
  const bad: unknown[] = [
    { format: 'json', path: '/etc/passwd' },
    { format: 'csv', metric: 'constructor' },
    { format: 'csv' },
    { format: 'png', chart: '../../x', dataUrl: pngUrl },
    { format: 'png', chart: 'cka', dataUrl: 'data:text/html;base64,PGI+' },
    { format: 'png', chart: 'cka', dataUrl: 'data:image/png;base64,AAAA' },
    { format: 'png', chart: 'cka', dataUrl: 'data:image/png;base64,not base64!' },
    { format: 'png', chart: 'cka' },
    { format: 'html' },
    'json',
  ];
  for (const b of bad) assert.equal(validateExportRequest(b).ok, false, JSON.stringify(b));
  const req = validateViewMessage({ kind: 'req', id: 7, method: M.export, params: { format: 'csv', metric: 'cka' } });
  assert.deepEqual(req, { ok: true, message: { kind: 'req', id: 7, method: M.export, params: { format: 'csv', metric: 'cka' } } });
});

test('PNG data URLs decode to PNG bytes; oversize and non-PNG are refused', () => {
  const bytes = decodePngDataUrl(pngUrl);
  assert.deepEqual([...bytes.slice(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(bytes.length, Buffer.from(PNG_1x1, 'base64').length);
  assert.throws(() => decodePngDataUrl(`data:image/png;base64,${Buffer.from('GIF89a....').toString('base64')}`), /not a PNG/);
  assert.throws(() => decodePngDataUrl(`data:image/png;base64,${'A'.repeat(MAX_PNG_DATA_URL_CHARS)}`), /too large/);
});

test('responses to renderPng carry only a dataUrl; errors are truncated', () => {
  const ok = validateViewMessage({ kind: 'res', id: 2, ok: true, result: { dataUrl: pngUrl, extra: 'x' } });
  assert.deepEqual(ok, { ok: true, message: { kind: 'res', id: 2, ok: true, result: { dataUrl: pngUrl } } });
  const err = validateViewMessage({ kind: 'res', id: 2, ok: false, error: { code: 'x', message: 'm'.repeat(5000) } });
  assert.ok(err.ok && err.message.kind === 'res' && err.message.error!.message.length === 2000);
});
