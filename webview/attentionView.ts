// The attention view: a probe-image strip, the chosen image under a viridis heat map of one head (or the
// rollout), the heads of the layer as small multiples labelled with this image's attention distance and
// entropy, a layer slider, a CLS / query / rollout switch and PNG export. Maps already fetched are kept,
// so moving back to a layer, head or query is instant; the host caches the forward pass per image.
import { decodeBytes, decodeF32, type AttentionKind, type AttentionMapResult, type AttentionStrip, type AttentionViewState } from '../src/protocol/attentionViewProtocol';
import { heatTile, pictureTitle, renderPicture, tileLabel } from '../src/protocol/attentionPicture';

/** What the view asks of its host. */
export interface AttentionBridge {
  probes(): Promise<AttentionStrip>;
  map(req: { generation: number; image: number; layer: number; kind: AttentionKind; query?: [number, number]; withImage?: boolean }): Promise<AttentionMapResult>;
  exportPng(dataUrl: string, name: string): Promise<string>;
}

type Child = Node | string | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; attrs?: Record<string, string> } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

const KIND_LABEL: Record<AttentionKind, string> = { cls: 'CLS row', query: 'Query row', rollout: 'Rollout' };
const BIG = 320;
const SMALL = 144;

/** Debug surface for the end-to-end tests (read-only numbers, no functions). */
interface AttentionDebug {
  ready: boolean;
  shown: number;
  lastMs: number;
  lastInferenceMs: number;
  cached: boolean;
  layer: number;
  head: number;
  kind: AttentionKind;
  query: [number, number] | null;
  image: number;
  error: string;
}

export class AttentionView {
  private state: AttentionViewState | undefined;
  private strip: AttentionStrip | undefined;
  private image = 0;
  private layer = 0;
  private head = 0;
  private kind: AttentionKind = 'cls';
  private query: [number, number] | null = null;
  private opacity = 0.6;
  private result: AttentionMapResult | undefined;
  private readonly maps = new Map<string, AttentionMapResult>();
  private readonly rgb = new Map<number, Uint8Array>();
  private token = 0;
  private readonly debug: AttentionDebug = { ready: false, shown: 0, lastMs: 0, lastInferenceMs: 0, cached: false, layer: 0, head: 0, kind: 'cls', query: null, image: 0, error: '' };

