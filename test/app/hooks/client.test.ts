import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DEFAULT_HOOK_CLIENT, HookClient, type HookOutcome } from '../../../src/app/hooks/client';
import { verifyHookSignature } from '../../../src/app/hooks/signature';
import { silentLogger } from '../../../src/core/log';
import { HookReceiver } from '../../helpers/hook-receiver';
import { waitFor } from '../../helpers/gateway';
import { retainedHeap } from '../../helpers/memory';

let receiver: HookReceiver;
before(async () => {
  receiver = await new HookReceiver().listen();
});
after(() => receiver.close());

function counting(): { counts: Map<string, number>; counted: (hook: string, outcome: HookOutcome) => void } {
  const counts = new Map<string, number>();
  return { counts, counted: (_hook, outcome) => counts.set(outcome, (counts.get(outcome) ?? 0) + 1) };
}

/** A port nobody listens on (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('call: the JSON answer, signed with the key, within the timeout', async () => {
  const { counts, counted } = counting();
  const client = new HookClient({ ...DEFAULT_HOOK_CLIENT, secret: 's3cret' }, silentLogger(), counted);
  receiver.respond('c1', () => ({ json: { code: 7, msg: 'no' } }));
  const answer = await client.call('c1', receiver.url('c1'), { a: 1 });
  assert.deepEqual(answer, { ok: true, body: { code: 7, msg: 'no' } });
  const got = receiver.of('c1')[0]!;
  assert.ok(verifyHookSignature('s3cret', got.headers['x-gateway-timestamp'] as string, got.raw, got.headers['x-gateway-signature'] as string));
  assert.equal(counts.get('ok'), 1);
  client.close();
});

test('call: a receiver that answers late, fails or is down is a failure with the reason', async () => {
  const { counts, counted } = counting();
  const client = new HookClient({ ...DEFAULT_HOOK_CLIENT, timeoutMs: 300 }, silentLogger(), counted);
  receiver.respond('slow', () => ({ delayMs: 2000 }));
  receiver.respond('e500', () => ({ status: 500 }));
  const started = Date.now();
  const slow = await client.call('slow', receiver.url('slow'), {});
  assert.ok(Date.now() - started < 1900, 'the timeout cut the call short');
  assert.deepEqual(slow.ok ? undefined : slow.outcome, 'timeout');
  const failed = await client.call('e500', receiver.url('e500'), {});
  assert.match(failed.ok ? '' : failed.reason, /HTTP 500/);
  const down = await client.call('down', `http://127.0.0.1:${await deadPort()}/down`, {});
  assert.match(down.ok ? '' : down.reason, /ECONNREFUSED/);
  assert.equal(counts.get('timeout'), 1);
  assert.equal(counts.get('error'), 2);
  client.close();
});

test('notify: retried with backoff until the receiver takes it', async () => {
  const { counts, counted } = counting();
  const client = new HookClient({ ...DEFAULT_HOOK_CLIENT, retryDelayMs: 20, retries: 3 }, silentLogger(), counted);
  let calls = 0;
  receiver.respond('flaky', () => (++calls <= 2 ? { status: 503 } : { json: {} }));
  client.notify('flaky', receiver.url('flaky'), { n: 1 });
  await waitFor(() => counts.get('ok') === 1, 5000, 'the third attempt');
  assert.equal(counts.get('retried'), 2);
  assert.equal(receiver.of('flaky').length, 3);
  client.close();
});

test('notify: a receiver that never answers costs a bounded queue; the rest is dropped and counted, memory stays flat', async () => {
  const { counts, counted } = counting();
  const client = new HookClient({ ...DEFAULT_HOOK_CLIENT, timeoutMs: 60_000, queueSize: 100, concurrency: 4 }, silentLogger(), counted);
  receiver.respond('hang', () => ({ hang: true }));
  const body = { hook: 'on_stream_changed', payload: 'x'.repeat(400) };
  const heapBefore = retainedHeap();
  const total = 100_000;
  for (let i = 0; i < total; i++) client.notify('hang', receiver.url('hang'), { ...body, i });
  const grown = retainedHeap() - heapBefore;
  assert.equal(client.queued, 100);
  assert.equal(counts.get('dropped'), total - 100 - 4);
  // Unbounded, 100,000 bodies of ~450 bytes would hold over 45 MB.
  assert.ok(grown < 5 * 1024 * 1024, `heap grew by ${grown} bytes`);
  client.close();
  assert.equal(client.queued, 0);
});
