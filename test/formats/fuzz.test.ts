// Coverage-guided fuzzing of every reader (see fuzz/fuzzEngine.ts). Under `node --test` it is a
// short deterministic smoke run (fixed seed and execution counts, about 60 s in all); run as
// `npm run fuzz -- --minutes N [--target a,b] [--corpus dir] [--seed s]` it fuzzes each target for N minutes
// and prints executions, corpus growth and findings. Findings are written to
// <tmp>/model-lens-fuzz-findings; each one fixed becomes a file of test/fixtures/bad/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bundleRegions, runTarget, type FuzzReport } from './fuzz/fuzzEngine';
import { TARGETS } from './fuzz/fuzzTargets';

const FINDINGS = join(tmpdir(), 'model-lens-fuzz-findings');
/** Smoke executions per target: small enough for about 60 s in all on a slow shared machine. */
const SMOKE: Record<string, number> = {
  pickle: 6000,
  'torch-zip': 1500,
  'torch-legacy': 1500,
  safetensors: 2500,
  'safetensors-index': 1500,
  onnx: 1500,
  image: 600,
};
const SMOKE_MS = 5000;

function describe(r: FuzzReport): string {
  return `${r.target}: ${r.execs} execs in ${(r.ms / 1000).toFixed(1)} s, ${r.rejected} typed rejections, corpus ${r.corpus}, ${r.blocks} blocks, ${r.findings.length} findings`;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (isMainThread && process.argv.includes('--replay')) {
  // Coverage replay (child of --coverage, run with NODE_V8_COVERAGE): every seed and kept input once.
  void (async (): Promise<void> => {
    const root = arg('replay')!;
    for (const t of TARGETS) {
      const dir = join(root, t.name);
      const inputs = [...t.seeds(), ...(existsSync(dir) ? readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f)))) : [])];
      for (const input of inputs) await t.run(input).catch(() => undefined);
    }
  })();
} else if (isMainThread && process.argv.includes('--coverage')) {
  // Line coverage of each reader reached by the seeds plus the saved corpus (c8-style: V8's block
  // coverage painted over the bundle's lines, split by source file).
  const root = arg('corpus') ?? join(tmpdir(), 'model-lens-fuzz-corpus');
  const covDir = mkdtempSync(join(tmpdir(), 'model-lens-fuzz-cov-'));
  spawnSync(process.execPath, [__filename, '--replay', root], { env: { ...process.env, NODE_V8_COVERAGE: covDir }, stdio: 'inherit' });
  for (const [file, c] of lineCoverage(covDir)) console.log(`${file.padEnd(40)} ${((100 * c.covered) / c.lines).toFixed(1).padStart(5)}% of ${c.lines} lines`);
} else if (isMainThread && process.argv.includes('--minutes')) {
  // Long run: `npm run fuzz -- --minutes N`.
  void (async (): Promise<void> => {
    const minutes = Number(arg('minutes') ?? '1');
    const only = arg('target');
    const corpusRoot = arg('corpus') ?? join(tmpdir(), 'model-lens-fuzz-corpus');
    const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
    const targets = TARGETS.filter((t) => only === undefined || only.split(',').includes(t.name));
    let failed = false;
    for (const t of targets) {
      const r = await runTarget({
        target: t.name,
        seed,
        maxExecs: Number.MAX_SAFE_INTEGER,
        maxMs: (minutes * 60_000) / targets.length,
        corpusDir: join(corpusRoot, t.name),
        findingsDir: FINDINGS,
      });
      console.log(describe(r));
      for (const f of r.findings) console.log(`  ${f.kind}: ${f.message} -> ${f.file}`);
      failed ||= r.findings.length > 0;
    }
    process.exitCode = failed ? 1 : 0;
  })();
} else if (isMainThread) {
  for (const t of TARGETS) {
    test(`fuzz smoke: ${t.name} gives only typed errors or results, no hang, no runaway memory`, async (ctx) => {
      const r = await runTarget({ target: t.name, seed: 20240917, maxExecs: SMOKE[t.name] ?? 1000, maxMs: SMOKE_MS, findingsDir: FINDINGS, heapMb: 1024 });
      ctx.diagnostic(describe(r));
      assert.ok(r.execs > 100, describe(r));
      assert.ok(r.blocks > 0, 'coverage feedback works');
      assert.deepEqual(r.findings.map((f) => `${f.kind}: ${f.message} (${f.file})`), []);
    });
  }
}

interface V8Coverage {
  result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }>;
}

/** Per source file of the readers: lines (of the bundled JS) whose innermost V8 block ran. */
function lineCoverage(covDir: string): Map<string, { lines: number; covered: number }> {
  const text = readFileSync(__filename, 'utf8');
  const url = pathToFileURL(__filename).href;
  const count = new Int32Array(text.length).fill(-1);
  const ranges: Array<{ startOffset: number; endOffset: number; count: number }> = [];
  for (const f of readdirSync(covDir)) {
    const cov = JSON.parse(readFileSync(join(covDir, f), 'utf8')) as V8Coverage;
    for (const script of cov.result) if (script.url === url) for (const fn of script.functions) ranges.push(...fn.ranges);
  }
  // Outer ranges first, inner ones paint over them: each character gets its innermost block's count.
  ranges.sort((a, b) => b.endOffset - b.startOffset - (a.endOffset - a.startOffset));
  for (const r of ranges) count.fill(r.count, r.startOffset, Math.min(r.endOffset, text.length));
  const out = new Map<string, { lines: number; covered: number }>();
  for (const region of bundleRegions(text)) {
    if (!/^src\/(formats|analysis\/imageDecode)/.test(region.file)) continue;
    const acc = out.get(region.file) ?? { lines: 0, covered: 0 };
    let pos = region.start;
    for (const line of text.slice(region.start, region.end).split('\n')) {
      const lead = line.length - line.trimStart().length;
      const body = line.trim();
      if (body !== '' && !body.startsWith('//') && body !== '}' && body !== '};' && body !== ');') {
        acc.lines++;
        if ((count[pos + lead] ?? -1) > 0) acc.covered++;
      }
      pos += line.length + 1;
    }
    out.set(region.file, acc);
  }
  return new Map([...out].sort());
}