  // Elements
  private readonly header = el('h1', { class: 'ma-title' }, 'Attention maps');
  private readonly status = el('p', { class: 'ma-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly error = el('p', { class: 'ma-error', attrs: { role: 'alert' } });
  private readonly stripEl = el('div', { class: 'ma-strip', attrs: { role: 'toolbar', 'aria-label': 'Probe images' } });
  private readonly kinds = new Map<AttentionKind, HTMLButtonElement>();
  private readonly layerInput = el('input', { attrs: { type: 'range', min: '1', max: '1', step: '1', value: '1', id: 'ma-layer' } });
  private readonly layerOut = el('output', { attrs: { for: 'ma-layer' } });
  private readonly opacityInput = el('input', { attrs: { type: 'range', min: '0', max: '100', step: '5', value: '60', id: 'ma-opacity' } });
  private readonly big = el('canvas', { class: 'ma-big', attrs: { tabindex: '0', role: 'img', 'data-testid': 'attention-big' } });
  private readonly bigCaption = el('figcaption', { class: 'ma-caption' });
  private readonly tiles = el('div', { class: 'ma-tiles', attrs: { role: 'group', 'aria-label': 'Heads of this layer' } });

  constructor(
    private readonly root: HTMLElement,
    private readonly bridge: AttentionBridge,
  ) {
    (window as unknown as { __modelLensAttention: AttentionDebug }).__modelLensAttention = this.debug;
    this.build();
  }

  private build(): void {
    const kindGroup = el('div', { class: 'ma-kinds', attrs: { role: 'group', 'aria-label': 'Which attention row' } });
    for (const k of ['cls', 'query', 'rollout'] as AttentionKind[]) {
      const b = el('button', { class: 'ma-btn', attrs: { type: 'button', 'aria-pressed': 'false', 'data-kind': k } }, KIND_LABEL[k]);
      b.addEventListener('click', () => this.setKind(k));
      this.kinds.set(k, b);
      kindGroup.append(b);
    }
    this.layerInput.addEventListener('input', () => {
      this.layer = Number(this.layerInput.value) - 1;
      void this.refresh();
    });
    this.opacityInput.addEventListener('input', () => {
      this.opacity = Number(this.opacityInput.value) / 100;
      this.draw();
    });
    const exportBtn = el('button', { class: 'ma-btn ma-primary', attrs: { type: 'button', 'data-testid': 'attention-export' } }, 'Export PNG');
    exportBtn.addEventListener('click', () => void this.exportPng());
    this.big.addEventListener('click', (e) => this.clickBig(e));
    this.big.addEventListener('keydown', (e) => this.keyBig(e));
    const controls = el(
      'div',
      { class: 'ma-controls' },
      kindGroup,
      el('label', { class: 'ma-slider', attrs: { for: 'ma-layer' } }, 'Layer ', this.layerInput, this.layerOut),
      el('label', { class: 'ma-slider', attrs: { for: 'ma-opacity' } }, 'Opacity ', this.opacityInput),
      exportBtn,
    );
    const figure = el('figure', { class: 'ma-figure' }, this.big, this.bigCaption);
    this.root.append(
      el('header', {}, this.header, this.status),
      this.stripEl,
      controls,
      this.error,
      el('div', { class: 'ma-main' }, figure, this.tiles),
      el('p', { class: 'ma-help' }, 'Click the image or use the arrow keys on it to move the query patch; click a head to show it large. Colours are scaled to each map\'s maximum (viridis: dark = little, yellow = most attention).'),
    );
  }

  /** The host's state: a (re)target. */
  async show(s: AttentionViewState): Promise<void> {
    const sameFile = this.state?.title === s.title;
    this.state = s;
    this.layer = s.layer;
    this.head = s.head ?? 0;
    this.kind = s.kind;
    this.maps.clear();
    if (!sameFile) {
      this.query = null;
      this.rgb.clear();
    }
    this.header.textContent = `Attention maps — ${s.title}`;
    this.updateControls();
    if (!this.strip) {
      try {
        this.strip = await this.bridge.probes();
        this.renderStrip();
      } catch (e) {
        this.fail(e);
        return;
      }
    }
    await this.refresh();
  }

  refreshTheme(): void {
    this.draw();
  }

  private renderStrip(): void {
    const strip = this.strip!;
    this.stripEl.replaceChildren();
    strip.items.forEach((item, i) => {
      const c = el('canvas', { attrs: { width: String(strip.thumb), height: String(strip.thumb), 'aria-hidden': 'true' } });
      const ctx = c.getContext('2d');
      if (ctx) {
        const rgb = decodeBytes(item.rgb);
        const img = ctx.createImageData(strip.thumb, strip.thumb);
        for (let p = 0; p < strip.thumb * strip.thumb; p++) {
          img.data[p * 4] = rgb[p * 3]!;
          img.data[p * 4 + 1] = rgb[p * 3 + 1]!;
          img.data[p * 4 + 2] = rgb[p * 3 + 2]!;
          img.data[p * 4 + 3] = 255;
        }
        ctx.putImageData(img, 0, 0);
      }
      const b = el('button', { class: 'ma-thumb', attrs: { type: 'button', 'aria-pressed': String(i === this.image), 'aria-label': `Probe image ${i + 1}: ${item.name}`, title: item.name, 'data-image': String(i) } }, c);
      b.addEventListener('click', () => {
        this.image = i;
        this.stripEl.querySelectorAll('button').forEach((x, k) => x.setAttribute('aria-pressed', String(k === i)));
        void this.refresh();
      });
      this.stripEl.append(b);
    });
    if (strip.items.length === 0) this.stripEl.append(el('span', {}, 'No probe images.'));
  }

  private setKind(k: AttentionKind): void {
    if (k === 'query' && !this.query) this.query = this.result ? [Math.floor(this.result.model.grid[0] / 2), Math.floor(this.result.model.grid[1] / 2)] : [0, 0];
    this.kind = k;
    void this.refresh();
  }

  private updateControls(): void {
    for (const [k, b] of this.kinds) b.setAttribute('aria-pressed', String(k === this.kind));
    const layers = this.result?.model.layers ?? Math.max(1, this.layer + 1);
    this.layerInput.max = String(layers);
    this.layerInput.value = String(this.layer + 1);
    this.layerOut.textContent = this.kind === 'rollout' ? `1–${this.layer + 1} of ${layers}` : `${this.layer + 1} of ${layers}`;
    const cls = this.kinds.get('cls');
    if (cls && this.result) {
      cls.disabled = !this.result.model.hasCls;
      cls.title = this.result.model.hasCls ? 'Attention from the class token to every patch' : 'This model has no class token';
    }
  }

  private key(): string {
    return [this.state?.generation, this.image, this.layer, this.kind, this.kind === 'query' ? this.query?.join(',') : ''].join('|');
  }

  private async refresh(): Promise<void> {
    if (!this.state || !this.strip || this.strip.items.length === 0) return;
    const my = ++this.token;
    const t0 = performance.now();
    const key = this.key();
    let res = this.maps.get(key);
    const cached = res !== undefined;
    try {
      if (!res) {
        this.status.textContent = 'Computing…';
        const req: Parameters<AttentionBridge['map']>[0] = { generation: this.state.generation, image: this.image, layer: this.layer, kind: this.kind };
        if (this.kind === 'query' && this.query) req.query = this.query;
        if (!this.rgb.has(this.image)) req.withImage = true;
        res = await this.bridge.map(req);
        if (res.image.rgb) this.rgb.set(this.image, decodeBytes(res.image.rgb));
        this.maps.set(key, res);
      }
    } catch (e) {
      if (my !== this.token) return;
      // A model without a class token (SigLIP-style): rollout (mean patch row) instead of the CLS row.
      if (this.kind === 'cls' && /no class token/.test(e instanceof Error ? e.message : String(e))) {
        this.kind = 'rollout';
        void this.refresh();
        return;
      }
      this.fail(e);
      return;
    }
    if (my !== this.token) return;
    this.result = res;
    this.error.textContent = '';
    this.debug.error = '';
    // A layer the model does not have (a drill-down from another model) is clamped by the answer's layout.
    this.head = Math.min(this.head, res.model.heads - 1);
    if (this.kind === 'cls' && !res.model.hasCls) this.kind = 'rollout';
    this.updateControls();
    this.draw();
    const ms = performance.now() - t0;
    this.status.textContent = `${res.model.family}, ${res.model.layers} layers × ${res.model.heads} heads, ${res.model.grid.join('×')} patches · ${this.state.probeSource} · ${res.device} · ${cached ? `cached, ${ms.toFixed(0)} ms` : `${ms.toFixed(0)} ms${res.timing.inferenceMs > 0 ? ` (forward pass ${res.timing.inferenceMs.toFixed(0)} ms)` : ''}`}`;
    Object.assign(this.debug, { ready: true, shown: this.debug.shown + 1, lastMs: ms, lastInferenceMs: res.timing.inferenceMs, cached, layer: this.layer, head: this.head, kind: this.kind, query: this.query, image: this.image });
  }

  private fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg === 'superseded') return;
    this.error.textContent = msg;
    this.status.textContent = '';
    this.debug.error = msg;
  }

