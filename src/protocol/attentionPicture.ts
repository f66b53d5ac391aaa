// The attention picture shared by the attention view (canvas, PNG export) and `model-lens attention
// --png`: the preprocessed image under a viridis heat map of one attention row per tile, heads as small
// multiples, each tile labelled. Pure pixels (RGBA), so the view and the CLI draw the same bytes.

/** Viridis (matplotlib) at 0, 1/8, …, 1; interpolated linearly in between. */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84], [72, 40, 120], [62, 73, 137], [49, 104, 142], [38, 130, 142], [31, 158, 137], [53, 183, 121], [110, 206, 88], [253, 231, 37],
];

export function viridis(v: number): [number, number, number] {
  const x = Math.max(0, Math.min(1, Number.isFinite(v) ? v : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i]!;
  const b = VIRIDIS[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** One tile: an attention row over the patch grid, shown on the image. */
export interface PictureTile {
  /** gh·gw values (probabilities over patch keys). */
  row: ArrayLike<number>;
  label: string;
}

export interface PictureSpec {
  /** RGB bytes of the preprocessed image, width × height × 3. */
  rgb: Uint8Array;
  width: number;
  height: number;
  grid: [number, number];
  tiles: PictureTile[];
  /** Heat-map opacity 0..1. */
  opacity: number;
  /** Query patch to outline [row, col]. */
  query?: [number, number] | undefined;
  /** Title above the tiles. */
  title: string;
  /** Tiles per row (default: all in one row up to 4, then a square-ish grid). */
  columns?: number;
}

export interface Picture {
  width: number;
  height: number;
  /** RGBA, row-major. */
  data: Uint8ClampedArray;
}

// A 3×5 pixel font for labels (digits, the letters used in labels, punctuation); rows top to bottom.
const FONT: Readonly<Record<string, string>> = {
  '0': '111101101101111', '1': '010110010010111', '2': '111001111100111', '3': '111001111001111', '4': '101101111001001',
  '5': '111100111001111', '6': '111100111101111', '7': '111001010010010', '8': '111101111101111', '9': '111101111001111',
  '.': '000000000000010', ',': '000000000010100', ':': '000010000010000', '-': '000000111000000', '–': '000000111000000', '×': '000101010101000',
  '(': '010100100100010', ')': '010001001001010', '/': '001001010100100', ' ': '000000000000000', '%': '101001010100101',
  a: '000011101101111', b: '100111101101111', c: '000111100100111', d: '001111101101111', e: '000111111100111', f: '011100110100100',
  g: '000111101111001', h: '100111101101101', i: '010000010010010', k: '100101110101101', l: '110010010010111', m: '000111111101101',
  n: '000110101101101', o: '000111101101111', p: '000111101111100', q: '000111101111001', r: '000111100100100', s: '000111110011111',
  t: '010111010010011', u: '000101101101111', v: '000101101101010', w: '000101101111111', x: '000101010101101', y: '000101111001111',
  z: '000111011110111', j: '001000001001110', _: '000000000000111', '+': '000010111010000', '=': '000111000111000', '[': '110100100100110', ']': '011001001001011', '#': '101111101111101', A: '010101111101101', C: '111100100100111', D: '110101101101110', H: '101101111101101', L: '100100100100111',
  R: '110101110101101', S: '111100111001111', Q: '111101101111011', P: '111101111100100', E: '111100110100111', N: '101111111111101',
  '?': '111001011000010',
};

const GAP = 6;
const TEXT_SCALE = 2;
const LINE = 5 * TEXT_SCALE + 6;

function textWidth(s: string): number {
  return s.length * 4 * TEXT_SCALE;
}

function drawText(out: Picture, s: string, x0: number, y0: number, rgb: readonly [number, number, number]): void {
  let x = x0;
  for (const ch of s) {
    const glyph = FONT[ch] ?? FONT[ch.toLowerCase()] ?? FONT['?']!;
    for (let gy = 0; gy < 5; gy++) {
      for (let gx = 0; gx < 3; gx++) {
        if (glyph[gy * 3 + gx] !== '1') continue;
        for (let sy = 0; sy < TEXT_SCALE; sy++) {
          for (let sx = 0; sx < TEXT_SCALE; sx++) {
            const px = x + gx * TEXT_SCALE + sx;
            const py = y0 + gy * TEXT_SCALE + sy;
            if (px < 0 || py < 0 || px >= out.width || py >= out.height) continue;
            const o = (py * out.width + px) * 4;
            out.data[o] = rgb[0];
            out.data[o + 1] = rgb[1];
            out.data[o + 2] = rgb[2];
            out.data[o + 3] = 255;
          }
        }
      }
    }
    x += 4 * TEXT_SCALE;
  }
}

/** Integer upscale so that small model inputs (32 px) still make a readable tile (≥ 160 px). */
export function tileScale(width: number, height: number): number {
  return Math.max(1, Math.ceil(160 / Math.max(1, Math.min(width, height))));
}

/**
 * Pixels of one tile at scale 1: the image blended with the heat map, each row scaled to its own maximum.
 * The blend weight is opacity·(0.25 + 0.75·v), so patches the head ignores stay readable as the image and
 * the attended ones carry the colour.
 */
export function heatTile(spec: Pick<PictureSpec, 'rgb' | 'width' | 'height' | 'grid' | 'opacity'>, row: ArrayLike<number>): Uint8ClampedArray {
  const { rgb, width: w, height: h, grid: [gh, gw] } = spec;
  const alpha = Math.max(0, Math.min(1, spec.opacity));
  let max = 0;
  for (let j = 0; j < row.length; j++) max = Math.max(max, row[j]!);
  const colors = Array.from({ length: gh * gw }, (_, j) => viridis(max > 0 ? row[j]! / max : 0));
  const weights = Array.from({ length: gh * gw }, (_, j) => 0.25 + 0.75 * (max > 0 ? Math.max(0, row[j]!) / max : 0));
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const pr = Math.min(gh - 1, Math.floor((y * gh) / h));
    for (let x = 0; x < w; x++) {
      const j = pr * gw + Math.min(gw - 1, Math.floor((x * gw) / w));
      const c = colors[j]!;
      const a = alpha * weights[j]!;
      const i = y * w + x;
      for (let k = 0; k < 3; k++) out[i * 4 + k] = Math.round((1 - a) * rgb[i * 3 + k]! + a * c[k]!);
      out[i * 4 + 3] = 255;
    }
  }
  return out;
}

/** The whole picture: title, tiles (scaled, query outlined) with their labels, on a dark background. */
export function renderPicture(spec: PictureSpec): Picture {
  const scale = tileScale(spec.width, spec.height);
  const tw = spec.width * scale;
  const th = spec.height * scale;
  const n = spec.tiles.length;
  const cols = Math.max(1, Math.min(n, spec.columns ?? (n <= 4 ? n : Math.ceil(Math.sqrt(n)))));
  const rows = Math.ceil(n / cols);
  const cellW = Math.max(tw, ...spec.tiles.map((t) => textWidth(t.label)));
  const cellH = th + LINE;
  const width = Math.max(GAP * 2 + cols * cellW + (cols - 1) * GAP, textWidth(spec.title) + 2 * GAP);
  const height = GAP + LINE + rows * cellH + (rows - 1) * GAP + GAP;
  const pic: Picture = { width, height, data: new Uint8ClampedArray(width * height * 4) };
  for (let i = 0; i < width * height; i++) {
    pic.data[i * 4] = 24;
    pic.data[i * 4 + 1] = 24;
    pic.data[i * 4 + 2] = 28;
    pic.data[i * 4 + 3] = 255;
  }
  drawText(pic, spec.title, GAP, GAP, [235, 235, 235]);
  spec.tiles.forEach((tile, k) => {
    const x0 = GAP + (k % cols) * (cellW + GAP);
    const y0 = GAP + LINE + Math.floor(k / cols) * (cellH + GAP);
    const px = heatTile(spec, tile.row);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < tw; x++) {
        const s = (sy * spec.width + Math.floor(x / scale)) * 4;
        const o = ((y0 + y) * width + x0 + x) * 4;
        pic.data[o] = px[s]!;
        pic.data[o + 1] = px[s + 1]!;
        pic.data[o + 2] = px[s + 2]!;
        pic.data[o + 3] = 255;
      }
    }
    if (spec.query) outline(pic, spec, x0, y0, tw, th);
    drawText(pic, tile.label, x0, y0 + th + 4, [235, 235, 235]);
  });
  return pic;
}

