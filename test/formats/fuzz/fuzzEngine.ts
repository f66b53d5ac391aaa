// A small coverage-guided fuzzer for the readers. Each target runs in a worker thread: inputs are
// mutated from a corpus, V8's precise block coverage (through the inspector) says which inputs
// reach new code in the readers and joins them to the corpus. The main thread is the watchdog: the
// worker publishes the input it is running in shared memory, so an input that hangs (no progress
// for `hangMs`) or exhausts the worker's heap is saved and reported like a crash. The invariant:
// every input gives a ModelLensError or a result, within `slowMs` and bounded memory.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ModelLensError } from '../../../src/formats/errors';
import { mulberry32 } from '../../../src/analysis/probes';
import { MAX_INPUT, TARGETS, type FuzzTarget } from './fuzzTargets';

export interface FuzzOptions {
  target: string;
  seed: number;
  /** Stop after this many executions (deterministic runs) ... */
  maxExecs: number;
  /** ... or after this long, whichever comes first. */
  maxMs: number;
  /** Kept inputs are written here (and read back as extra seeds) when given. */
  corpusDir?: string;
  /** Where crashing, hanging or memory-exhausting inputs are written. */
  findingsDir: string;
  /** Wall time without progress that counts as a hang (default 60 s). */
  hangMs?: number;
  /** CPU time of one input that counts as too slow (default 5 s; coverage counting included). */
  slowMs?: number;
  heapMb?: number;
}

export interface FuzzFinding {
  kind: 'crash' | 'hang' | 'slow' | 'memory';
  message: string;
  file: string;
}

export interface FuzzReport {
  target: string;
  execs: number;
  ms: number;
  corpus: number;
  blocks: number;
  rejected: number;
  findings: FuzzFinding[];
}

type WorkerMsg =
  | { kind: 'finding'; finding: Omit<FuzzFinding, 'file'>; input: Uint8Array }
  | { kind: 'done'; execs: number; corpus: number; blocks: number; rejected: number };

const MARKER = /^\/\/ ((?:src|node_modules)\/\S+)$/gm;
/** Source regions of the bundle whose coverage guides the fuzzer (the readers and decoders). */
const GUIDED = /^src\/formats\/|^src\/analysis\/imageDecode\.ts$|^node_modules\/(jpeg-js|pako)\//;

/** Splits an esbuild bundle into the source files it was made of, by its "// path" markers. */
export function bundleRegions(text: string): Array<{ file: string; start: number; end: number }> {
  const marks = [...text.matchAll(MARKER)].map((m) => ({ file: m[1]!, start: m.index! }));
  return marks.map((m, i) => ({ file: m.file, start: m.start, end: marks[i + 1]?.start ?? text.length }));
}

function save(dir: string, input: Uint8Array, prefix: string): string {
  mkdirSync(dir, { recursive: true });
  const name = `${prefix}-${createHash('sha256').update(input).digest('hex').slice(0, 16)}`;
  const file = join(dir, name);
  writeFileSync(file, input);
  return file;
}

/** Runs one target in a worker under the watchdog (main thread). */
export function runTarget(opts: FuzzOptions): Promise<FuzzReport> {
  const shared = new SharedArrayBuffer(8 + MAX_INPUT);
  const ctl = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  const current = (): Uint8Array => bytes.slice(0, Atomics.load(ctl, 1));
  const findings: FuzzFinding[] = [];
  const t0 = performance.now();
  return new Promise((resolveReport) => {
    const worker = new Worker(__filename, {
      workerData: { opts, shared },
      resourceLimits: { maxOldGenerationSizeMb: opts.heapMb ?? 1536 },
      stdout: true,
      stderr: true,
    });
    let stats = { execs: 0, corpus: 0, blocks: 0, rejected: 0 };
    let last = -1;
    let lastChange = performance.now();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      resolveReport({ target: opts.target, ...stats, execs: Math.max(stats.execs, Atomics.load(ctl, 0)), ms: performance.now() - t0, findings });
    };
    const timer = setInterval(() => {
      const beat = Atomics.load(ctl, 0);
      if (beat !== last) {
        last = beat;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > (opts.hangMs ?? 60_000)) {
        const file = save(opts.findingsDir, current(), `${opts.target}-hang`);
        findings.push({ kind: 'hang', message: `no progress for ${opts.hangMs ?? 60_000} ms`, file });
        void worker.terminate().then(finish);
      }
    }, 250);
    worker.on('message', (m: WorkerMsg) => {
      if (m.kind === 'finding') findings.push({ ...m.finding, file: save(opts.findingsDir, m.input, `${opts.target}-${m.finding.kind}`) });
      else stats = m;
    });
    worker.on('error', (e) => {
      const file = save(opts.findingsDir, current(), `${opts.target}-memory`);
      findings.push({ kind: (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'memory' : 'crash', message: String(e).slice(0, 300), file });
    });
    worker.on('exit', finish);
  });
}

// --- worker side ------------------------------------------------------------------------------

