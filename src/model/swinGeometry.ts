// Geometry of shifted-window attention (DESIGN.md item 11): which tokens share a window after the
// cyclic shift, which keys the shift mask allows, and the pixel distances between the tokens'
// original (un-shifted) positions. Shared by the graph builder, the checks of checkpoint buffers and
// the uniform-attention reference of the charts, and small enough to audit against the definition.

/** One block's window layout on a stage grid. */
export interface WindowLayout {
  /** Stage grid side G (tokens per row and column). */
  grid: number;
  /** Window side w actually used (the grid itself when it is not larger than the window). */
  window: number;
  /** Cyclic shift s (0 in unshifted blocks and when the window covers the grid). */
  shift: number;
  /** Pixels per token of the stage (P·2^stage). */
  tokenPx: number;
}

/** Window and shift of a block, with the original rule: a grid not larger than the window is one window, unshifted. */
export function blockLayout(grid: number, window: number, oddBlock: boolean, tokenPx: number): WindowLayout {
  if (grid <= window) return { grid, window: grid, shift: 0, tokenPx };
  return { grid, window, shift: oddBlock ? Math.floor(window / 2) : 0, tokenPx };
}

export const windowCount = (l: WindowLayout): number => (l.grid / l.window) ** 2;

/**
 * perm[k] = row-major grid index of the token that lands at position k of the windowed sequence
 * (windows row-major, tokens row-major inside a window) after the cyclic shift by −s: the token at
 * shifted position p came from original position (p + s) mod G.
 */
export function windowPermutation(l: WindowLayout): Int32Array {
  const { grid: g, window: w, shift: s } = l;
  const nw = g / w;
  const perm = new Int32Array(g * g);
  let k = 0;
  for (let wr = 0; wr < nw; wr++) {
    for (let wc = 0; wc < nw; wc++) {
      for (let tr = 0; tr < w; tr++) {
        for (let tc = 0; tc < w; tc++) {
          const r = (wr * w + tr + s) % g;
          const c = (wc * w + tc + s) % g;
          perm[k++] = r * g + c;
        }
      }
    }
  }
  return perm;
}

/** Region of a shifted-grid coordinate: the three slices [0, G−w), [G−w, G−s), [G−s, G) of the shift mask. */
function region(p: number, g: number, w: number, s: number): number {
  if (s === 0) return 0;
  return p < g - w ? 0 : p < g - s ? 1 : 2;
}

/** allowed[win·n² + i·n + j] = 1 when query i may attend key j in window win (n = w²); the shift mask's zeros. */
export function allowedKeys(l: WindowLayout): Uint8Array {
  const { grid: g, window: w, shift: s } = l;
  const nw = g / w;
  const n = w * w;
  const out = new Uint8Array(nw * nw * n * n);
  const lab = new Int32Array(n);
  for (let win = 0; win < nw * nw; win++) {
    const wr = Math.floor(win / nw);
    const wc = win % nw;
    for (let t = 0; t < n; t++) {
      lab[t] = region(wr * w + Math.floor(t / w), g, w, s) * 3 + region(wc * w + (t % w), g, w, s);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[(win * n + i) * n + j] = lab[i] === lab[j] ? 1 : 0;
  }
  return out;
}

/** The additive attention mask of the original implementations: 0 where allowed, −100 elsewhere ([nW, n, n]). */
export function shiftMaskValues(l: WindowLayout): Float32Array {
  return Float32Array.from(allowedKeys(l), (a) => (a ? 0 : -100));
}

/** Distances in input pixels between the original positions of every (query, key) pair of every window: [nW, n, n]. */
export function windowDistances(l: WindowLayout): Float64Array {
  const perm = windowPermutation(l);
  const g = l.grid;
  const n = l.window * l.window;
  const nwin = windowCount(l);
  const out = new Float64Array(nwin * n * n);
  for (let win = 0; win < nwin; win++) {
    for (let i = 0; i < n; i++) {
      const a = perm[win * n + i]!;
      for (let j = 0; j < n; j++) {
        const b = perm[win * n + j]!;
        const dr = Math.floor(a / g) - Math.floor(b / g);
        const dc = (a % g) - (b % g);
        out[(win * n + i) * n + j] = l.tokenPx * Math.sqrt(dr * dr + dc * dc);
      }
    }
  }
  return out;
}

/** Mean distance of a uniform row over the allowed keys, over every query of every window: what "global" is inside a window. */
export function uniformDistance(l: WindowLayout): number {
  const allowed = allowedKeys(l);
  const d = windowDistances(l);
  const n = l.window * l.window;
  const rows = allowed.length / n;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    let c = 0;
    for (let j = 0; j < n; j++) {
      if (allowed[r * n + j]) {
        s += d[r * n + j]!;
        c++;
      }
    }
    total += s / c;
  }
  return total / rows;
}

/** Relative position index of a w×w window (Swin): [(ri−rj+w−1)(2w−1) + (ci−cj+w−1)] over n×n pairs. */
export function windowRelativeIndex(w: number): Int32Array {
  const n = w * w;
  const idx = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      idx[i * n + j] = (Math.floor(i / w) - Math.floor(j / w) + w - 1) * (2 * w - 1) + ((i % w) - (j % w) + w - 1);
    }
  }
  return idx;
}

/** SwinV2 log-spaced relative coordinates [(2w−1)², 2] (normalised by the pretrained window when given). */
export function logSpacedCoords(w: number, pretrained: number): Float64Array {
  const side = 2 * w - 1;
  const out = new Float64Array(side * side * 2);
  const norm = pretrained > 0 ? pretrained - 1 : w - 1;
  const f = (v: number): number => {
    const t = norm > 0 ? (v / norm) * 8 : 0;
    return (Math.sign(t) * Math.log2(Math.abs(t) + 1)) / 3;
  };
  for (let a = 0; a < side; a++) {
    for (let b = 0; b < side; b++) {
      out[(a * side + b) * 2] = f(a - (w - 1));
      out[(a * side + b) * 2 + 1] = f(b - (w - 1));
    }
  }
  return out;
}

/** Stage grids of an input size: G_s = size / (P·2^s); undefined where a stage does not divide. */
export function stageGrids(size: number, patch: number, stages: number): number[] | undefined {
  const grids: number[] = [];
  let g = size / patch;
  for (let s = 0; s < stages; s++) {
    if (!Number.isInteger(g) || g < 1) return undefined;
    grids.push(g);
    if (s < stages - 1) {
      if (g % 2 !== 0) return undefined;
      g /= 2;
    }
  }
  return grids;
}

/**
 * Whether an input side fits a checkpoint: every stage grid is whole, merges see even grids, and each
 * stage's grid is a multiple of its window, or equal to it when the stage's weights were made for a
 * window the size of the grid (position-bias tables are not interpolated).
 */
export function sideFits(size: number, patch: number, windows: readonly number[]): boolean {
  const grids = stageGrids(size, patch, windows.length);
  if (!grids) return false;
  return grids.every((g, s) => {
    const w = windows[s]!;
    return g === w || (g > w && g % w === 0);
  });
}

/** The input sides up to `max` that fit (for the message that refuses another size). */
export function validSides(patch: number, windows: readonly number[], max = 1536): number[] {
  const out: number[] = [];
  for (let size = patch; size <= max; size += patch) if (sideFits(size, patch, windows)) out.push(size);
  return out;
}