  private rowsOf(res: AttentionMapResult): Float32Array[] {
    const all = decodeF32(res.rows);
    const n = res.model.grid[0] * res.model.grid[1];
    return Array.from({ length: all.length / n }, (_, k) => all.subarray(k * n, (k + 1) * n));
  }

  private draw(): void {
    const res = this.result;
    if (!res) return;
    const rgb = this.rgb.get(this.image);
    if (!rgb) return;
    const [h, w] = res.model.inputSize;
    const rows = this.rowsOf(res);
    const base = { rgb, width: w, height: h, grid: res.model.grid, opacity: this.opacity };
    const shown = res.kind === 'rollout' ? 0 : this.head;
    const scale = BIG / Math.max(w, h);
    paint(this.big, heatTile(base, rows[shown]!), w, h, scale, res.kind === 'query' ? res.query : undefined, res.model.grid);
    const what = res.kind === 'rollout' ? `Attention rollout through layers 1–${res.layer + 1} (mean of ${res.model.heads} heads)` : `Layer ${res.layer + 1}, head ${shown + 1}, ${res.kind === 'cls' ? 'CLS row' : `row of query patch ${res.query?.join(',')}`}`;
    this.bigCaption.textContent = `${what} — ${res.image.name}${res.kind === 'rollout' ? '' : ` · distance ${res.distance[shown]!.toFixed(1)} px · entropy ${res.entropy[shown]!.toFixed(2)} nats · special tokens ${(100 * res.specialMass[shown]!).toFixed(1)}%`}`;
    this.big.setAttribute('aria-label', `${what}. Heat map over the ${res.model.grid.join(' by ')} patch grid; arrow keys move the query patch.`);
    this.tiles.replaceChildren();
    if (res.kind === 'rollout') return;
    rows.forEach((row, k) => {
      const c = el('canvas', { attrs: { 'aria-hidden': 'true' } });
      paint(c, heatTile(base, row), w, h, SMALL / Math.max(w, h), res.kind === 'query' ? res.query : undefined, res.model.grid);
      const label = `H${k + 1} · ${res.distance[k]!.toFixed(1)} px · ${res.entropy[k]!.toFixed(2)} nats`;
      const b = el('button', { class: 'ma-tile', attrs: { type: 'button', 'aria-pressed': String(k === shown), 'aria-label': `Head ${k + 1}: attention distance ${res.distance[k]!.toFixed(1)} px, entropy ${res.entropy[k]!.toFixed(2)} nats`, 'data-head': String(k + 1) } }, c, el('span', {}, label));
      b.addEventListener('click', () => {
        this.head = k;
        this.draw();
        this.debug.head = k;
      });
      this.tiles.append(b);
    });
  }

