// Renders the inspector webview outside VS Code (headless Chromium through playwright-core) with the
// real HTML shell, CSP and bundle, a fake acquireVsCodeApi and sample data, and writes screenshots.
// Run: node scripts/build.mjs && npx esbuild scripts/previewInspector.ts --bundle --platform=node \
//        --external:playwright-core --outfile=out/previewInspector.js && node out/previewInspector.js [outDir]
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { inspectorHtml, makeNonce } from '../src/host/webviewHtml';
import type { InspectorData, InspectorState, TensorRow } from '../src/protocol/webviewProtocol';
import { createHeaderService } from '../src/host/headerService';
import { toErrorView, toInspectorData, toStatsView } from '../src/host/inspectorData';
import { openCheckpoint } from '../src/formats/openCheckpoint';
import { tensorStats } from '../src/formats/tensorData';

const headers = createHeaderService(() => undefined);

/** The state the host would send for a real file. */
async function stateFor(file: string): Promise<InspectorState> {
  const fileName = file.split('/').pop()!;
  try {
    return { fileName, trusted: true, loading: false, data: toInspectorData(await headers.inspect(file)) };
  } catch (e) {
    return { fileName, trusted: true, loading: false, error: toErrorView(e, file) };
  }
}

const root = resolve(__dirname, '..');
const outDir = process.argv[2] ?? '/tmp';

function vitTensors(layers: number, dim: number, extraBlocks = 0): TensorRow[] {
  const rows: TensorRow[] = [];
  let off = 8 + 30000;
  const add = (name: string, shape: number[], dtype: TensorRow['dtype'] = 'F32'): void => {
    const numel = shape.reduce((a, b) => a * b, 1);
    rows.push({ name, dtype, shape, numel, bytes: numel * 4, offset: off });
    off += numel * 4;
  };
  add('cls_token', [1, 1, dim]);
  add('pos_embed', [1, 197, dim]);
  add('patch_embed.proj.weight', [dim, 3, 16, 16]);
  add('patch_embed.proj.bias', [dim]);
  for (let l = 0; l < layers + extraBlocks; l++) {
    const p = `blocks.${l}.`;
    add(`${p}norm1.weight`, [dim]);
    add(`${p}norm1.bias`, [dim]);
    add(`${p}attn.qkv.weight`, [3 * dim, dim]);
    add(`${p}attn.qkv.bias`, [3 * dim]);
    add(`${p}attn.proj.weight`, [dim, dim]);
    add(`${p}attn.proj.bias`, [dim]);
    add(`${p}norm2.weight`, [dim]);
    add(`${p}norm2.bias`, [dim]);
    add(`${p}mlp.fc1.weight`, [4 * dim, dim]);
    add(`${p}mlp.fc1.bias`, [4 * dim]);
    add(`${p}mlp.fc2.weight`, [dim, 4 * dim]);
    add(`${p}mlp.fc2.bias`, [dim]);
  }
  add('norm.weight', [dim]);
  add('norm.bias', [dim]);
  return rows;
}

function sample(big: boolean): InspectorData {
  const tensors = vitTensors(12, 768, big ? 821 : 0);
  const params = tensors.reduce((a, t) => a + t.numel, 0);
  return {
    file: '/home/researcher/runs/mae_pretrain_vit_base/checkpoint-799.pth',
    fileName: 'checkpoint-799.pth',
    sizeBytes: params * 4 + 52000,
    format: 'pytorch-zip',
    summary: {
      file: '/home/researcher/runs/mae_pretrain_vit_base/checkpoint-799.pth',
      format: 'pytorch-zip',
      family: 'mae',
      layers: 12,
      heads: 12,
      headsSource: 'checkpoint-args',
      dim: 768,
      patchSize: [16, 16],
      imageSize: [224, 224],
      specialTokens: 1,
      params,
      dtype: 'F32',
      dtypes: { F32: tensors.length },
      details: { decoderTensors: 116 },
    },
    tensors,
    findings: [
      { severity: 'danger', kind: 'pickle-global', message: 'references a function that runs shell commands', module: 'posix', name: 'system', offset: 1234 },
      { severity: 'warning', kind: 'pickle-global', message: 'global outside the allow-list (kept inert)', module: 'util.misc', name: 'NativeScalerWithGradNormCount' },
      { severity: 'info', kind: 'pickle-global', message: 'allow-listed', module: 'torch._utils', name: '_rebuild_tensor_v2' },
      { severity: 'info', kind: 'pickle-global', message: 'allow-listed', module: 'collections', name: 'OrderedDict' },
    ],
    extras: [
      { key: 'epoch', value: '799' },
      { key: 'args', value: "Namespace(batch_size=64, epochs=800, model='mae_vit_base_patch16', input_size=224, mask_ratio=0.75, norm_pix_loss=True, blr=0.00015)" },
      { key: 'scaler', value: "{'scale': 65536.0, 'growth_factor': 2.0, ...}" },
    ],
    metadata: {},
    configText: JSON.stringify({ model: 'mae_vit_base_patch16', input_size: 224, mask_ratio: 0.75 }, null, 2),
    variants: [
      { key: 'model', tensorCount: tensors.length },
      { key: 'model_ema', tensorCount: tensors.length },
    ],
    selectedVariant: 'model',
    readMs: 38.2,
  };
}

