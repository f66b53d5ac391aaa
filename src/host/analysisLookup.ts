// Finds the latest cached analysis of a checkpoint for the hover, through the analysis panel's on-disk
// cache (src/runtime/cache.ts). Memoised per file identity and cache-folder mtime, so a hover over an
// analyzed checkpoint does not re-read JSON from disk each time.
import type * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileIdentity } from '../runtime/headerCache';
import type { AnalysisResult } from '../analysis/resultSchema';
import { createResultCache, type ResultCache } from '../runtime/cache';

/** The analysis cache's folder inside the extension's global storage. */
export const ANALYSIS_CACHE_FOLDER = 'analysis-cache';

interface Memo {
  stamp: string;
  result: AnalysisResult | undefined;
}

const memo = new Map<string, Memo>();
let cache: ResultCache | undefined;

export async function lookupCachedAnalysis(context: vscode.ExtensionContext, path: string): Promise<AnalysisResult | undefined> {
  const storage = context.globalStorageUri.fsPath;
  // Reading never writes, so the size limit does not matter here; put() enforces it.
  cache ??= createResultCache(join(storage, ANALYSIS_CACHE_FOLDER), () => Number.MAX_SAFE_INTEGER);
  const dirStat = await stat(cache.dir).catch(() => undefined);
  if (!dirStat) return undefined;
  const id = await fileIdentity(path);
  const stamp = `${id.size}\0${id.mtimeMs}\0${dirStat.mtimeMs}`;
  const hit = memo.get(id.path);
  if (hit && hit.stamp === stamp) return hit.result;
  const result = await cache.latestFor(id.path);
  memo.set(id.path, { stamp, result });
  if (memo.size > 256) memo.delete(memo.keys().next().value as string);
  return result;
}
