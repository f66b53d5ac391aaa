import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { escapeHtml, jsonForScript, renderHtmlReport, reportTitle, scriptForInline, RESULT_SCRIPT_ID } from '../../src/analysis/htmlReport';
import type { AnalysisResult } from '../../src/analysis/resultSchema';

const root = resolve(__dirname, '..', '..', '..');
const fixture = (name: string): AnalysisResult => JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'results', name), 'utf8')) as AnalysisResult;

/** The text between the JSON script's opening tag and the first "</script" after it, as an HTML parser would cut it. */
function embeddedJson(html: string): string {
  const open = `<script type="application/json" id="${RESULT_SCRIPT_ID}">`;
  const start = html.indexOf(open);
  assert.ok(start >= 0, 'result script element present');
  const from = start + open.length;
  const end = html.toLowerCase().indexOf('</script', from);
  return html.slice(from, end);
}

function hostile(): AnalysisResult {
  const r = fixture('vitb16-mim.json');
  r.model.file = '/tmp/evil</script><script>alert(1)</script><!-- \u2028\u2029 & "q" \'s\'.pth';
  r.warnings = ['<img src=x onerror=alert(1)>', '</SCRIPT >', 'line\u2028sep'];
  return r;
}

test('embedded JSON parses back equal, even when strings contain </script>, <!--, U+2028', () => {
  const r = hostile();
  const html = renderHtmlReport(r, 'void 0;', { nonce: 'TESTNONCE123' });
  const text = embeddedJson(html);
  assert.ok(!/<\/script/i.test(text) && !text.includes('<'), 'no raw < in the embedded JSON');
  assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(r)));
  // Exactly the two script elements we wrote: the JSON one and the nonce'd bundle.
  assert.equal((html.match(/<script\b/gi) ?? []).length, 2);
});

test('jsonForScript escapes <, >, & and line separators and round-trips', () => {
  const v = { a: '</script>', b: '<!--', c: 'a&b', d: '\u2028\u2029', e: [1.5, -0, 1e-300] };
  const s = jsonForScript(v);
  assert.ok(!/[<>&\u2028\u2029]/.test(s));
  assert.deepEqual(JSON.parse(s), JSON.parse(JSON.stringify(v)));
});

test('scriptForInline neutralises </script and <!-- without changing JS meaning', () => {
  const js = 'var a = "</script>"; var b = "<!--"; var c = /<\\/script/i; var d = `</SCRIPT x`;';
  const out = scriptForInline(js);
  assert.ok(!/<\/script/i.test(out) && !out.includes('<!--'));
  // Same values when evaluated.
  const run = (src: string): unknown[] => new Function(`${src}; return [a, b, String(c), d];`)() as unknown[];
  assert.deepEqual(run(out), run(js));
});

test('CSP: default-src none, only the nonce may run scripts or styles, nothing external', () => {
  const html = renderHtmlReport(fixture('vitb16-compare.json'), 'console.log(1)', { nonce: 'AbC123xyz+/=' });
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html);
  assert.ok(m, 'CSP meta present');
  const csp = m![1]!.replace(/&#39;/g, "'");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-AbC123xyz\+\/='(;|$)/);
  assert.match(csp, /style-src 'nonce-AbC123xyz\+\/='(;|$)/);
  assert.ok(!/unsafe-inline|unsafe-eval|https?:|\*/.test(csp), `no wildcard/unsafe/remote sources: ${csp}`);
  assert.match(html, /<script nonce="AbC123xyz\+\/=">console\.log\(1\)<\/script>/);
  // No attribute that loads anything.
  assert.ok(!/\s(src|href)=/i.test(html.replace(embeddedJson(html), '')), 'no src/href attributes');
  assert.ok(!/<link\b|<iframe\b|<object\b|<embed\b/i.test(html));
});

test('title is escaped text; theme sets the body class; default nonce is random', () => {
  const r = hostile();
  const html = renderHtmlReport(r, '', { theme: 'dark' });
  const title = /<title>([^<]*)<\/title>/.exec(html)![1]!;
  assert.equal(title, `Model Lens — ${escapeHtml(reportTitle(r))}`);
  assert.match(html, /<body class="vscode-dark">/);
  assert.match(renderHtmlReport(r, '', { theme: 'light' }), /<body class="vscode-light">/);
  assert.match(renderHtmlReport(r, ''), /<body>/);
  const n1 = /nonce-([^']+)'/.exec(renderHtmlReport(r, ''))![1];
  const n2 = /nonce-([^']+)'/.exec(renderHtmlReport(r, ''))![1];
  assert.notEqual(n1, n2);
  assert.throws(() => renderHtmlReport(r, '', { nonce: '"><script>' }));
});

test('reportTitle names both models of a comparison', () => {
  assert.equal(reportTitle(fixture('vitb16-compare.json')), 'checkpoint-799.pth vs model_best.safetensors');
  assert.equal(reportTitle(fixture('vitb16-mim.json')), 'checkpoint-799.pth');
});
