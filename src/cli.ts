// `model-lens` CLI: header inspection and the analyses, headless. The analysis runs in this process with
// the same code the worker runs (src/worker); Ctrl-C simply ends the process.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { recognize } from './model/recognize';
import { attachSidecarConfig } from './model/sidecarConfig';
import { createResultCache, defaultCacheDir } from './runtime/cache';
import { MIN_CKA_BATCH } from './analysis/hsic';
import { ModelLensError, isModelLensError, type ModelLensErrorCode } from './formats/errors';
import { WorkerClient } from './runtime/workerClient';
import { RpcError } from './protocol/rpc';
import { readAnalysisBundle, renderHtmlReport } from './analysis/htmlReport';
import { openCheckpoint } from './formats/openCheckpoint';
import { ANALYSIS_SCHEMA, INSPECT_SCHEMA, type AnalysisResult, type DeviceName } from './analysis/resultSchema';
import { CKA_TOKEN_MODES, DISTANCE_CONVENTIONS } from './analysis/graph/reductions';
import type { AnalysisProgress, AnalysisRunParams, TimelineRunParams } from './protocol/workerProtocol';
import { DEFAULT_BATCH, DEFAULT_SYNTHETIC_COUNT, runAnalysis } from './worker/analysisJob';
import { prepareModel } from './worker/modelPrep';
import { runTimeline } from './worker/timelineJob';
import type { TimelineResult } from './analysis/timelineSchema';
import { renderTimelineHtml } from './analysis/timelineReport';
import { formatWeightsDiff, weightsDiff } from './analysis/weightsDiff';
import { ATTENTION_OPTIONS, ATTENTION_USAGE, attentionCommand } from './cliAttention';
import { formatSummary, formatTimeline, human, modelLine } from './cliFormat';
import { MAX_IMAGE_SIZE } from './model/imageSize';

const DEVICES: readonly DeviceName[] = ['auto', 'cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

/** Bad command-line usage or input: exit code 2 with one line. */
class UsageError extends Error {}

function usage(): string {
  return [
    'model-lens — inspect ViT checkpoints and run the analyses of "Revealing the Dark Secrets of MIM"',
    '',
    'Usage:',
    '  model-lens inspect FILE [--json] [--heads H] [--variant V]     (--json: model-lens/inspect@1 on stdout)',
    '  model-lens analyze CKPT [--images DIR] [--limit N] [--batch B] [--device D] [--heads H] [--variant V]',
    '                          [--distance-convention renormalised|vit] [--cka-tokens all|patch|cls|mean]',
    '                          [--image-size N] [--json OUT] [--html OUT] [--no-cache]',
    '  model-lens compare CKPT_A CKPT_B [CKPT_C ...] [same options] [--heads-b H] [--variant-b V]',
    '                          (A is the reference for cross-model CKA)',
    '  model-lens timeline DIR|CKPT... [--images DIR] [--limit N] [--batch B] [--device D] [--image-size N]',
    '                          [--json OUT] [--html OUT] [--no-cache]',
    '                          every checkpoint of a training run, ordered by step/epoch keys, file-name number or mtime',
    '  model-lens weights-diff CKPT_A CKPT_B [--json OUT]   keys, shapes, dtypes and ‖B − A‖/‖A‖ per block',
    ...ATTENTION_USAGE,
    '',
    'Options:',
    '  --images DIR   folder of PNG/JPEG probe images (sorted by name); default: the 64 bundled photographs;',
    '                 `--images synthetic`: the built-in synthetic set (the result carries a warning)',
    `  --limit N      use at most N probe images (synthetic: exactly N; default ${DEFAULT_SYNTHETIC_COUNT})`,
    `  --batch B      images per batch and CKA minibatch (default ${DEFAULT_BATCH}; CKA needs >= 4)`,
    `  --device D     ${DEVICES.join('|')} (default auto: GPU providers first, CPU fallback)`,
    '  --heads H      number of attention heads when the checkpoint does not record it',
    '  --heads-force  use --heads even where it contradicts the head count the checkpoint records',
    '  --variant V    weight set inside the file (e.g. model_ema)',
    '  --distance-convention C  renormalised (default: patch rows renormalised after dropping special',
    '                 tokens) | vit (raw patch block, as the ViT authors\' code); see docs/metrics.md',
    '  --cka-tokens T all (default: every token flattened) | patch | cls | mean (mean of the patch tokens)',
    '  --image-size N analyse at N×N px instead of the native size (a multiple of the patch size); absolute',
    '                 position embeddings are resampled bicubic as timm does; distances stay in input pixels',
    '  --json OUT     write the model-lens/analysis@1 JSON to OUT ("-" = stdout)',
    '  --html OUT     write a self-contained HTML report',
    '  --no-cache     neither read nor write the result cache',
    ...ATTENTION_OPTIONS,
    '',
    '  --version      print the version',
    '  COMMAND --help the usage of one command',
    '',
    `Result cache: ${defaultCacheDir()}  (set MODEL_LENS_CACHE_DIR or XDG_CACHE_HOME to move it)`,
    'Exit codes: 0 ok, 2 bad input or usage (one line on stderr), 1 internal error.',
  ].join('\n');
}

/** Options each command accepts (besides --help); anything else is a usage error naming the command. */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  inspect: ['json', 'heads', 'heads-force', 'variant'],
  analyze: ['images', 'limit', 'batch', 'device', 'heads', 'heads-force', 'variant', 'distance-convention', 'cka-tokens', 'image-size', 'json', 'html', 'no-cache'],
  compare: ['images', 'limit', 'batch', 'device', 'heads', 'heads-b', 'heads-force', 'variant', 'variant-b', 'distance-convention', 'cka-tokens', 'image-size', 'json', 'html', 'no-cache'],
  timeline: ['images', 'limit', 'batch', 'device', 'image-size', 'json', 'html', 'no-cache'],
};