  private clickBig(e: MouseEvent): void {
    const res = this.result;
    if (!res) return;
    const r = this.big.getBoundingClientRect();
    const [gh, gw] = res.model.grid;
    const row = Math.min(gh - 1, Math.max(0, Math.floor(((e.clientY - r.top) / r.height) * gh)));
    const col = Math.min(gw - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * gw)));
    this.query = [row, col];
    this.kind = 'query';
    void this.refresh();
  }

  private keyBig(e: KeyboardEvent): void {
    const res = this.result;
    if (!res) return;
    const d: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const step = d[e.key];
    if (!step) return;
    e.preventDefault();
    const [gh, gw] = res.model.grid;
    const q = this.query ?? [Math.floor(gh / 2), Math.floor(gw / 2)];
    this.query = [Math.min(gh - 1, Math.max(0, q[0] + step[0])), Math.min(gw - 1, Math.max(0, q[1] + step[1]))];
    this.kind = 'query';
    void this.refresh();
  }

  /** The picture `model-lens attention --png` writes, for the current map. */
  pictureDataUrl(): string | undefined {
    const res = this.result;
    const rgb = this.rgb.get(this.image);
    if (!res || !rgb) return undefined;
    const [h, w] = res.model.inputSize;
    const rows = this.rowsOf(res);
    const tiles = res.kind === 'rollout' ? [{ row: rows[0]!, label: `mean of ${res.model.heads} heads` }] : rows.map((row, k) => ({ row, label: tileLabel(k + 1, res.distance[k], res.entropy[k]) }));
    const pic = renderPicture({ rgb, width: w, height: h, grid: res.model.grid, tiles, opacity: this.opacity, query: res.kind === 'query' ? res.query : undefined, title: pictureTitle(res.kind, res.layer, res.image.name, res.query) });
    const c = document.createElement('canvas');
    c.width = pic.width;
    c.height = pic.height;
    c.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(pic.data), pic.width, pic.height), 0, 0);
    return c.toDataURL('image/png');
  }

  private async exportPng(): Promise<void> {
    const url = this.pictureDataUrl();
    const res = this.result;
    if (!url || !res || !this.state) return;
    const stem = this.state.title.replace(/\.[^.]+$/, '');
    const what = res.kind === 'query' ? `query${res.query?.join('-')}` : res.kind;
    try {
      const msg = await this.bridge.exportPng(url, `${stem}.attention.L${res.layer + 1}.${what}.${res.image.name.replace(/\.[^.]+$/, '')}.png`);
      if (msg) this.status.textContent = msg;
    } catch (e) {
      this.fail(e);
    }
  }
}

