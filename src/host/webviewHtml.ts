// The HTML shells of the webviews (inspector and analysis panel). Kept free of vscode so the preview script
// and tests can render exactly what the editor gets: CSP default-src 'none', a fresh nonce per page, one
// nonce'd script, no inline handlers.
import { randomBytes } from 'node:crypto';

/** 128 random bits, base64: a new one for every page load. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface InspectorHtmlParts {
  /** `webview.cspSource`. */
  cspSource: string;
  nonce: string;
  /** URI of dist/webview/inspector.js as the webview sees it. */
  scriptUri: string;
  /** URI of media/inspector.css as the webview sees it. */
  styleUri: string;
  /** Page title: the file name (escaped here; the page renders it again via textContent). */
  title: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function inspectorHtml(p: InspectorHtmlParts): string {
  // No 'unsafe-inline' anywhere: the virtual table positions rows through the CSSOM (element.style),
  // which CSP does not restrict, and the web components use constructable stylesheets.
  const csp = [
    "default-src 'none'",
    `img-src ${p.cspSource} data:`,
    `style-src ${p.cspSource}`,
    `font-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
  ].join('; ');
  return webviewPage({ csp, nonce: p.nonce, scriptUri: p.scriptUri, styleUri: p.styleUri, title: p.title, main: '<main id="root" aria-live="polite"></main>' });
}

/**
 * The CSP of a chart page (analysis, attention): one nonce'd script; styles only from the extension or
 * with the nonce (the bundle injects its stylesheet that way; chart.js sizes canvases through CSSOM);
 * images from the extension and data:/blob: URLs (canvas exports).
 */
export function chartPageCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** One webview page: the CSP meta, optional stylesheet, the title, `main` (trusted markup), one nonce'd script. */
export function webviewPage(p: { csp: string; nonce: string; scriptUri: string; styleUri?: string; title: string; main: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(p.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${p.styleUri !== undefined ? `<link rel="stylesheet" href="${escapeHtml(p.styleUri)}">\n` : ''}<title>${escapeHtml(p.title)}</title>
</head>
<body>
${p.main}
<script nonce="${escapeHtml(p.nonce)}" src="${escapeHtml(p.scriptUri)}"></script>
</body>
</html>`;
}