/** `model-lens COMMAND --help`: that command's usage lines and the options it takes. */
function commandUsage(command: string): string | undefined {
  const all = usage().split('\n');
  const start = all.findIndex((l) => l.startsWith(`  model-lens ${command} `));
  if (start < 0) return undefined;
  let end = start + 1;
  while (end < all.length && /^ {26}/.test(all[end] as string)) end++;
  const accepted = COMMAND_FLAGS[command];
  const optStart = all.indexOf('Options:');
  const options: string[] = [];
  let keep = false;
  for (const line of all.slice(optStart + 1)) {
    if (line === '') break;
    const m = /^ {2}--([a-z-]+)/.exec(line);
    if (m) keep = accepted === undefined ? true : accepted.includes(m[1] as string);
    if (keep) options.push(command === 'inspect' && m?.[1] === 'json' ? '  --json         print the model-lens/inspect@1 JSON on stdout' : line);
  }
  return ['Usage:', ...all.slice(start, end), ...(options.length ? ['', 'Options:', ...options] : [])].join('\n');
}

/** The version in package.json beside dist/ (the VSIX and a checkout both have it). */
function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(distDir(), '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

interface Parsed {
  command: string;
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['images', 'limit', 'batch', 'device', 'heads', 'heads-b', 'variant', 'variant-b', 'json', 'html', 'image', 'layer', 'head', 'query', 'png', 'opacity', 'distance-convention', 'cka-tokens', 'image-size']);
const BOOL_FLAGS = new Set(['no-cache', 'help', 'version', 'cls', 'rollout', 'heads-force']);

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  let command = '';
  // `inspect --json` is a switch (JSON to stdout); for analyze/compare --json takes the output path.
  const inspecting = argv.find((a) => !a.startsWith('-')) === 'inspect';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-h') {
      flags.set('help', true);
    } else if (a.startsWith('-') && !a.startsWith('--') && a !== '-') {
      throw new UsageError(`unknown option ${a}${VALUE_FLAGS.has(a.slice(1)) || BOOL_FLAGS.has(a.slice(1)) ? ` (did you mean -${a}?)` : ''} (see --help)`);
    } else if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (BOOL_FLAGS.has(name) || (inspecting && name === 'json' && eq < 0)) {
        flags.set(name, true);
      } else if (VALUE_FLAGS.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`--${name} needs a value`);
        flags.set(name, v);
      } else {
        throw new UsageError(`unknown option ${a} (see --help)`);
      }
    } else if (!command) {
      command = a;
    } else {
      positional.push(a);
    }
  }
  return { command, positional, flags };
}

