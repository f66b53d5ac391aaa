// The host's checks of what the attention view and the analysis view's drill-down send.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeFileName, validateAttentionMessage } from '../../src/host/attentionMessages';
import { validateViewMessage } from '../../src/host/analysisMessages';

const PNG = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64')}`;

test('attention view: known requests with well-formed params pass, anything else is dropped', () => {
  const ok = (m: unknown): void => assert.equal(validateAttentionMessage(m).ok, true, JSON.stringify(m));
  const no = (m: unknown, re: RegExp): void => {
    const v = validateAttentionMessage(m);
    assert.equal(v.ok, false, JSON.stringify(m));
    if (!v.ok) assert.match(v.reason, re);
  };
  ok({ kind: 'note', method: 'attentionView/ready', params: {} });
  ok({ kind: 'req', id: 1, method: 'attentionView/probes', params: {} });
  ok({ kind: 'req', id: 2, method: 'attentionView/map', params: { generation: 1, image: 3, layer: 11, kind: 'query', query: [4, 5], withImage: true } });
  ok({ kind: 'req', id: 3, method: 'attentionView/exportPng', params: { dataUrl: PNG, name: 'a.png' } });
  ok({ kind: 'note', method: '$/cancel', params: { id: 2 } });
  no({ kind: 'req', id: 2, method: 'attentionView/map', params: { generation: 1, image: 0, layer: 0, kind: 'values' } }, /kind must be/);
  no({ kind: 'req', id: 2, method: 'attentionView/map', params: { generation: 1, image: -1, layer: 0, kind: 'cls' } }, /integers >= 0/);
  no({ kind: 'req', id: 2, method: 'attentionView/map', params: { generation: 1, image: 0, layer: 0, kind: 'query', query: [1] } }, /query must be/);
  no({ kind: 'req', id: 2, method: 'attentionView/map', params: { generation: 1, image: 0, layer: 0, kind: 'cls', file: '/etc/passwd' } }, /unexpected field file/);
  no({ kind: 'req', id: 3, method: 'attentionView/exportPng', params: { dataUrl: 'data:text/html;base64,AAAA', name: 'a.png' } }, /dataUrl/);
  no({ kind: 'req', id: 4, method: 'attentionView/run', params: {} }, /unknown request/);
  no({ kind: 'note', method: 'attentionView/ready', params: { x: 1 } }, /takes no params/);
  no('hello', /not an object/);
});

test('export names cannot leave the folder or carry odd characters', () => {
  assert.equal(safeFileName('../../x.png'), '_.._x.png');
  assert.equal(safeFileName('a/b\\c:d.png'), 'a_b_c_d.png');
  assert.equal(safeFileName('map'), 'map.png');
});

test('analysis view drill-down: openAttention needs {model 0|1, layer, head}', () => {
  assert.deepEqual(validateViewMessage({ kind: 'note', method: 'analysisView/openAttention', params: { model: 1, layer: 5, head: 2 } }), {
    ok: true,
    message: { kind: 'note', method: 'analysisView/openAttention', params: { model: 1, layer: 5, head: 2 } },
  });
  for (const params of [{ model: 2, layer: 0, head: 0 }, { model: 0, layer: -1, head: 0 }, { model: 0, layer: 0 }, { model: 0, layer: 0, head: 0, file: 'x' }, { model: 0, layer: 0.5, head: 0 }]) {
    assert.equal(validateViewMessage({ kind: 'note', method: 'analysisView/openAttention', params }).ok, false, JSON.stringify(params));
  }
});
