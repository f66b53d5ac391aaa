// Tiny files that would build huge values: each case runs in a child node process (so the
// measurement is that reader's alone) and must end in a typed too-large error with the peak resident
// memory growing by less than the documented bound (README, Security: 256 MB of work per header or
// pickle; the bound checked here adds the runtime's own slack).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { MemoryByteSource } from '../../src/formats/byteSource';
import { ModelLensError } from '../../src/formats/errors';
import { openSource } from '../../src/formats/openCheckpoint';
import { buildZip, latin } from './readerTestUtil';

const CHILD_ENV = 'MODEL_LENS_MEMORY_CASE';
const REPORT = 'memory-report: ';
const MAX_GROWTH_MB = 320;

function torchZip(pkl: Uint8Array): Uint8Array {
  return buildZip([
    { name: 'archive/data.pkl', data: pkl, method: 8 },
    { name: 'archive/version', data: latin('3\n') },
  ]);
}

function repeated(prefix: string, byte: number, count: number, suffix: string): Uint8Array {
  const p = latin(prefix);
  const s = latin(suffix);
  const out = new Uint8Array(p.length + count + s.length);
  out.set(p);
  out.fill(byte, p.length, p.length + count);
  out.set(s, p.length + count);
  return out;
}

/** The hostile inputs (built by the test, read from a file by the measuring child) and the outcome each must have. */
// 'opened': the input is legitimate once its memory is bounded (5M memo slots of one dict: ~100 MB).
const EXPECT: Record<string, string> = { 'bytes-value-under-cap': 'opened', 'memoize-5m': 'opened' };
const CASES: Record<string, () => { name: string; bytes: Uint8Array }> = {
  // 3 million empty dicts inside one list: a 3 KB deflated data.pkl.
  'empty-dicts-3m': () => ({ name: 'dicts.pth', bytes: torchZip(repeated('\x80\x02(', 0x7d, 3_000_000, 'l.')) }),
  // 5 million MEMOIZE of one dict: a 5 KB deflated data.pkl.
  'memoize-5m': () => ({ name: 'memo.pth', bytes: torchZip(repeated('\x80\x04}', 0x94, 5_000_000, '.')) }),
  // A deflate bomb: data.pkl declared and inflating to 200 MB (about 200 KB compressed): over the cap.
  'deflate-bomb': () => ({ name: 'bomb.pth', bytes: torchZip(repeated('\x80\x02', 0x4e, 200 * 1024 * 1024, '.')) }),
  // A bomb under the cap: 120 MB of EMPTY_DICT+POP pairs, inflated once (one buffer, never copied).
  'deflate-bomb-under-cap': () => {
    const n = 60 * 1024 * 1024;
    const pkl = new Uint8Array(2 * n + 4);
    pkl.set(latin('\x80\x02'));
    for (let i = 0; i < n; i++) {
      pkl[2 + 2 * i] = 0x7d;
      pkl[3 + 2 * i] = 0x30;
    }
    pkl.set(latin('N.'), 2 + 2 * n);
    return { name: 'bomb2.pth', bytes: torchZip(pkl) };
  },
  // A legitimate-looking bytes value of 120 MB under the cap: it opens, inflated once, never copied.
  'bytes-value-under-cap': () => {
    const n = 120 * 1024 * 1024;
    const head = latin('\x80\x02B');
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, n, true);
    const pkl = new Uint8Array(head.length + 4 + n + 1);
    pkl.set(head);
    pkl.set(len, head.length);
    pkl[pkl.length - 1] = 0x2e;
    return { name: 'under.pth', bytes: torchZip(pkl) };
  },
  // A safetensors header of one million empty tensors (about 60 MB, under the 100 MB length cap).
  'safetensors-1m-tensors': () => {
    const parts: string[] = [];
    for (let i = 0; i < 1_000_000; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
    const header = Buffer.from(`{${parts.join(',')}}`);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    return { name: 'many.safetensors', bytes };
  },
};

interface ChildReport {
  code: string;
  message: string;
  fileBytes: number;
  peakGrowthMB: number;
  ms: number;
}

async function child(path: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const bytes = new Uint8Array(readFileSync(path));
  const file = basename(path);
  const fileBytes = bytes.length;
  gc?.();
  // The kernel's peak resident size: the input file is already in it, so the growth is the reader's.
  const before = process.resourceUsage().maxRSS * 1024;
  const t0 = performance.now();
  let code = 'opened';
  let message = '';
  try {
    await openSource(new MemoryByteSource(file, bytes));
  } catch (e) {
    code = e instanceof ModelLensError ? e.code : `untyped ${String(e)}`;
    message = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  const peak = process.resourceUsage().maxRSS * 1024;
  const report: ChildReport = { code, message: message.slice(0, 300), fileBytes, peakGrowthMB: (peak - before) / (1024 * 1024), ms };
  process.stdout.write(`\n${REPORT}${JSON.stringify(report)}\n`);
}

function runChild(name: string): ChildReport {
  const { name: file, bytes } = CASES[name]!();
  const dir = mkdtempSync(join(tmpdir(), 'ml-mem-'));
  const path = join(dir, file);
  writeFileSync(path, bytes);
  const r = spawnSync(process.execPath, ['--expose-gc', __filename], {
    env: { ...process.env, [CHILD_ENV]: path },
    encoding: 'utf8',
    timeout: 120_000,
  });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.status, 0, `child ${name} failed: ${r.stderr}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith(REPORT));
  assert.ok(line, `child ${name} gave no report: ${r.stdout.slice(-500)}`);
  return JSON.parse(line.slice(REPORT.length)) as ChildReport;
}

const which = process.env[CHILD_ENV];
if (which !== undefined) {
  void child(which);
} else {
  for (const name of Object.keys(CASES)) {
    test(`memory bound: ${name} stays under ${MAX_GROWTH_MB} MB of peak RSS growth`, (ctx) => {
      const r = runChild(name);
      ctx.diagnostic(`${name} (${r.fileBytes} bytes): ${r.code} after ${r.ms.toFixed(0)} ms, peak RSS +${r.peakGrowthMB.toFixed(0)} MB ${r.message.slice(0, 120)}`);
      assert.equal(r.code, EXPECT[name] ?? 'too-large', r.message);
      assert.ok(r.peakGrowthMB < MAX_GROWTH_MB, `peak RSS grew by ${r.peakGrowthMB.toFixed(0)} MB`);
    });
  }
  test('the hostile inputs are small files', () => {
    const dicts = repeated('\x80\x02(', 0x7d, 3_000_000, 'l.');
    assert.ok(deflateRawSync(dicts).length < 8 * 1024);
  });
}
