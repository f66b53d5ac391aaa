import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcEndpoint, createLinkedTransports, RpcError } from '../../src/protocol/rpc';

function pair(): { a: RpcEndpoint; b: RpcEndpoint; closeA: (r: string) => void } {
  const [ta, tb] = createLinkedTransports();
  const a = new RpcEndpoint(ta);
  const b = new RpcEndpoint(tb);
  return { a, b, closeA: (r) => tb.closePeer(r) };
}

test('request/response round trip with typed error', async () => {
  const { a, b } = pair();
  b.handle('math/add', (p) => (p as { x: number; y: number }).x + (p as { x: number; y: number }).y);
  b.handle('fail', () => {
    throw Object.assign(new Error('bad file'), { code: 'corrupt', file: 'a.pth', offset: 12 });
  });
  assert.equal(await a.request('math/add', { x: 2, y: 3 }), 5);
  await assert.rejects(a.request('fail', {}), (e: unknown) => e instanceof RpcError && e.code === 'corrupt' && e.offset === 12 && e.file === 'a.pth');
  await assert.rejects(a.request('nope', {}), (e: unknown) => e instanceof RpcError && e.code === 'method-not-found');
});

test('cancellation aborts the handler and rejects the caller', async () => {
  const { a, b } = pair();
  let aborted = false;
  b.handle('slow', (_p, ctx) => new Promise((_res, rej) => {
    ctx.signal.addEventListener('abort', () => { aborted = true; rej(new Error('stop')); });
  }));
  const ctl = new AbortController();
  const pending = a.request('slow', {}, ctl.signal);
  await new Promise((r) => setTimeout(r, 5));
  ctl.abort();
  await assert.rejects(pending, (e: unknown) => e instanceof RpcError && e.code === 'cancelled');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(aborted, true);
});

test('pending requests are rejected when the peer exits', async () => {
  const { a, b, closeA } = pair();
  b.handle('never', () => new Promise(() => {}));
  const p = a.request('never', {});
  await new Promise((r) => setTimeout(r, 5));
  closeA('worker exited with code 9');
  await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === 'peer-exited' && /code 9/.test(e.message));
  await assert.rejects(a.request('never', {}), (e: unknown) => e instanceof RpcError && e.code === 'peer-exited');
});

test('notifications reach handlers and malformed messages are dropped', async () => {
  const { a, b } = pair();
  const seen: unknown[] = [];
  b.onNotification('progress', (p) => seen.push(p));
  a.notify('progress', { done: 1 });
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(seen, [{ done: 1 }]);
});
