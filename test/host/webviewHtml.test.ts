// The inspector page shell: strict CSP, a fresh nonce per page, nothing inline, the title escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, inspectorHtml, makeNonce } from '../../src/host/webviewHtml';

test('CSP is default-src none with a nonce-only script source; the title is escaped', () => {
  const nonce = makeNonce();
  const html = inspectorHtml({ cspSource: 'https://x.vscode-cdn.net', nonce, scriptUri: 'https://x/dist/webview/inspector.js', styleUri: 'https://x/media/inspector.css', title: '<script>alert(1)</script>.pth' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!.replace(/&#39;/g, "'");
  assert.match(csp, /^default-src 'none';/);
  assert.match(csp, new RegExp(`script-src 'nonce-${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}'`));
  assert.ok(!csp.includes('unsafe'), csp);
  assert.ok(!html.includes('<script>alert'));
  const scripts = [...html.matchAll(/<script\b([^>]*)>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0]![1]!, new RegExp(`nonce="${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}"`));
  assert.ok(!/\son[a-z]+=/i.test(html), 'no inline event handlers');
  assert.equal(escapeHtml(`a"b'c<d>&`), 'a&#34;b&#39;c&#60;d&#62;&#38;');
});

test('nonces are 128-bit random and differ per page', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) seen.add(makeNonce());
  assert.equal(seen.size, 100);
  assert.equal(Buffer.from(makeNonce(), 'base64').length, 16);
});
