import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelSummary } from '../../src/model/modelTypes';
import { headsWarning } from '../../src/worker/preparedModel';

const summary = (headsSource: ModelSummary['headsSource'], heads = 12): ModelSummary => ({ heads, headsSource } as unknown as ModelSummary);

test('guessed head count: the warning names both ways to set it (CLI flag and VS Code setting)', () => {
  const [w, ...rest] = headsWarning(summary('dim/64'));
  assert.equal(rest.length, 0);
  assert.match(w!, /assumed dim\/64 = 12/);
  assert.match(w!, /--heads H \(CLI\)/);
  assert.match(w!, /modelLens\.headsOverride setting \(VS Code\)/);
  assert.doesNotMatch(w!, /^Pass --heads|\. Pass --heads/);
  assert.match(headsWarning(summary('model-name', 16))[0]!, /\(16\) inferred from the model name/);
});

test('no warning when the file (or the user) gives the head count', () => {
  for (const src of ['config', 'override', 'checkpoint-args', 'weights'] as const) assert.deepEqual(headsWarning(summary(src)), []);
});