/** A two-pixel white-on-black frame around the query patch, visible on any colour. */
function outline(pic: Picture, spec: PictureSpec, x0: number, y0: number, tw: number, th: number): void {
  const [gh, gw] = spec.grid;
  const [r, c] = spec.query!;
  const ax = x0 + Math.floor((c * tw) / gw);
  const bx = x0 + Math.floor(((c + 1) * tw) / gw) - 1;
  const ay = y0 + Math.floor((r * th) / gh);
  const by = y0 + Math.floor(((r + 1) * th) / gh) - 1;
  const set = (x: number, y: number, v: number): void => {
    const o = (y * pic.width + x) * 4;
    pic.data[o] = v;
    pic.data[o + 1] = v;
    pic.data[o + 2] = v;
  };
  for (let x = ax; x <= bx; x++) {
    set(x, ay, 255);
    set(x, by, 255);
    if (by - ay > 3) {
      set(x, ay + 1, 0);
      set(x, by - 1, 0);
    }
  }
  for (let y = ay; y <= by; y++) {
    set(ax, y, 255);
    set(bx, y, 255);
    if (bx - ax > 3 && y > ay && y < by) {
      set(ax + 1, y, 0);
      set(bx - 1, y, 0);
    }
  }
}

/** Title and tile labels as the view and the CLI word them (layers and heads from 1). */
export function pictureTitle(kind: 'cls' | 'query' | 'rollout', layer: number, image: string, query?: [number, number]): string {
  if (kind === 'rollout') return `rollout L1-${layer + 1}  ${image}`;
  return `L${layer + 1} ${kind === 'cls' ? 'CLS row' : `query ${query ? query.join(',') : ''}`}  ${image}`;
}

export function tileLabel(head: number, distance: number | undefined, entropy: number | undefined): string {
  const d = distance !== undefined && Number.isFinite(distance) ? `${distance.toFixed(1)}px` : '';
  const e = entropy !== undefined && Number.isFinite(entropy) ? `${entropy.toFixed(2)}nats` : '';
  return [`H${head}`, d, e].filter((x) => x !== '').join(' ');
}