function post<T>(s: Session, method: string, params: object = {}): T {
  let out: T | undefined;
  let err: Error | null = null;
  s.post(method, params, (e, r) => {
    err = e;
    out = r as T;
  });
  if (err) throw err;
  if (out === undefined) throw new Error(`inspector ${method} did not answer synchronously`);
  return out;
}

interface Coverage {
  result: Array<{ url: string; functions: Array<{ ranges: Array<{ startOffset: number; endOffset: number; count: number }> }> }>;
}

async function workerMain(): Promise<void> {
  const { opts, shared } = workerData as { opts: FuzzOptions; shared: SharedArrayBuffer };
  const ctl = new Int32Array(shared, 0, 2);
  const bytes = new Uint8Array(shared, 8);
  const target = TARGETS.find((t) => t.name === opts.target);
  if (!target) throw new Error(`no fuzz target ${opts.target}`);
  const url = pathToFileURL(__filename).href;
  const regions = bundleRegions(readFileSync(__filename, 'utf8')).filter((r) => GUIDED.test(r.file));
  const guided = (off: number): boolean => regions.some((r) => off >= r.start && off < r.end);
  const session = new Session();
  session.connect();
  post(session, 'Profiler.enable');
  post(session, 'Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const seen = new Set<number>();
  // Blocks the executions since the last call reached that no kept input reached before; `commit`
  // adds them to what is known.
  const newBlocks = (commit: boolean): number => {
    const cov = post<Coverage>(session, 'Profiler.takePreciseCoverage');
    let fresh = 0;
    for (const script of cov.result) {
      if (script.url !== url) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          if (r.count === 0) continue;
          const key = r.startOffset * 8192 + ((r.endOffset - r.startOffset) & 8191);
          if (!seen.has(key) && guided(r.startOffset)) {
            if (commit) seen.add(key);
            fresh++;
          }
        }
      }
    }
    return fresh;
  };

  const rng = mulberry32(opts.seed);
  const corpus: Uint8Array[] = [];
  const seeds = [...target.seeds()];
  if (opts.corpusDir && existsSync(opts.corpusDir)) {
    for (const f of readdirSync(opts.corpusDir).sort()) seeds.push(new Uint8Array(readFileSync(join(opts.corpusDir, f))));
  }
  let execs = 0;
  let rejected = 0;
  const reported = new Set<string>();
  const exec = async (input: Uint8Array): Promise<void> => {
    bytes.set(input);
    Atomics.store(ctl, 1, input.length);
    // CPU time, not wall time: on a loaded machine wall time says more about the neighbours.
    const cpu0 = process.cpuUsage();
    try {
      await target.run(input);
    } catch (e) {
      if (e instanceof ModelLensError) rejected++;
      else {
        const message = e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e);
        const sig = `${message.replace(/\d+/g, 'N').slice(0, 120)}`;
        if (!reported.has(sig)) {
          reported.add(sig);
          parentPort!.postMessage({ kind: 'finding', finding: { kind: 'crash', message }, input } satisfies WorkerMsg);
        }
      }
    }
    const used = process.cpuUsage(cpu0);
    const ms = (used.user + used.system) / 1000;
    if (ms > (opts.slowMs ?? 5000)) parentPort!.postMessage({ kind: 'finding', finding: { kind: 'slow', message: `took ${ms.toFixed(0)} ms` }, input } satisfies WorkerMsg);
    execs++;
    Atomics.store(ctl, 0, execs);
  };
  // Taking coverage costs far more than one execution, so it is taken once per batch; only a batch
  // that reached new blocks is replayed input by input to find the inputs worth keeping.
  const BATCH = 64;
  let batch: Uint8Array[] = [];
  const flush = async (): Promise<void> => {
    const pending = batch;
    batch = [];
    if (pending.length === 0 || newBlocks(false) === 0) return;
    for (const input of pending) {
      await exec(input);
      if (newBlocks(true) > 0) {
        corpus.push(input);
        if (opts.corpusDir) save(opts.corpusDir, input, target.name);
      }
    }
  };
  for (const s of seeds) {
    await exec(s);
    newBlocks(true);
    corpus.push(s);
  }
  if (corpus.length === 0) corpus.push(new Uint8Array(0));
  const t0 = performance.now();
  while (execs < opts.maxExecs && performance.now() - t0 < opts.maxMs) {
    // Newer corpus entries (inputs that found new code) are picked more often.
    const i = rng() < 0.5 ? corpus.length - 1 - Math.floor(rng() * Math.min(corpus.length, 16)) : Math.floor(rng() * corpus.length);
    const input = await mutate(target, corpus[i]!, rng, corpus);
    await exec(input);
    batch.push(input);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  parentPort!.postMessage({ kind: 'done', execs, corpus: corpus.length, blocks: seen.size, rejected } satisfies WorkerMsg);
}

async function mutate(t: FuzzTarget, input: Uint8Array, rng: () => number, corpus: Uint8Array[]): Promise<Uint8Array> {
  const out = await t.mutate(input, rng, corpus);
  return out.length > MAX_INPUT ? out.subarray(0, MAX_INPUT) : out;
}

if (!isMainThread && (workerData as { opts?: FuzzOptions } | undefined)?.opts) void workerMain();
