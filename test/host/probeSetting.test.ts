import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { probeFolderSetting } from '../../src/host/probeSetting';

test('Choose Probe Images writes a workspace-relative path inside the workspace, an absolute one outside', () => {
  const root = join('/', 'work', 'proj');
  assert.equal(probeFolderSetting(join(root, 'data', 'probes'), root), 'data/probes');
  assert.equal(probeFolderSetting(join(root, 'probes'), root), 'probes');
  assert.equal(probeFolderSetting(root, root), '.');
  assert.equal(probeFolderSetting(join('/', 'work', 'proj-other', 'probes'), root), join('/', 'work', 'proj-other', 'probes'));
  assert.equal(probeFolderSetting(join('/', 'data', 'probes'), root), join('/', 'data', 'probes'));
  assert.equal(probeFolderSetting(join('/', 'data', 'probes'), undefined), join('/', 'data', 'probes'));
  // A folder literally named "..x" inside the workspace is still inside.
  assert.equal(probeFolderSetting(join(root, '..x'), root), '..x');
});
