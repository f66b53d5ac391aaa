// What the timeline webview may send, and the CSV export of a timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timelineCsv, validateTimelineMessage, type TimelineResult } from '../../src/protocol/timelineViewProtocol';

test('only well-formed messages from the timeline view are accepted', () => {
  assert.deepEqual(validateTimelineMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(validateTimelineMessage({ type: 'watch', on: true, extra: 1 }), { type: 'watch', on: true });
  assert.deepEqual(validateTimelineMessage({ type: 'export', format: 'csv' }), { type: 'export', format: 'csv' });
  for (const bad of [null, 'ready', { type: 'watch', on: 'yes' }, { type: 'export', format: 'exe' }, { type: 'exportPng', name: '../x', dataUrl: 'data:image/png;base64,AA==' },
    { type: 'exportPng', name: 'cka', dataUrl: 'data:text/html;base64,AA==' }, { type: 'openFile', path: '/etc/passwd' }]) {
    assert.equal(validateTimelineMessage(bad), undefined, JSON.stringify(bad));
  }
});

test('CSV: one row per checkpoint and layer, file names quoted when they need it', () => {
  const block = (v: number[]): { perHead: number[][]; perLayer: number[]; unit: 'px' } => ({ perHead: v.map((x) => [x]), perLayer: v, unit: 'px' });
  const t = {
    schema: 'model-lens/timeline@1', run: { orderedBy: 'step' }, probe: {} as never, device: { requested: 'cpu', used: 'cpu' }, skipped: [],
    checkpoints: [
      { file: '/run/a,1.pth', step: 10, model: {} as never, attentionDistance: block([1, 2]), headDiversity: { ...block([0.5, 0.25]), unit: 'nats' }, cka: { matrix: [], batches: 1, estimator: 'linear-minibatch-unbiased' },
        ckaSummary: { meanOffDiagonal: 0.9, firstLast: 0.8, toFinal: [0.7, null], toFinalMean: 0.7 }, warnings: [] },
    ],
  } as unknown as TimelineResult;
  const lines = timelineCsv(t).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'index,step,epoch,file,layer,attention_distance_px,head_diversity_nats,special_mass,cka_to_final,cka_mean_off_diagonal,cka_first_last');
  assert.equal(lines[1], '1,10,,"/run/a,1.pth",1,1,0.5,,0.7,0.9,0.8');
  assert.equal(lines[2], '1,10,,"/run/a,1.pth",2,2,0.25,,,0.9,0.8');
});
