// Shared machinery of the end-to-end tests: a throwaway code-server (a real VS Code 1.100.3 server)
// with the packaged VSIX installed, driven by Debian's headless Chromium through playwright-core.
// Everything runs offline; see shared notes "real-vscode-offline.md" for why each flag is here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';

import { baseVsCodeSettings, repoRoot } from './workspace';

export const resultsDir = join(repoRoot, 'test-results', 'e2e');

/** Inputs prepared by scripts/e2e/run.mjs (code-server install, VSIX), passed as environment variables. */
export interface E2eInputs {
  codeServerEntry: string;
  vsix: string;
}

export function e2eInputs(): E2eInputs {
  const codeServerEntry = process.env['MODEL_LENS_E2E_CODE_SERVER'] ?? '';
  const vsix = process.env['MODEL_LENS_E2E_VSIX'] ?? '';
  if (!existsSync(codeServerEntry) || !existsSync(vsix)) {
    throw new Error('run the e2e tests with `npm run test:e2e` (it installs code-server and packages the VSIX first)');
  }
  return { codeServerEntry, vsix };
}

/** A fresh folder under the system temp dir; removed by `cleanupScratch` at the end. */
export function scratchDir(tag: string): string {
  // The run id (set by scripts/e2e/run.mjs) lets the runner find and end anything a crashed test left.
  const run = process.env['MODEL_LENS_E2E_RUN_ID'] ?? `p${process.pid}`;
  // Short: VS Code's IPC socket paths under TMPDIR must stay below 107 characters.
  return mkdtempSync(join(tmpdir(), `mle2e-${run}-${tag}-`));
}

export function cleanupScratch(dir: string): void {
  if (process.env['MODEL_LENS_E2E_KEEP'] === '1') return;
  rmSync(dir, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  return await new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; the last error explains a timeout. */
export async function poll<T>(what: string, fn: () => Promise<T | undefined | false | null>, timeoutMs: number, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) {
      const why = lastErr instanceof Error ? `: ${lastErr.message.split('\n')[0]}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

function serverEnv(scratch: string): NodeJS.ProcessEnv {
  const home = join(scratch, 'home');
  const tmp = join(scratch, 't');
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmp, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share'), XDG_CACHE_HOME: join(home, '.cache') };
  // An outer VS Code's variables would leak into the extension host of the inner one.
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  return env;
}

/** Installs a VSIX into `extensionsDir` with code-server's own CLI (`--install-extension`). */
export function installVsix(entry: string, vsix: string, extensionsDir: string, scratch: string): void {
  const r = spawnSync(process.execPath, [entry, '--extensions-dir', extensionsDir, '--user-data-dir', join(scratch, 'ud-install'), '--install-extension', vsix, '--force'], { env: serverEnv(scratch), encoding: 'utf8', timeout: 120_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0 || !/successfully installed/i.test(out)) throw new Error(`--install-extension ${vsix} failed (${r.status}):\n${out}`);
}

export interface CodeServerOptions {
  entry: string;
  extensionsDir: string;
  folder: string;
  scratch: string;
  /** false leaves out --disable-workspace-trust (the folder then opens in Restricted Mode). */
  trust: boolean;
  settings?: Record<string, unknown>;
}

/** A running code-server; `stop()` kills its whole process group. */
export interface CodeServer {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly userSettingsFile: string;
  /** Rewrites the user settings.json; takes effect for windows opened afterwards (see writeWorkspaceSettings). */
  writeSettings(settings: Record<string, unknown>): void;
  output(): string;
  stop(): Promise<void>;
}

const liveServers = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of liveServers) killGroup(p, 'SIGKILL');
});

function killGroup(p: ChildProcess, sig: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, sig);
  } catch {
    try {
      p.kill(sig);
    } catch {
      /* already gone */
    }
  }
}

export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const port = await freePort();
  const userData = join(o.scratch, 'user-data');
  const userSettingsFile = join(userData, 'User', 'settings.json');
  mkdirSync(join(userData, 'User'), { recursive: true });
  const writeSettings = (s: Record<string, unknown>): void => writeFileSync(userSettingsFile, JSON.stringify({ ...baseVsCodeSettings, ...s }, null, 2));
  writeSettings(o.settings ?? {});
  const args = [o.entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-getting-started-override', '--user-data-dir', userData, '--extensions-dir', o.extensionsDir];
  if (o.trust) args.push('--disable-workspace-trust');
  args.push(o.folder);
  // detached: its own process group, so stop() also ends the extension host and the analysis worker.
  const proc = spawn(process.execPath, args, { env: serverEnv(o.scratch), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  liveServers.add(proc);
  let log = '';
  const keep = (b: Buffer): void => {
    log += b.toString();
    if (log.length > 400_000) log = log.slice(-200_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const origin = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    killGroup(proc, 'SIGTERM');
    const end = Date.now() + 5000;
    while (proc.exitCode === null && proc.signalCode === null && Date.now() < end) await sleep(100);
    killGroup(proc, 'SIGKILL');
    liveServers.delete(proc);
  };
  try {
    await poll('code-server /healthz', async () => {
      if (proc.exitCode !== null) throw new Error(`code-server exited (${proc.exitCode}):\n${log}`);
      const r = await fetch(`${origin}/healthz`);
      return r.ok;
    }, 60_000, 200);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, origin, userSettingsFile, writeSettings, output: () => log, stop };
}

/** Headless Chromium in a fresh profile, with the flags the notes found necessary as root, offline. */
export async function launchBrowser(scratch: string): Promise<BrowserContext> {
  return await chromium.launchPersistentContext(join(scratch, 'chromium-profile'), {
    executablePath: process.env['MODEL_LENS_E2E_CHROMIUM'] ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/** Opens the workbench on `folder` and waits until it is interactive. */
export async function openWorkbench(ctx: BrowserContext, server: CodeServer, folder: string, extraQuery = ''): Promise<Page> {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto(`${server.origin}/?folder=${encodeURIComponent(folder)}${extraQuery}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ timeout: 60_000 });
  return page;
}

