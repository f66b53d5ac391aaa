// Self-contained HTML report of an analysis (`lens analyze|compare --html OUT`). It inlines the same
// bundle as the webview (dist/webview/analysis.js), which finds the result in a JSON script tag and
// renders it exactly as the analysis panel does: no second implementation of the charts.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnalysisResult } from './resultSchema';

/** Options of renderHtmlReport. */
export interface HtmlReportOptions {
  /** Fixed theme; without it the report follows the reader's system preference. */
  theme?: 'light' | 'dark';
  /** Nonce of the inline script and style (tests pass one; otherwise 16 random bytes). */
  nonce?: string;
}

/** Id of the script tag holding the result JSON; the bundle reads it. */
export const RESULT_SCRIPT_ID = 'model-lens-result';

/** Text as HTML text/attribute content. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>` and `&` become \u escapes so no string
 * in the result (a file name holding "</script>" or "<!--") can end the element early; U+2028/2029 too.
 * JSON.parse of the element's text gives back the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * JavaScript source made safe inside an inline <script>: a literal "</script" or "<!--" in the bundle
 * (in a string or regex) would end or confuse the element; "<\/script" and "\x3C!--" mean the same
 * inside JS strings, templates and regexes (also with the u flag).
 */
export function scriptForInline(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '\\x3C!--');
}

function baseName(p: string): string {
  const parts = p.split(/[\\/]/);
  return parts[parts.length - 1] || p;
}

/** The report's title: the model file name(s). */
export function reportTitle(result: AnalysisResult): string {
  const a = baseName(result.model.file);
  return result.compare ? `${a} vs ${baseName(result.compare.model.file)}` : a;
}

/** A self-contained HTML page with the analysis charts; its CSP allows only the nonce'd inline script and style. */
export function renderHtmlReport(result: AnalysisResult, bundleJs: string, opts: HtmlReportOptions = {}): string {
  const nonce = opts.nonce ?? randomBytes(16).toString('base64');
  if (!/^[A-Za-z0-9+/=_-]{8,}$/.test(nonce)) throw new Error('renderHtmlReport: nonce must be 8+ base64 characters');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    // PNG export downloads a data: URL; nothing is fetched from anywhere.
    'img-src data: blob:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const bodyClass = opts.theme === 'dark' ? 'vscode-dark' : opts.theme === 'light' ? 'vscode-light' : '';
  const colorScheme = opts.theme ?? 'light dark';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="color-scheme" content="${colorScheme}">`,
    '<meta name="generator" content="Model Lens">',
    `<title>Model Lens — ${escapeHtml(reportTitle(result))}</title>`,
    '</head>',
    `<body${bodyClass ? ` class="${bodyClass}"` : ''}>`,
    '<main id="model-lens-root"><noscript>This report draws its charts with JavaScript. The numbers are in the JSON embedded in this file (script element #model-lens-result).</noscript></main>',
    `<script type="application/json" id="${RESULT_SCRIPT_ID}">${jsonForScript(result)}</script>`,
    // The source map comment would point at a file next to the report that is not there.
    `<script nonce="${nonce}">${scriptForInline(bundleJs.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n'))}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Reads the analysis bundle built next to the CLI (`dist/webview/analysis.js` under `distDir`). */
export function readAnalysisBundle(distDir: string): string {
  const p = join(distDir, 'webview', 'analysis.js');
  if (!existsSync(p)) throw new Error(`${p}: the analysis view bundle is missing; run \`npm run build\``);
  return readFileSync(p, 'utf8');
}
