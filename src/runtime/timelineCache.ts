// Per-checkpoint entries of training-run timelines: the checkpoint's analysis plus its per-batch Gram
// stacks (for CKA against whichever checkpoint is the run's last). Written atomically as each checkpoint
// finishes, so reopening a run is instant and an interrupted or cancelled run resumes where it stopped.
// Entries live in `timeline/` of the result cache folder (clearing the cache clears them).
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalysisResult } from '../analysis/resultSchema';
import type { ModelSummary } from '../model/modelTypes';
import { dirname, resolve } from 'node:path';
import { isAnalysisResult } from '../protocol/analysisResultCheck';
import { cacheKey, type CacheKeyInput } from './cache';

/** One batch's Gram stack [L,n,n] of a checkpoint. */
export interface GramBatch {
  n: number;
  data: Float32Array;
}

export interface TimelineEntry {
  result: AnalysisResult;
  grams: GramBatch[];
}

interface Stored {
  key: string;
  result: AnalysisResult;
  grams: Array<{ n: number; b64: string }>;
}

/** What the hover shows of an analysed run: one point per checkpoint, means over layers. */
export interface RunSummary {
  folder: string;
  orderedBy: string;
  savedAt: number;
  /** The final checkpoint's model (the sparklines' scales come from its grid). */
  model: ModelSummary;
  checkpoints: Array<{ file: string; step?: number; epoch?: number; attentionDistance: number; headDiversity: number; ckaMeanOffDiagonal: number | null; ckaToFinal: number | null }>;
}

export class TimelineCache {
  constructor(readonly dir: string) {}

  private async path(params: CacheKeyInput): Promise<{ key: string; path: string }> {
    const { key } = await cacheKey(params);
    const full = `timeline\u0001${key}`;
    return { key: full, path: join(this.dir, 'timeline', `${createHash('sha256').update(full).digest('hex').slice(0, 40)}.json`) };
  }

  /** The entry of this checkpoint as it is now (path, size, mtime) with these options; undefined if none or unreadable. */
  async get(params: CacheKeyInput): Promise<TimelineEntry | undefined> {
    try {
      const { key, path } = await this.path(params);
      const s = JSON.parse(await readFile(path, 'utf8')) as Stored;
      if (s.key !== key || !isAnalysisResult(s.result) || !Array.isArray(s.grams)) return undefined;
      const layers = s.result.cka.matrix.length;
      const grams = s.grams.map((g) => {
        const buf = Buffer.from(g.b64, 'base64');
        const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
        if (!(Number.isInteger(g.n) && data.length === layers * g.n * g.n)) throw new RangeError('bad gram');
        return { n: g.n, data };
      });
      return { result: s.result, grams };
    } catch {
      return undefined;
    }
  }

  private runPath(folder: string): string {
    return join(this.dir, 'timeline', `run-${createHash('sha256').update(resolve(folder)).digest('hex').slice(0, 32)}.json`);
  }

  async putRun(summary: RunSummary): Promise<void> {
    await mkdir(join(this.dir, 'timeline'), { recursive: true });
    const path = this.runPath(summary.folder);
    await writeFile(`${path}.${process.pid}.tmp`, JSON.stringify(summary));
    await rename(`${path}.${process.pid}.tmp`, path);
  }

  /** The last analysed run of `folder`, if any. */
  async run(folder: string): Promise<RunSummary | undefined> {
    try {
      const s = JSON.parse(await readFile(this.runPath(folder), 'utf8')) as RunSummary;
      return s && resolve(s.folder) === resolve(folder) && Array.isArray(s.checkpoints) ? s : undefined;
    } catch {
      return undefined;
    }
  }

  /** The run `file` belongs to: its folder's last analysed run, when that run lists the file. */
  async runOf(file: string): Promise<RunSummary | undefined> {
    const r = await this.run(dirname(file));
    return r?.checkpoints.some((c) => resolve(c.file) === resolve(file)) ? r : undefined;
  }

  async put(params: CacheKeyInput, entry: TimelineEntry): Promise<void> {
    const { key, path } = await this.path(params);
    await mkdir(join(this.dir, 'timeline'), { recursive: true });
    const stored: Stored = {
      key,
      result: entry.result,
      grams: entry.grams.map((g) => ({ n: g.n, b64: Buffer.from(g.data.buffer, g.data.byteOffset, g.data.byteLength).toString('base64') })),
    };
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(stored));
    await rename(tmp, path);
  }
}
