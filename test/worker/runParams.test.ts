// Parameters of analysis/run and timeline/run come from another process: the input size is checked before use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunParams, parseTimelineParams } from '../../src/worker/handlers';

test('imageSize: an integer from 1 to 4096, absent when not given, carried to timeline runs', () => {
  assert.equal(parseRunParams({ file: 'a.pth', imageSize: 224 }).imageSize, 224);
  assert.equal('imageSize' in parseRunParams({ file: 'a.pth' }), false);
  assert.equal('imageSize' in parseRunParams({ file: 'a.pth', imageSize: null }), false);
  for (const bad of [0, -14, 22.5, '224', 4097]) assert.throws(() => parseRunParams({ file: 'a.pth', imageSize: bad }), /imageSize must be/, String(bad));
  assert.equal(parseTimelineParams({ inputs: ['run/'], imageSize: 112 }).imageSize, 112);
  assert.equal('imageSize' in parseTimelineParams({ inputs: ['run/'] }), false);
});
