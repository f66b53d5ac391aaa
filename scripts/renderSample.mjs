// Renders sample analysis results to standalone HTML with renderHtmlReport (the CLI's --html path) and
// screenshots them in headless Chromium, light and dark, to /tmp/view-*.png. Also reports console
// errors and CSP violations. Usage: node scripts/renderSample.mjs [result.json ...]
import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { chromium } from 'playwright-core';

const files = process.argv.slice(2).length ? process.argv.slice(2) : ['test/fixtures/results/vitb16-mim.json', 'test/fixtures/results/vitb16-compare.json'];
const outDir = process.env.OUT_DIR || '/tmp';

const bundle = await build({ entryPoints: ['webview/analysisMain.ts'], bundle: true, platform: 'browser', format: 'iife', target: 'es2022', minify: true, write: false, logLevel: 'warning' });
const bundleJs = bundle.outputFiles[0].text;
const lib = await build({ entryPoints: ['src/analysis/htmlReport.ts'], bundle: true, platform: 'node', format: 'esm', write: false, logLevel: 'warning' });
const { renderHtmlReport } = await import(`data:text/javascript;base64,${Buffer.from(lib.outputFiles[0].text).toString('base64')}`);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--headless'] });
let problems = 0;
try {
  for (const file of files) {
    const result = JSON.parse(readFileSync(file, 'utf8'));
    const name = basename(file, '.json');
    for (const theme of ['light', 'dark']) {
      const html = renderHtmlReport(result, bundleJs, { theme });
      mkdirSync(`${outDir}/view-html`, { recursive: true });
      const htmlPath = `${outDir}/view-html/${name}-${theme}.html`;
      writeFileSync(htmlPath, html);
      const page = await browser.newPage({ viewport: { width: Number(process.env.WIDTH || 1100), height: 900 }, deviceScaleFactor: 1 });
      const errors = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console.${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      await page.addInitScript(() => document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`)));
      await page.goto(`file://${htmlPath}`);
      await page.waitForFunction(() => window.__modelLensView?.ready === true, null, { timeout: 10000 });
      if (process.env.TABLES) await page.$$eval('button', (bs) => bs.filter((b) => b.textContent === 'Show table').forEach((b) => b.click()));
      const shot = `${outDir}/view-${name}-${theme}.png`;
      // Grow the viewport to the page first: a fullPage capture resizes it mid-shot, and the charts'
      // resize redraw can land half-way in the image.
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.setViewportSize({ width: Number(process.env.WIDTH || 1100), height });
      await page.waitForTimeout(400);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`${shot}${errors.length ? `\n  ${errors.join('\n  ')}` : ''}`);
      problems += errors.length;
      await page.close();
    }
  }
  // Webview-only states (progress with Cancel, error) and VS Code's high-contrast theme, simulated with
  // a stand-in acquireVsCodeApi and the theme variables VS Code would set.
  const result = JSON.parse(readFileSync(files[0], 'utf8'));
  const shell = renderHtmlReport(result, bundleJs).replace(/<script type="application\/json"[^]*?<\/script>/, '');
  const hc = `document.documentElement.style.cssText = '--vscode-editor-background:#000;--vscode-editor-foreground:#fff;--vscode-foreground:#fff;--vscode-descriptionForeground:#d0d0d0;--vscode-contrastBorder:#6fc3df;--vscode-panel-border:#6fc3df;--vscode-charts-blue:#3794ff;--vscode-charts-orange:#f38518;--vscode-button-secondaryBackground:#000;--vscode-button-secondaryForeground:#fff;--vscode-button-border:#6fc3df;--vscode-inputValidation-warningBorder:#b89500;--vscode-font-family:system-ui,sans-serif;--vscode-font-size:13px;--vscode-editor-font-family:monospace'; document.body.classList.add('vscode-high-contrast'); document.body.style.background = '#000'; document.body.style.color = '#fff';`;
  const states = {
    running: { key: 'k', files: [result.model.file], title: 'Analysis', phase: 'running', progress: { done: 32, total: 64, stage: 'Running probe images · CPU (no GPU provider)' } },
    error: { key: 'k', files: [result.model.file], title: 'Analysis', phase: 'error', error: { code: 'not-analyzable', message: '/runs/swin_base.pth: Swin transformers are recognized but not analyzable yet (windowed attention)' } },
    'high-contrast': { key: 'k', files: [result.model.file], title: 'Analysis', phase: 'done', result },
  };
  for (const [name, state] of Object.entries(states)) {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
    const errors = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await page.addInitScript(`window.acquireVsCodeApi = () => ({ postMessage() {}, getState() {}, setState() {} });`);
    const htmlPath = `${outDir}/view-html/state-${name}.html`;
    writeFileSync(htmlPath, shell);
    await page.goto(`file://${htmlPath}`);
    await page.waitForFunction(() => window.__modelLensView?.ready === true);
    // VS Code defines the theme variables in a real webview; here the report's light set stands in.
    if (name === 'high-contrast') await page.evaluate(hc);
    else await page.evaluate(() => document.body.classList.add('ml-standalone', 'vscode-light'));
    await page.evaluate((st) => window.postMessage({ kind: 'note', method: 'analysisView/show', params: st }, '*'), state);
    await page.waitForTimeout(500);
    const height = await page.evaluate(() => document.documentElement.scrollHeight);
    await page.setViewportSize({ width: 900, height: Math.min(height, 4000) });
    await page.waitForTimeout(300);
    const shot = `${outDir}/view-state-${name}.png`;
    await page.screenshot({ path: shot });
    console.log(`${shot}${errors.length ? `\n  ${errors.join('\n  ')}` : ''}`);
    problems += errors.length;
    await page.close();
  }
} finally {
  await browser.close();
}
process.exit(problems ? 1 : 0);