function intFlag(p: Parsed, name: string, min: number): number | undefined {
  const v = p.flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v === true || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${v === true ? 'nothing' : v}`);
  return n;
}

/** `--image-size N`: a side in pixels; whether it fits the patch size is checked per model, which knows its patch. */
function imageSizeFlag(p: Parsed): number | undefined {
  const n = intFlag(p, 'image-size', 1);
  if (n !== undefined && n > MAX_IMAGE_SIZE) throw new UsageError(`--image-size must be at most ${MAX_IMAGE_SIZE}, got ${n}`);
  return n;
}

function strFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

// ------------------------------------------------------------------------------------------- output

const PHASE_TEXT: Record<string, string> = { load: 'reading weights and building the graph…', session: 'creating the session…' };

/**
 * Progress on stderr once a run has taken more than a second (quick runs, and quick failures, stay
 * quiet): on a terminal a bar redrawn in place; otherwise (a pipe, a log file) one line per phase.
 */
function progressBar(unit = 'images'): (p: AnalysisProgress) => void {
  const t0 = Date.now();
  // Tests set a shorter delay to see the lines of a run that is quick on purpose.
  const delay = Number(process.env['MODEL_LENS_PROGRESS_AFTER_MS'] ?? 1000);
  if (!process.stderr.isTTY) {
    let phase = '';
    return (p) => {
      if (Date.now() - t0 < delay || p.phase === phase || p.phase === 'done') return;
      phase = p.phase;
      process.stderr.write(`${PHASE_TEXT[p.phase] ?? `running ${p.total} ${unit}…`}\n`);
    };
  }
  let last = 0;
  let drawn = false;
  return (p) => {
    const now = Date.now();
    if (p.phase === 'done') {
      if (drawn) process.stderr.write('\r\x1b[K');
      return;
    }
    if (now - t0 < delay) return;
    if (now - last < 100 && p.phase === 'run' && p.done < p.total) return;
    last = now;
    drawn = true;
    if (p.phase !== 'run') {
      process.stderr.write(`\r\x1b[K${PHASE_TEXT[p.phase] ?? p.phase}`);
      return;
    }
    const width = 30;
    const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const fill = Math.round(frac * width);
    process.stderr.write(`\r\x1b[K[${'#'.repeat(fill)}${' '.repeat(width - fill)}] ${p.done}/${p.total} ${unit}${p.message ? ` ${unit === 'images' ? 'on' : '·'} ${p.message}` : ''}`);
  };
}

function writeOut(target: string, text: string): void {
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  try {
    writeFileSync(target, text);
  } catch (e) {
    throw new ModelLensError('io', target, `cannot write: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  // On stderr, so that stdout stays the summary (or the JSON of `--json -`).
  process.stderr.write(`wrote ${target}\n`);
}

// ------------------------------------------------------------------------------------------- commands

async function inspect(p: Parsed): Promise<void> {
  const file = p.positional[0];
  if (!file || p.positional.length > 1) throw new UsageError('inspect needs exactly one FILE');
  const variant = strFlag(p, 'variant');
  const heads = intFlag(p, 'heads', 1);
  const ckpt = await attachSidecarConfig(await openCheckpoint(file, variant !== undefined ? { variant } : undefined));
  const { summary } = recognize(ckpt, heads !== undefined ? { headsOverride: heads, headsForce: p.flags.has('heads-force') } : undefined);
  const json = p.flags.get('json');
  if (json !== undefined) {
    const doc = {
      schema: INSPECT_SCHEMA,
      model: summary,
      tensors: ckpt.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
      findings: ckpt.findings,
      variants: ckpt.variants,
      ...(ckpt.selectedVariant !== undefined ? { selectedVariant: ckpt.selectedVariant } : {}),
      metadata: ckpt.metadata,
    };
    writeOut(json === true ? '-' : json, `${JSON.stringify(doc, null, 2)}\n`);
    if (json === true || json === '-') return;
  }
  const lines = [`File       ${ckpt.file} (${ckpt.format}, ${human(ckpt.sizeBytes)}B)`, `Model      ${modelLine(summary)}`];
  if (summary.notAnalyzable) lines.push(`Analysis   not analyzable: ${summary.notAnalyzable}`);
  if (ckpt.variants.length > 1) lines.push(`Variants   ${ckpt.variants.map((v) => `${v.key}${v.key === ckpt.selectedVariant ? ' (selected)' : ''}`).join(', ')}`);
  lines.push(`Tensors    ${ckpt.tensors.length}`);
  for (const t of ckpt.tensors.slice(0, 12)) lines.push(`  ${t.name}  ${t.dtype} [${t.shape.join(', ')}]`);
  if (ckpt.tensors.length > 12) lines.push(`  … ${ckpt.tensors.length - 12} more (--json lists all)`);
  if (ckpt.findings.length) {
    lines.push('Findings');
    for (const f of ckpt.findings) lines.push(`  [${f.severity}] ${f.message}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function choiceFlag<T extends string>(p: Parsed, name: string, choices: readonly T[]): T | undefined {
  const v = strFlag(p, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join('|')}, got ${v}`);
  return v as T;
}

async function analyze(p: Parsed, compare: boolean): Promise<void> {
  if (compare ? p.positional.length < 2 : p.positional.length !== 1) throw new UsageError(compare ? 'compare needs two or more checkpoints CKPT_A CKPT_B [CKPT_C ...]' : 'analyze needs exactly one checkpoint');
  const device = (strFlag(p, 'device') ?? 'auto') as DeviceName;
  if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICES.join('|')}, got ${device}`);
  const params: AnalysisRunParams = { file: p.positional[0] as string, batchSize: intFlag(p, 'batch', 1) ?? DEFAULT_BATCH, device };
  const set = <K extends keyof AnalysisRunParams>(k: K, v: AnalysisRunParams[K] | undefined): void => {
    if (v !== undefined) params[k] = v;
  };
  if (compare) params.fileB = p.positional[1] as string;
  if (compare && p.positional.length > 2) params.more = p.positional.slice(2);
  set('images', strFlag(p, 'images'));
  set('limit', intFlag(p, 'limit', 1));
  set('heads', intFlag(p, 'heads', 1));
  if (p.flags.has('heads-force')) params.headsForce = true;
  set('variant', strFlag(p, 'variant'));
  set('distanceConvention', choiceFlag(p, 'distance-convention', DISTANCE_CONVENTIONS));
  set('ckaTokens', choiceFlag(p, 'cka-tokens', CKA_TOKEN_MODES));
  set('imageSize', imageSizeFlag(p));
  if (compare) {
    set('headsB', intFlag(p, 'heads-b', 1));
    set('variantB', strFlag(p, 'variant-b'));
  } else if (p.flags.has('heads-b') || p.flags.has('variant-b')) {
    throw new UsageError('--heads-b/--variant-b only apply to compare');
  }
  const jsonOut = p.flags.get('json');
  const htmlOut = strFlag(p, 'html');
  if (jsonOut === true) throw new UsageError('--json needs an output path (or - for stdout)');
  warnSmallBatch(params.batchSize);

  const useCache = !p.flags.has('no-cache');
  const cache = createResultCache(defaultCacheDir());
  // A missing checkpoint or image folder fails the key; the run itself then reports it properly.
  let result: AnalysisResult | undefined = useCache ? await cache.get(params).catch(() => undefined) : undefined;
  const cached = result !== undefined;
  if (!result) {
    result = await runJob(params);
    if (useCache) await cache.put(params, result).catch(() => undefined);
  }
  if (result.schema !== ANALYSIS_SCHEMA) throw new Error('internal: result has the wrong schema');
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (jsonOut !== undefined) writeOut(jsonOut, text);
  if (htmlOut !== undefined) {
    writeOut(htmlOut, renderHtmlReport(result, readAnalysisBundle(distDir())));
  }
  if (jsonOut !== '-') process.stdout.write(`${formatSummary(result, cached)}\n`);
}

/** One line per checkpoint: where it sits in the run and the per-layer means summarised over layers. */
async function timeline(p: Parsed): Promise<void> {
  if (p.positional.length === 0) throw new UsageError('timeline needs a run folder or checkpoint files');
  for (const f of ['heads', 'heads-b', 'variant', 'variant-b']) if (p.flags.has(f)) throw new UsageError(`--${f} does not apply to timeline`);
  const device = (strFlag(p, 'device') ?? 'auto') as DeviceName;
  if (!DEVICES.includes(device)) throw new UsageError(`--device must be one of ${DEVICES.join('|')}, got ${device}`);
  const params: TimelineRunParams = { inputs: p.positional, batchSize: intFlag(p, 'batch', 1) ?? DEFAULT_BATCH, device };
  const images = strFlag(p, 'images');
  const limit = intFlag(p, 'limit', 1);
  if (images !== undefined) params.images = images;
  if (limit !== undefined) params.limit = limit;
  const imageSize = imageSizeFlag(p);
  if (imageSize !== undefined) params.imageSize = imageSize;
  warnSmallBatch(params.batchSize);
  if (!p.flags.has('no-cache')) params.cacheDir = defaultCacheDir();
  const jsonOut = p.flags.get('json');
  const htmlOut = strFlag(p, 'html');
  if (jsonOut === true) throw new UsageError('--json needs an output path (or - for stdout)');
  const result = await runTimelineJob(params);
  if (jsonOut !== undefined) writeOut(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
  if (htmlOut !== undefined) writeOut(htmlOut, renderTimelineHtml(result));
  if (jsonOut !== '-') process.stdout.write(`${formatTimeline(result)}\n`);
}

async function diffWeights(p: Parsed): Promise<void> {
  if (p.positional.length !== 2) throw new UsageError('weights-diff needs two checkpoints CKPT_A CKPT_B');
  const jsonOut = p.flags.get('json');
  if (jsonOut === true) throw new UsageError('--json needs an output path (or - for stdout)');
  const d = await weightsDiff(p.positional[0] as string, p.positional[1] as string);
  if (jsonOut !== undefined) writeOut(jsonOut, `${JSON.stringify(d, null, 2)}\n`);
  if (jsonOut !== '-') process.stdout.write(`${formatWeightsDiff(d)}\n`);
}

async function runTimelineJob(params: TimelineRunParams): Promise<TimelineResult> {
  const workerPath = join(distDir(), 'worker.js');
  const bar = progressBar('checkpoints');
  const progress = (pr: AnalysisProgress): void => bar({ ...pr, message: pr.message !== undefined ? basename(pr.message) : '' });
  if (!existsSync(workerPath)) {
    return runTimeline(params, { signal: new AbortController().signal, progress, log: (level, m) => level === 'warn' && warn(m) }, prepareModel);
  }
  const client = new WorkerClient({ workerPath, stdio: 'ignore', onLog: (l) => l.level !== 'info' && warn(l.message) });
  process.once('SIGINT', () => client.dispose());
  try {
    return await client.runTimeline(params, { onProgress: progress });
  } catch (e) {
    throw fromRpc(e);
  } finally {
    client.dispose();
  }
}

/** The setting modelLens.batchSize has the same rule: below 4, CKA is left out. */
function warnSmallBatch(batch: number): void {
  if (batch < MIN_CKA_BATCH) warn(`--batch ${batch}: CKA needs batches of at least ${MIN_CKA_BATCH} images, so it will be left out (attention distance and head diversity are still computed)`);
}

const warn = (message: string): void => {
  process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[K' : ''}warning: ${message}\n`);
};

/**
 * Runs the job in a forked worker (dist/worker.js), as the extension does: the worker gets the process
 * settings that keep its peak RSS down (WORKER_ENV), and Ctrl-C just kills it. Without a built worker
 * beside the CLI (running from source), the same code runs in this process.
 */
async function runJob(params: AnalysisRunParams): Promise<AnalysisResult> {
  const workerPath = join(distDir(), 'worker.js');
  const progress = progressBar();
  if (!existsSync(workerPath)) {
    return runAnalysis(params, { signal: new AbortController().signal, progress, log: (level, m) => level === 'warn' && warn(m) }, prepareModel);
  }
  const client = new WorkerClient({ workerPath, stdio: 'ignore', onLog: (l) => l.level !== 'info' && warn(l.message) });
  process.once('SIGINT', () => client.dispose());
  try {
    return await client.runAnalysis(params, { onProgress: progress });
  } catch (e) {
    throw fromRpc(e);
  } finally {
    client.dispose();
  }
}

const INPUT_ERROR_CODES = new Set(['empty-file', 'git-lfs-pointer', 'unknown-format', 'truncated', 'corrupt', 'too-large', 'unsupported', 'unsafe-path', 'not-found', 'io', 'not-analyzable']);

/** A worker error with an input-error code is the same bad input the in-process path would report. */
function fromRpc(e: unknown): unknown {
  if (e instanceof RpcError && INPUT_ERROR_CODES.has(e.code)) {
    const err = new ModelLensError(e.code as ModelLensErrorCode, e.file ?? '', e.message);
    // Keep the worker's message verbatim (it already names the file and offset).
    Object.defineProperty(err, 'message', { value: e.message });
    return err;
  }
  return e;
}

/** dist/ beside the running bundle (dist/cli.js), or the repo's dist/ when run from source. */
function distDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(process.argv[1] ?? '.');
  return basename(here) === 'dist' ? here : join(here, '..', 'dist');
}

