// Probe images: a folder of the user's PNG/JPEG files, the bundled natural photographs (media/probes,
// the default), or the built-in deterministic synthetic set (an explicit choice).
// Images are decoded one batch at a time so memory stays bounded whatever the folder holds.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readRegularFileSync } from '../formats/byteSource';
import { ModelLensError } from '../formats/errors';
import { decodeImage, type RgbImage } from './imageDecode';

export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

/** Files larger than this are not read as probe images. */
export const MAX_PROBE_FILE_BYTES = 64 * 1024 * 1024;

export const SYNTHETIC_WARNING =
  'Probes are the built-in synthetic set; natural images (the bundled photographs, or a folder of your own) give paper-grade numbers.';

/** The `images` value that selects the synthetic set (CLI `--images synthetic`, setting value `synthetic`). */
export const SYNTHETIC_PROBES = 'synthetic';

/** Images the synthetic set draws when no limit is given. */
export const DEFAULT_SYNTHETIC_COUNT = 64;

/**
 * The bundled photographs, `media/probes` at the package root: the first ancestor of this bundle's folder
 * that holds it (dist/ in a build or VSIX, out/test/<dir>/ in tests). Undefined when it is missing.
 */
export function bundledProbeFolder(): string | undefined {
  let dir = typeof __dirname === 'string' ? __dirname : resolve('.');
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'media', 'probes');
    if (existsSync(join(candidate, 'LICENSES.md'))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** The bundled photographs as a probe set; a typed error when the package lacks them. */
export function bundledProbeSet(limit?: number): ProbeSet {
  const folder = bundledProbeFolder();
  if (folder === undefined) throw new ModelLensError('not-found', 'media/probes', 'the bundled probe images are missing from this installation; pass a folder of images (or `synthetic`)');
  return { ...folderProbeSet(folder, limit), bundled: true };
}

/**
 * The probe set `images` selects: absent = the bundled photographs, `synthetic` = the synthetic set
 * (`limit` images, default 64, drawn at `syntheticSize`), anything else = that folder.
 */
export function selectProbeSet(images: string | undefined, limit: number | undefined, syntheticSize: [number, number]): ProbeSet {
  if (images === undefined) return bundledProbeSet(limit);
  if (images === SYNTHETIC_PROBES) return syntheticProbeSet(limit !== undefined && limit > 0 ? limit : DEFAULT_SYNTHETIC_COUNT, syntheticSize);
  return folderProbeSet(images, limit);
}

/** How images become model input; recorded in the result. */
export const RESIZE_DESCRIPTION =
  'RGB; if not already the input size: scale so the shorter side matches (bilinear, half-pixel centres, no antialias, ' +
  'as torch.nn.functional.interpolate(mode="bilinear", align_corners=False) on float pixels), then center-crop; /255; normalise';

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/** One probe image with its position in the sorted order. */
export interface ProbeImage {
  index: number;
  name: string;
  image: RgbImage;
}

export interface ProbeSet {
  source: 'folder' | 'synthetic';
  folder?: string;
  /** The folder is the bundled photographs. */
  bundled?: boolean;
  /** Images planned (folder: candidate files after --limit; some may be skipped when decoding). */
  planned: number;
  /** Stable identity of the probe images (cache key). */
  hash: string;
  /**
   * Yields consecutive batches of decoded images in sorted order; unreadable files are reported through
   * `onSkip` and left out, so a batch is always made of `batchSize` readable images except the last.
   */
  batches(batchSize: number, onSkip: (name: string, problem: string) => void): Generator<ProbeImage[]>;
}

/** Natural sort would depend on locale; plain code-point order is reproducible everywhere. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A folder of images, non-recursive, sorted by file name; `limit` caps how many images are used. */
export function folderProbeSet(folder: string, limit?: number): ProbeSet {
  const dir = resolve(folder);
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new ModelLensError('not-found', dir, 'is not a folder of images');
    names = readdirSync(dir).filter((n) => IMAGE_EXT.test(n)).sort(byCodePoint);
  } catch (e) {
    if (e instanceof ModelLensError) throw e;
    throw new ModelLensError('not-found', dir, `cannot read image folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const files: Array<{ name: string; size: number; mtimeMs: number }> = [];
  for (const name of names) {
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) files.push({ name, size: st.size, mtimeMs: st.mtimeMs });
    } catch {
      // vanished between readdir and stat: it simply is not a candidate
    }
  }
  if (files.length === 0) throw new ModelLensError('not-found', dir, 'contains no .png/.jpg/.jpeg images');
  const max = limit !== undefined && limit > 0 ? limit : Infinity;
  const hash = createHash('sha256');
  hash.update(`folder-v1\0${dir}\0${max}\0`);
  for (const f of files) hash.update(`${f.name}\0${f.size}\0${f.mtimeMs}\0`);
  return {
    source: 'folder',
    folder: dir,
    planned: Math.min(files.length, max),
    hash: hash.digest('hex').slice(0, 32),
    *batches(batchSize, onSkip) {
      let batch: ProbeImage[] = [];
      let used = 0;
      for (const f of files) {
        if (used >= max) break;
        const path = join(dir, f.name);
        let image: RgbImage;
        try {
          if (f.size > MAX_PROBE_FILE_BYTES) throw new ModelLensError('too-large', path, `is ${f.size} bytes, over the ${MAX_PROBE_FILE_BYTES}-byte cap for probe images`);
          image = decodeImage(readRegularFileSync(path, MAX_PROBE_FILE_BYTES), path);
        } catch (e) {
          onSkip(f.name, e instanceof ModelLensError ? e.problem : e instanceof Error ? e.message : String(e));
          continue;
        }
        batch.push({ index: used, name: f.name, image });
        used++;
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/** Deterministic synthetic probes at the model's input size (see `syntheticImage`). */
export function syntheticProbeSet(count: number, size: [number, number]): ProbeSet {
  const [h, w] = size;
  return {
    source: 'synthetic',
    planned: count,
    hash: createHash('sha256').update(`synthetic-v2\0${count}\0${h}x${w}`).digest('hex').slice(0, 32),
    *batches(batchSize) {
      for (let start = 0; start < count; start += batchSize) {
        const batch: ProbeImage[] = [];
        for (let i = start; i < Math.min(count, start + batchSize); i++) batch.push({ index: i, name: `synthetic-${i}`, image: syntheticImage(i, h, w) });
        yield batch;
      }
    },
  };
}

/** mulberry32: tiny, fast, good enough for test-pattern content, identical on every platform; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Image `index` of the synthetic set: a colour gradient, oriented gratings (edges and textures at several
 * scales), a few soft blobs, one hard-edged half-plane and mild noise. Natural-image-like in having
 * structure at many scales and orientations, so attention is neither uniform nor degenerate. Quantised to
 * 8 bits like a decoded photo; depends only on (index, h, w).
 */
export function syntheticImage(index: number, h: number, w: number): RgbImage {
  const r = mulberry32(0x9e3779b9 ^ Math.imul(index + 1, 0x85ebca6b));
  const f = new Float32Array(h * w * 3);
  const base = [r(), r(), r()].map((v) => 40 + 150 * v);
  const grad = [r(), r(), r()].map((v) => (v - 0.5) * 120);
  const ga = r() * 2 * Math.PI;
  const gx = Math.cos(ga);
  const gy0 = Math.sin(ga);
  const gratings = Array.from({ length: 2 + Math.floor(r() * 3) }, () => ({
    angle: r() * Math.PI,
    freq: (2 + r() * 20) / Math.max(h, w),
    phase: r() * 2 * Math.PI,
    amp: [r(), r(), r()].map((v) => (v - 0.3) * 50),
    cx: r() * w, cy: r() * h, radius: (0.2 + 0.6 * r()) * Math.max(h, w),
  }));
  const blobs = Array.from({ length: 3 + Math.floor(r() * 5) }, () => ({
    cx: r() * w, cy: r() * h, s: (0.03 + 0.15 * r()) * Math.min(h, w),
    col: [r(), r(), r()].map((v) => (v - 0.5) * 160),
  }));
  const edgeA = r() * 2 * Math.PI;
  const edge = { nx: Math.cos(edgeA), ny: Math.sin(edgeA), off: (r() - 0.5) * Math.min(h, w) * 0.8, col: [r(), r(), r()].map((v) => (v - 0.5) * 90) };
  // Every term is separable in x and y (angle-addition for the gratings, Gaussians factorise), so the
  // per-pixel work is a few multiply-adds: ~10x faster than evaluating sin/exp per pixel.
  const gx1 = gratings.map((g) => {
    const a = 2 * Math.PI * g.freq * Math.cos(g.angle);
    const sin = new Float64Array(w);
    const cos = new Float64Array(w);
    const win = new Float64Array(w);
    for (let x = 0; x < w; x++) {
      sin[x] = Math.sin(a * x);
      cos[x] = Math.cos(a * x);
      win[x] = Math.exp(-((x - g.cx) ** 2) / (g.radius * g.radius));
    }
    return { sin, cos, win };
  });
  const bx = blobs.map((b) => Float64Array.from({ length: w }, (_, x) => Math.exp(-((x - b.cx) ** 2) / (2 * b.s * b.s))));
  for (let y = 0; y < h; y++) {
    const v = (y - h / 2) / h;
    const gy = gratings.map((g) => {
      const ph = 2 * Math.PI * g.freq * Math.sin(g.angle) * y + g.phase;
      const win = Math.exp(-((y - g.cy) ** 2) / (g.radius * g.radius));
      return { s: Math.sin(ph) * win, c: Math.cos(ph) * win };
    });
    const by = blobs.map((b) => Math.exp(-((y - b.cy) ** 2) / (2 * b.s * b.s)));
    for (let x = 0; x < w; x++) {
      const u = (x - w / 2) / w;
      const o = (y * w + x) * 3;
      let r0 = (base[0] as number) + (grad[0] as number) * (u * gx + v * gy0);
      let r1 = (base[1] as number) + (grad[1] as number) * (u * gx + v * gy0);
      let r2 = (base[2] as number) + (grad[2] as number) * (u * gx + v * gy0);
      for (let k = 0; k < gratings.length; k++) {
        const gxk = gx1[k] as { sin: Float64Array; cos: Float64Array; win: Float64Array };
        const gyk = gy[k] as { s: number; c: number };
        // sin(ax + by + φ)·wx·wy
        const val = ((gxk.sin[x] as number) * gyk.c + (gxk.cos[x] as number) * gyk.s) * (gxk.win[x] as number);
        const amp = (gratings[k] as { amp: number[] }).amp;
        r0 += (amp[0] as number) * val;
        r1 += (amp[1] as number) * val;
        r2 += (amp[2] as number) * val;
      }
      for (let k = 0; k < blobs.length; k++) {
        const e = ((bx[k] as Float64Array)[x] as number) * (by[k] as number);
        const col = (blobs[k] as { col: number[] }).col;
        r0 += (col[0] as number) * e;
        r1 += (col[1] as number) * e;
        r2 += (col[2] as number) * e;
      }
      if ((x - w / 2) * edge.nx + (y - h / 2) * edge.ny > edge.off) {
        r0 += edge.col[0] as number;
        r1 += edge.col[1] as number;
        r2 += edge.col[2] as number;
      }
      f[o] = r0;
      f[o + 1] = r1;
      f[o + 2] = r2;
    }
  }
  const data = new Uint8Array(h * w * 3);
  for (let k = 0; k < data.length; k++) {
    const noisy = (f[k] as number) + (r() - 0.5) * 12;
    data[k] = noisy <= 0 ? 0 : noisy >= 255 ? 255 : Math.round(noisy);
  }
  return { width: w, height: h, data };
}

/** Python's round(): halves go to the even neighbour (torchvision's center_crop uses it). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Writes one image as normalised CHW float32 into `out` at `offset` (3·H·W values).
 * Same size: no resampling. Otherwise: resize so the image covers H×W keeping aspect (torchvision
 * Resize semantics for the shorter side, long side truncated), bilinear with align_corners=False and no
 * antialias, computed on float pixels without rounding, then center-crop with Python rounding.
 */
export function preprocessInto(img: RgbImage, size: [number, number], mean: readonly number[], std: readonly number[], out: Float32Array, offset: number): void {
  const [th, tw] = size;
  const { width: iw, height: ih, data } = img;
  const plane = th * tw;
  if (iw === tw && ih === th) {
    for (let c = 0; c < 3; c++) {
      const m = mean[c] as number;
      const s = std[c] as number;
      const base = offset + c * plane;
      for (let p = 0; p < plane; p++) out[base + p] = ((data[p * 3 + c] as number) / 255 - m) / s;
    }
    return;
  }
  // Resized dimensions: the side that limits coverage becomes exactly the target.
  let rh: number;
  let rw: number;
  if (th / ih >= tw / iw) {
    rh = th;
    rw = Math.max(tw, Math.floor((th * iw) / ih));
  } else {
    rw = tw;
    rh = Math.max(th, Math.floor((tw * ih) / iw));
  }
  const top = roundHalfEven((rh - th) / 2);
  const left = roundHalfEven((rw - tw) / 2);
  const sy = ih / rh;
  const sx = iw / rw;
  const xs0 = new Int32Array(tw);
  const xs1 = new Int32Array(tw);
  const xl = new Float64Array(tw);
  for (let x = 0; x < tw; x++) {
    const src = Math.max(0, (left + x + 0.5) * sx - 0.5);
    const x0 = Math.min(Math.floor(src), iw - 1);
    xs0[x] = x0;
    xs1[x] = Math.min(x0 + 1, iw - 1);
    xl[x] = src - x0;
  }
  for (let y = 0; y < th; y++) {
    const src = Math.max(0, (top + y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(src), ih - 1);
    const y1 = Math.min(y0 + 1, ih - 1);
    const ly = src - y0;
    for (let x = 0; x < tw; x++) {
      const lx = xl[x] as number;
      const a = (y0 * iw + (xs0[x] as number)) * 3;
      const b = (y0 * iw + (xs1[x] as number)) * 3;
      const cc = (y1 * iw + (xs0[x] as number)) * 3;
      const d = (y1 * iw + (xs1[x] as number)) * 3;
      for (let c = 0; c < 3; c++) {
        const top1 = (data[a + c] as number) * (1 - lx) + (data[b + c] as number) * lx;
        const bot = (data[cc + c] as number) * (1 - lx) + (data[d + c] as number) * lx;
        const v = top1 * (1 - ly) + bot * ly;
        out[offset + c * plane + y * tw + x] = (v / 255 - (mean[c] as number)) / (std[c] as number);
      }
    }
  }
}

/** Stacks a batch into the graph's `pixel_values` [B,3,H,W]. */
export function batchTensor(images: readonly ProbeImage[], size: [number, number], mean: readonly number[], std: readonly number[]): Float32Array {
  const per = 3 * size[0] * size[1];
  const out = new Float32Array(images.length * per);
  images.forEach((p, i) => preprocessInto(p.image, size, mean, std, out, i * per));
  return out;
}
