// The hover's training-run lines: sparklines on the metrics' meaningful scales, so a run whose attention
// distance barely moves draws a flat line, and the checkpoint's place in the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hoverMarkdown, runLines } from '../../src/host/hoverContent';
import { TimelineCache, type RunSummary } from '../../src/runtime/timelineCache';

const model = { file: '/r/epoch_3.pth', family: 'timm-vit', imageSize: [224, 224], patchSize: [16, 16] } as unknown as RunSummary['model'];
const run = (ad: number[]): RunSummary => ({
  folder: '/r', orderedBy: 'step', savedAt: 0, model,
  checkpoints: ad.map((v, i) => ({ file: `/r/epoch_${i + 1}.pth`, step: (i + 1) * 100, attentionDistance: v, headDiversity: 1 + i, ckaMeanOffDiagonal: 0.9, ckaToFinal: i === ad.length - 1 ? 1 : 0.5 })),
});

test('a run whose attention distance barely moves draws a flat sparkline; the hovered checkpoint is placed', () => {
  const lines = runLines(run([115.9, 116.6, 116.2]), '/r/epoch_2.pth');
  assert.match(lines[0]!, /Run r: 3 checkpoints by step, this one is step 200/);
  const spark = /Attention distance over the run (\S+) /.exec(lines[1]!)?.[1] ?? '';
  assert.equal(new Set(spark).size, 1, `flat: ${spark}`);
  assert.match(lines[1]!, /bars 0–\d+ px/);
  assert.match(lines.join('\n'), /CKA to the final checkpoint .* \(bars 0–1\)/);
});

test('the hover markdown carries the run lines, escaped', () => {
  const md = hoverMarkdown({ file: '/r/epoch_1.pth', sizeBytes: 1, openCommand: 'command:x', run: run([10, 60, 110]) });
  assert.match(md, /Run r: 3 checkpoints by step/);
  assert.doesNotMatch(md, /\]\(command:(?!x)/);
});

test('runOf finds the run a checkpoint belongs to, and nothing for a file the run did not list', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-run-summary-'));
  try {
    const cache = new TimelineCache(dir);
    await cache.putRun({ ...run([1, 2]), folder: '/r' });
    assert.equal((await cache.runOf('/r/epoch_2.pth'))?.checkpoints.length, 2);
    assert.equal(await cache.runOf('/r/other.pth'), undefined);
    assert.equal(await cache.runOf('/elsewhere/epoch_2.pth'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