const DARK: Record<string, string> = {
  '--vscode-foreground': '#cccccc',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-widget-border': '#313131',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editorWarning-foreground': '#cca700',
  '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", monospace',
  '--vscode-badge-background': '#616161',
  '--vscode-badge-foreground': '#f8f8f8',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-secondaryBackground': '#313131',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-list-activeSelectionBackground': '#04395e',
  '--vscode-list-activeSelectionForeground': '#ffffff',
  '--vscode-keybindingTable-headerBackground': 'rgba(204,204,204,0.04)',
  '--vscode-keybindingTable-rowsBackground': 'rgba(204,204,204,0.04)',
  '--vscode-inputValidation-errorBackground': '#5a1d1d',
  '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-inputValidation-infoBackground': '#063b49',
  '--vscode-inputValidation-infoBorder': '#007acc',
  '--vscode-input-background': '#313131',
  '--vscode-input-foreground': '#cccccc',
  '--vscode-settings-textInputBorder': '#3c3c3c',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-testing-iconPassed': '#73c991',
  '--vscode-dropdown-background': '#313131',
  '--vscode-dropdown-foreground': '#cccccc',
  '--vscode-dropdown-border': '#3c3c3c',
  '--vscode-sideBarSectionHeader-background': '#181818',
  '--vscode-sideBarSectionHeader-foreground': '#cccccc',
  '--vscode-sideBarTitle-foreground': '#cccccc',
  '--vscode-checkbox-background': '#313131',
  '--vscode-checkbox-border': '#3c3c3c',
};
const LIGHT: Record<string, string> = {
  ...DARK,
  '--vscode-foreground': '#3b3b3b',
  '--vscode-editor-background': '#ffffff',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-widget-border': '#e5e5e5',
  '--vscode-descriptionForeground': '#717171',
  '--vscode-errorForeground': '#a1260d',
  '--vscode-editorWarning-foreground': '#bf8803',
  '--vscode-badge-background': '#cccccc',
  '--vscode-badge-foreground': '#3b3b3b',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-list-hoverBackground': '#f2f2f2',
  '--vscode-list-activeSelectionBackground': '#e8e8e8',
  '--vscode-list-activeSelectionForeground': '#000000',
  '--vscode-keybindingTable-headerBackground': 'rgba(59,59,59,0.04)',
  '--vscode-keybindingTable-rowsBackground': 'rgba(59,59,59,0.04)',
  '--vscode-inputValidation-errorBackground': '#f2dede',
  '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-inputValidation-infoBackground': '#d6ecf2',
  '--vscode-input-background': '#ffffff',
  '--vscode-input-foreground': '#3b3b3b',
  '--vscode-settings-textInputBorder': '#cecece',
  '--vscode-dropdown-background': '#ffffff',
  '--vscode-dropdown-foreground': '#3b3b3b',
  '--vscode-dropdown-border': '#cecece',
  '--vscode-sideBarSectionHeader-background': '#f8f8f8',
  '--vscode-sideBarSectionHeader-foreground': '#3b3b3b',
  '--vscode-sideBarTitle-foreground': '#3b3b3b',
  '--vscode-checkbox-background': '#f8f8f8',
  '--vscode-checkbox-border': '#cecece',
};

