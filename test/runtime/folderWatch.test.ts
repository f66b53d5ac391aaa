// Watch mode's file detection: a checkpoint is reported once, only after its size stayed put.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { FolderWatch } from '../../src/runtime/folderWatch';

test('a new checkpoint is reported once its size has been stable; files there at the start are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-watch-'));
  try {
    writeFileSync(join(dir, 'epoch_1.pth'), 'old');
    const seen: string[] = [];
    const w = await FolderWatch.start(dir, { stableMs: 3000, pollMs: 3_600_000, onStable: (f) => seen.push(basename(f)) });
    try {
      const t0 = Date.now();
      writeFileSync(join(dir, 'epoch_2.pth'), 'part');
      writeFileSync(join(dir, 'notes.txt'), 'not a checkpoint');
      await w.poll(false, t0);
      appendFileSync(join(dir, 'epoch_2.pth'), 'more'); // still being written
      await w.poll(false, t0 + 2000);
      await w.poll(false, t0 + 4000);
      assert.deepEqual(seen, [], 'the size changed 2 s ago: not yet');
      await w.poll(false, t0 + 5100);
      assert.deepEqual(seen, ['epoch_2.pth']);
      await w.poll(false, t0 + 9000);
      assert.deepEqual(seen, ['epoch_2.pth'], 'reported once');
    } finally {
      w.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