/** Runs a palette command by its full title ("Model Lens: Analyze Checkpoint…"); retries until it is registered. */
export async function runCommand(page: Page, title: string, timeoutMs = 30_000): Promise<void> {
  await poll(`command "${title}" in the palette`, async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ timeout: 5000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ timeout: 3000 });
    } catch {
      await page.keyboard.press('Escape');
      return false;
    }
    await input.press('Enter');
    return true;
  }, timeoutMs, 1000);
}

/** In an open quick pick, types `text` and accepts the first row that contains it. */
export async function pickQuickItem(page: Page, text: string, timeoutMs = 20_000): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ timeout: timeoutMs });
  await input.fill(text);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
  await row.waitFor({ timeout: timeoutMs });
  await row.click();
}

/** Shows the Explorer and returns the row of a file at the workspace root (exact name). */
export async function explorerRow(page: Page, name: string): Promise<ReturnType<Page['locator']>> {
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label="${name}"]`).first();
  if (!(await row.isVisible().catch(() => false))) {
    await page.keyboard.press('Control+Shift+E');
  }
  await row.waitFor({ timeout: 20_000 });
  await row.scrollIntoViewIfNeeded();
  return row;
}

/** Right-clicks a file in the Explorer and chooses a context menu item by its label. */
export async function explorerContextMenu(page: Page, name: string, item: string, opts: { ctrlClickAlso?: string } = {}): Promise<void> {
  await page.keyboard.press('Escape');
  const row = await explorerRow(page, name);
  await row.click();
  if (opts.ctrlClickAlso !== undefined) {
    const other = await explorerRow(page, opts.ctrlClickAlso);
    await other.click({ modifiers: ['Control'] });
  }
  await row.click({ button: 'right' });
  // The menu lives in a shadow root outside .context-view; playwright's CSS engine pierces it.
  const entry = page.locator('.monaco-menu .action-item:not(.disabled) .action-label', { hasText: item }).first();
  await entry.waitFor({ timeout: 10_000 });
  // VS Code ignores a mouse-up that comes right after the menu opened; hover, pause, then click,
  // and fall back to Enter on the hovered (focused) item if the menu is still there.
  await entry.hover();
  await sleep(300);
  await entry.click();
  if (await entry.isVisible().catch(() => false)) {
    await sleep(300);
    if (await entry.isVisible().catch(() => false)) await page.keyboard.press('Enter');
  }
  await entry.waitFor({ state: 'hidden', timeout: 5000 });
}

/** Closes editors, notifications and open widgets between journeys. */
export async function resetWorkbench(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await runCommand(page, 'View: Close All Editors').catch(() => undefined);
  await runCommand(page, 'Notifications: Clear All Notifications').catch(() => undefined);
  await page.keyboard.press('Escape');
}

/**
 * The inner frame of the webview whose body text contains `marker` (webviews are two iframes deep:
 * iframe.webview > iframe#active-frame). Several webviews may be open; pick by content.
 */
export async function webviewFrame(page: Page, marker: string | RegExp, timeoutMs = 60_000): Promise<Frame> {
  return await poll(`a webview showing ${String(marker)}`, async () => {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      const text = await f.evaluate(() => document.body?.innerText ?? '').catch(() => '');
      if (typeof marker === 'string' ? text.includes(marker) : marker.test(text)) return f;
    }
    return undefined;
  }, timeoutMs, 500);
}

/** Body text of a frame (for assertions and for failure messages). */
export async function frameText(f: Frame): Promise<string> {
  return await f.evaluate(() => document.body?.innerText ?? '');
}

/** Canvas statistics: drawn pixels, and "saturated" pixels (data series; grid and text are grey). */
export interface CanvasStats {
  width: number;
  height: number;
  drawn: number;
  saturated: number;
  colors: number;
}

/** Pixel statistics of every canvas in the frame (including in open shadow roots). */
export async function canvasStats(f: Frame): Promise<CanvasStats[]> {
  return await f.evaluate(() => {
    const found: HTMLCanvasElement[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const el of Array.from(root.querySelectorAll('*'))) {
        if (el instanceof HTMLCanvasElement) found.push(el);
        if (el.shadowRoot) walk(el.shadowRoot);
      }
    };
    walk(document);
    return found.map((c) => {
      const out = { width: c.width, height: c.height, drawn: 0, saturated: 0, colors: 0 };
      const rect = c.getBoundingClientRect();
      if (c.width === 0 || c.height === 0 || rect.width === 0 || rect.height === 0) return out;
      const ctx = c.getContext('2d');
      if (!ctx) return out;
      const data = ctx.getImageData(0, 0, c.width, c.height).data;
      const palette = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!, a = data[i + 3]!;
        if (a < 16) continue;
        out.drawn++;
        if (Math.max(r, g, b) - Math.min(r, g, b) > 60) out.saturated++;
        if (palette.size < 5000) palette.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
      }
      out.colors = palette.size;
      return out;
    });
  });
}

let settingsGeneration = 0;

/**
 * Writes the workspace's .vscode/settings.json and waits until the window has applied it. code-server
 * picks up edits of this file (not of the user settings.json on disk); the proof is `window.title`,
 * written in the same file, showing up as the page title (the extension host receives the same
 * configuration change alongside, so a short pause covers it).
 */
export async function applyWorkspaceSettings(page: Page, workspaceDir: string, settings: Record<string, unknown>): Promise<void> {
  // The command center shows the title: zero-width spaces keep the picture clean and the title unique.
  const marker = `workspace${'\u200b'.repeat(++settingsGeneration)}`;
  mkdirSync(join(workspaceDir, '.vscode'), { recursive: true });
  writeFileSync(join(workspaceDir, '.vscode', 'settings.json'), JSON.stringify({ ...settings, 'window.title': marker }, null, 2));
  await poll(`workspace settings #${settingsGeneration} to apply`, async () => (await page.title()).includes(marker), 20_000, 200); // markers only grow: the newest matches alone
  await sleep(500);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Text of the visible notification toasts. */