async function main(): Promise<void> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const map: Record<string, [string, string]> = {
      '/inspector.js': [join(root, 'dist/webview/inspector.js'), 'text/javascript'],
      '/inspector.css': [join(root, 'media/inspector.css'), 'text/css'],
    };
    const hit = map[url.pathname];
    if (url.pathname === '/') {
      const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      res.setHeader('content-type', 'text/html');
      res.end(inspectorHtml({ cspSource: origin, nonce: makeNonce(), scriptUri: `${origin}/inspector.js`, styleUri: `${origin}/inspector.css`, title: 'checkpoint-799.pth' }));
    } else if (url.pathname === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
    } else if (hit) {
      res.setHeader('content-type', hit[1]);
      res.end(readFileSync(hit[0]));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  const cspErrors: string[] = [];
  const fx = (p: string): string => join(root, 'test', 'fixtures', p);
  const shots: Array<{ name: string; theme: Record<string, string>; state: InspectorState; width: number; select?: boolean; big?: boolean; file?: string }> = [
    { name: 'fixture-mae', theme: DARK, state: await stateFor(fx('models/mae_pretrain_vit_tiny_patch8.pth')), width: 1100, select: true, file: fx('models/mae_pretrain_vit_tiny_patch8.pth') },
    { name: 'fixture-malicious', theme: DARK, state: await stateFor(fx('bad/os-system-reduce.pth')), width: 1100 },
    { name: 'fixture-lfs', theme: LIGHT, state: await stateFor(fx('bad/lfs-pointer.safetensors')), width: 900 },
    { name: 'fixture-onnx', theme: DARK, state: await stateFor(fx('models/vit_onnx_eager.onnx')), width: 1100 },
    { name: 'fixture-truncated', theme: DARK, state: await stateFor(fx('bad/zip-truncated-central-dir.pth')), width: 900 },
    { name: 'inspector', theme: DARK, state: { fileName: 'checkpoint-799.pth', trusted: true, loading: false, data: sample(false) }, width: 1280, select: true },
    { name: 'inspector-light', theme: LIGHT, state: { fileName: 'checkpoint-799.pth', trusted: false, loading: false, data: sample(false) }, width: 1280, select: true },
    { name: 'inspector-10k', theme: DARK, state: { fileName: 'checkpoint-799.pth', trusted: true, loading: false, data: sample(true) }, width: 1000, big: true },
    {
      name: 'inspector-lfs',
      theme: DARK,
      state: { fileName: 'vit.safetensors', trusted: true, loading: false, error: { code: 'git-lfs-pointer', file: '/work/models/vit.safetensors', offset: 0, problem: 'Git LFS pointer (oid sha256:4d7a…, 346 MB): the weights were not downloaded' } },
      width: 900,
    },
  ];
  for (const s of shots) {
    const page = await browser.newPage({ viewport: { width: s.width, height: 900 }, deviceScaleFactor: 1 });
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/.test(m.text())) cspErrors.push(`${s.name}: ${m.text()}`);
    });
    page.on('pageerror', (e) => {
      cspErrors.push(`${s.name}: pageerror ${e.message}`);
      console.log(`${s.name}: pageerror ${e.message}`);
    });
    if (process.env['PREVIEW_DEBUG']) page.on('response', (r) => console.log(`[${s.name}] ${r.status()} ${r.url()}`));
    if (process.env['PREVIEW_DEBUG']) page.on('console', (m) => console.log(`[${s.name}] ${m.type()}: ${m.text()}`));
    await page.addInitScript(
      ({ theme, state }) => {
        const applyTheme = (): void => {
          for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(k, v);
        };
        if (document.documentElement) applyTheme();
        else document.addEventListener('DOMContentLoaded', applyTheme);
        const w = window as unknown as { acquireVsCodeApi: () => unknown; __sent: unknown[] };
        w.__sent = [];
        w.acquireVsCodeApi = () => ({
          getState: () => JSON.parse(sessionStorage.getItem('vscodeState') ?? 'null') ?? undefined,
          setState: (v: unknown) => sessionStorage.setItem('vscodeState', JSON.stringify(v)),
          postMessage: (m: { kind: string; id?: number; method: string; params: { name?: string } }) => {
            w.__sent.push(m);
            const reply = (msg: unknown): void => void setTimeout(() => window.postMessage(msg, '*'), 5);
            if (m.kind === 'note' && m.method === 'inspector/ready') reply({ kind: 'note', method: 'inspector/show', params: state });
            if (m.kind === 'req' && m.method === 'inspector/tensorStats') {
              const w2 = window as unknown as { __hostStats: (n: string) => Promise<unknown> };
              void w2.__hostStats(m.params.name ?? '').then((real) => {
                if (real) reply({ kind: 'res', id: m.id, ok: true, result: real });
              });
              const bins = 64;
              const hist = Array.from({ length: bins }, (_, i) => Math.round(20000 * Math.exp(-(((i - 31.5) / 9) ** 2))));
              if (state.data && !state.data.file.startsWith('/home/researcher')) return;
              reply({
                kind: 'res',
                id: m.id,
                ok: true,
                result: { name: m.params.name, count: 1769472, min: -0.1493, max: 0.1502, mean: 0.00012, std: 0.0289, zerosFraction: 0.0001, nanCount: 0, infCount: 0, histogram: hist, histMin: -0.1493, histMax: 0.1502, ms: 11.3 },
              });
            }
          },
        });
      },
      { theme: s.theme, state: s.state },
    );
    const realFile = s.file;
    await page.exposeFunction('__hostStats', async (name: string) => {
      if (!realFile) return undefined;
      const ckpt = await openCheckpoint(realFile);
      const t = ckpt.tensors.find((x) => x.name === name)!;
      const t1 = Date.now();
      return toStatsView(name, await tensorStats(t), Date.now() - t1);
    });
    const t0 = Date.now();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector(s.state.error ? '.error-card' : '.vt-row', { timeout: 10000 }).catch(async (e) => {
      console.log((await page.content()).slice(0, 3000));
      throw e;
    });
    const firstPaint = Date.now() - t0;
    if (s.select) {
      await page.click('.vt-row:nth-child(7)');
      await page.waitForSelector('.hist-canvas');
      await page.waitForTimeout(200);
    }
    if (s.big) {
      // Scroll and filter timings on 10k rows.
      const ms = await page.evaluate(async () => {
        const sc = document.querySelector('.vt-scroll') as HTMLElement;
        const t = performance.now();
        for (let i = 0; i < 20; i++) {
          sc.scrollTop = i * 5000;
          await new Promise((r) => requestAnimationFrame(() => r(null)));
        }
        return (performance.now() - t) / 20;
      });
      const rows = await page.evaluate(() => document.querySelectorAll('.vt-row').length);
      const count = await page.textContent('.count');
      console.log(`${s.name}: first render ${firstPaint} ms, ${rows} row elements in DOM, ${ms.toFixed(1)} ms per scroll frame, count "${count}"`);
      await page.evaluate(() => ((document.querySelector('.vt-scroll') as HTMLElement).scrollTop = 0));
      await page.type('vscode-textfield', 'blocks.7 qkv');
      await page.waitForTimeout(300);
      console.log(`${s.name}: filtered count "${await page.textContent('.count')}"`);
      await page.click('.vt-row:nth-child(3)');
      await page.waitForTimeout(400);
      // VS Code recreates a hidden webview; the saved view state must bring back filter and selection.
      await page.reload();
      await page.waitForSelector('.vt-row.selected', { timeout: 10000 });
      console.log(`${s.name}: after reload count "${await page.textContent('.count')}", selected "${await page.textContent('.vt-row.selected .vt-cell:nth-child(2)')}"`);
    }
    await page.screenshot({ path: join(outDir, `${s.name}.png`), fullPage: s.name === 'inspector' });
    console.log(`wrote ${join(outDir, `${s.name}.png`)}`);
    await page.close();
  }
  await browser.close();
  server.close();
  if (cspErrors.length > 0) {
    console.log('console errors:\n' + cspErrors.join('\n'));
    process.exitCode = 1;
  }
}

void main();