export async function main(argv: string[]): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
    if (p.flags.has('version') && p.command === '') {
      process.stdout.write(`model-lens ${version()}\n`);
      return 0;
    }
    const help = p.command === 'help' ? p.positional[0] ?? '' : p.flags.has('help') ? p.command : undefined;
    if (help !== undefined || p.command === '') {
      process.stdout.write(`${(help ? commandUsage(help) : undefined) ?? usage()}\n`);
      return p.command === '' && help === undefined ? 2 : 0;
    }
    const accepted = COMMAND_FLAGS[p.command];
    const stray = accepted && [...p.flags.keys()].find((f) => !accepted.includes(f));
    if (stray) throw new UsageError(`--${stray} does not apply to ${p.command} (see ${p.command} --help)`);
    if (p.command === 'inspect') await inspect(p);
    else if (p.command === 'analyze') await analyze(p, false);
    else if (p.command === 'compare') await analyze(p, true);
    else if (p.command === 'timeline') await timeline(p);
    else if (p.command === 'weights-diff') await diffWeights(p);
    else if (p.command === 'attention') await attentionCommand(p, (m) => { throw new UsageError(m); }, DEVICES);
    else throw new UsageError(`unknown command "${p.command}" (inspect | analyze | compare | timeline | weights-diff | attention; see --help)`);
    return 0;
  } catch (e) {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (e instanceof UsageError) {
      process.stderr.write(`model-lens: ${e.message}\n`);
      return 2;
    }
    if (isModelLensError(e)) {
      process.stderr.write(`model-lens: ${e.message.split('\n')[0]}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`model-lens: internal error: ${msg.split('\n')[0]}${process.env['MODEL_LENS_DEBUG'] ? `\n${(e as Error).stack ?? ''}` : ' (set MODEL_LENS_DEBUG=1 for details)'}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.on('SIGINT', () => {
    process.stderr.write('\ncancelled\n');
    process.exit(130);
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