export async function notificationsText(page: Page): Promise<string> {
  const toasts = page.locator('.notifications-toasts .notification-toast');
  const n = await toasts.count();
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(await toasts.nth(i).innerText().catch(() => ''));
  return parts.join('\n');
}


/** A code-server with the packaged VSIX installed and one workbench page open on a trusted folder. */
export interface WorkbenchSession {
  server: CodeServer;
  ctx: BrowserContext;
  page: Page;
  /** Closes the browser, stops code-server and removes `scratch`. */
  close(): Promise<void>;
}

/** Installs the VSIX into `scratch`/extensions, starts code-server trusted on `folder`, opens the workbench. */
export async function openTrustedWorkbench(entry: string, vsix: string, scratch: string, folder: string, settings: Record<string, unknown>): Promise<WorkbenchSession> {
  const extensionsDir = join(scratch, 'extensions');
  installVsix(entry, vsix, extensionsDir, scratch);
  const server = await startCodeServer({ entry, extensionsDir, folder, scratch, trust: true, settings });
  const ctx = await launchBrowser(scratch);
  const page = await openWorkbench(ctx, server, folder);
  return {
    server, ctx, page,
    close: async () => {
      await ctx.close().catch(() => undefined);
      await server.stop();
      cleanupScratch(scratch);
    },
  };
}

/**
 * A fresh window lists the extension's menu items only once its extensions are scanned: waits until the
 * Explorer context menu of `target` offers `item`, by choosing it.
 */
export async function chooseWhenMenuReady(page: Page, target: string, item: string, timeoutMs = 90_000): Promise<void> {
  await poll(`${item} in the Explorer context menu of ${target}`, async () => {
    try {
      await explorerContextMenu(page, target, item);
      return true;
    } catch {
      await page.keyboard.press('Escape');
      return undefined;
    }
  }, timeoutMs, 1000);
}