/** Draws RGBA pixels of a w×h tile into a canvas at `scale`, nearest neighbour, with the query outlined. */
function paint(canvas: HTMLCanvasElement, px: Uint8ClampedArray, w: number, h: number, scale: number, query: [number, number] | undefined, grid: [number, number]): void {
  const dpr = Math.max(1, window.devicePixelRatio || 1);
  const cw = Math.round(w * scale);
  const ch = Math.round(h * scale);
  canvas.width = Math.round(cw * dpr);
  canvas.height = Math.round(ch * dpr);
  canvas.style.width = `${cw}px`;
  canvas.style.height = `${ch}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  off.getContext('2d')?.putImageData(new ImageData(new Uint8ClampedArray(px), w, h), 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
  if (query) {
    const [gh, gw] = grid;
    const x = (query[1] * canvas.width) / gw;
    const y = (query[0] * canvas.height) / gh;
    const pw = canvas.width / gw;
    const ph = canvas.height / gh;
    ctx.lineWidth = 2 * dpr;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(x + 2 * dpr, y + 2 * dpr, pw - 4 * dpr, ph - 4 * dpr);
    ctx.strokeStyle = '#fff';
    ctx.strokeRect(x + dpr, y + dpr, pw - 2 * dpr, ph - 2 * dpr);
  }
}

export const ATTENTION_CSS = `
.ma-root { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 8px 16px 24px; }
.ma-title { font-size: 1.3em; margin: 4px 0; font-weight: 600; }
.ma-status, .ma-help { color: var(--vscode-descriptionForeground); margin: 2px 0 8px; }
.ma-error:not(:empty) { background: var(--vscode-inputValidation-errorBackground); border: 1px solid var(--vscode-inputValidation-errorBorder); padding: 6px 8px; }
.ma-strip { display: flex; gap: 4px; overflow-x: auto; padding: 4px 2px; }
.ma-thumb { padding: 0; border: 2px solid transparent; background: none; cursor: pointer; line-height: 0; flex: none; }
.ma-thumb canvas { width: 48px; height: 48px; }
.ma-thumb[aria-pressed="true"] { border-color: var(--vscode-focusBorder); }
.ma-controls { display: flex; flex-wrap: wrap; gap: 12px 20px; align-items: center; margin: 8px 0; }
.ma-kinds { display: inline-flex; gap: 0; }
.ma-btn { font: inherit; padding: 4px 10px; border: 1px solid var(--vscode-button-border, transparent); background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); cursor: pointer; }
.ma-btn:hover { background: var(--vscode-button-secondaryHoverBackground); }
.ma-btn[aria-pressed="true"] { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
.ma-btn:disabled { opacity: 0.5; cursor: default; }
.ma-primary { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
.ma-slider { display: inline-flex; align-items: center; gap: 6px; }
.ma-slider output { min-width: 6em; }
.ma-main { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.ma-figure { margin: 0; max-width: 340px; }
.ma-big { image-rendering: pixelated; cursor: crosshair; display: block; }
.ma-caption { margin-top: 6px; color: var(--vscode-descriptionForeground); }
.ma-tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(168px, 1fr)); gap: 8px; flex: 1; min-width: 260px; }
.ma-tile { display: flex; flex-direction: column; align-items: center; gap: 4px; padding: 4px; border: 2px solid transparent; background: none; color: inherit; font: inherit; font-size: 0.9em; white-space: nowrap; cursor: pointer; }
.ma-tile canvas { image-rendering: pixelated; }
.ma-tile[aria-pressed="true"] { border-color: var(--vscode-focusBorder); }
.ma-root :focus-visible { outline: 2px solid var(--vscode-focusBorder); outline-offset: 2px; }
`;
