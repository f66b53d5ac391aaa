// Header reads for the inspector and the hover, done in the extension host: they are bounded ranged
// reads plus an opcode interpreter that never executes anything, and doing them here lets a hover
// answer from the cache in microseconds. Tensor statistics and analyses go to the worker.
import { performance } from 'node:perf_hooks';
import { HeaderCache } from '../runtime/headerCache';
import { openCheckpoint } from '../formats/openCheckpoint';
import { recognize } from '../model/recognize';
import { attachSidecarConfig } from '../model/sidecarConfig';
import type { HeaderService, InspectedCheckpoint } from './services';

/** Builds the cached header service; `headsOverride` is read at load time (it is part of the key). */
export function createHeaderService(headsOverride: () => number | undefined): HeaderService {
  const cache = new HeaderCache<InspectedCheckpoint>(async (path, key) => {
    const { variant, heads } = JSON.parse(key) as { variant?: string; heads?: number };
    const t0 = performance.now();
    // HF weights keep heads/eps/mean/std in config.json beside them; recognition needs it.
    const checkpoint = await attachSidecarConfig(await openCheckpoint(path, variant !== undefined ? { variant } : undefined));
    const { summary, spec } = recognize(checkpoint, heads !== undefined ? { headsOverride: heads } : undefined);
    const out: InspectedCheckpoint = { checkpoint, summary, readMs: performance.now() - t0 };
    if (spec) out.spec = spec;
    return out;
  }, 64);
  const keyOf = (opts?: { variant?: string }): string => JSON.stringify({ variant: opts?.variant, heads: headsOverride() });
  return {
    inspect: (path, opts) => cache.get(path, keyOf(opts)),
    peek: (path, opts) => cache.peek(path, keyOf(opts)),
    clear: () => cache.clear(),
  };
}
