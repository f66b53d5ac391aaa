// What a click on a CKA cell says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ckaCellText } from '../../webview/analysisData';

test('ckaCellText: the value, the batch count and both layers\' per-layer metrics (1-based)', () => {
  const ad = { perHead: [], perLayer: [12.34, 40.5], unit: 'px' };
  const hd = { perHead: [], perLayer: [1.2345, 0.5], unit: 'nats' };
  const t = ckaCellText([[1, 0.8123], [0.8123, 1]], 4, ad as never, hd as never, 1, 2);
  assert.equal(t, 'Layer 1 × layer 2: CKA 0.812 over 4 batches. Layer 1: attention distance 12.3 px, head diversity 1.234 nats. Layer 2: attention distance 40.5 px, head diversity 0.500 nats.');
});
