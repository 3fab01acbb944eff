import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { Push, type PushSettings } from '../../../src/app/relays/push';
import { RecordingSink, sleep } from '../../helpers/hub-fixtures';
import { startSyntheticSource } from '../../helpers/synthetic-source';
import { RtmpServer } from '../../../src/protocols/rtmp/server';

const SETTINGS: PushSettings = { connectTimeoutMs: 500, stallTimeoutMs: 1000, reconnectMinMs: 50, reconnectMaxMs: 200, maxPendingBytes: 1 << 20, chunkSize: 4096 };

/** A loopback port nothing listens on: the push's connects are refused and it keeps retrying while it reads. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function onDemandWithPush(keepSource: boolean) {
  const registry = new Registry(
    { ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 300, startTimeoutMs: 400, closeAfterMs: 80, reconnectGraceMs: 0 },
    silentLogger(),
  );
  let source: ReturnType<typeof startSyntheticSource> | undefined;
  registry.registerOnDemand('pull/*', async (path) => (source = startSyntheticSource(registry, path)));
  const viewer = await registry.subscribe('pull/cam', new RecordingSink());
  const finished: Push[] = [];
  const target = { ruleId: 'r1', path: 'pull/cam', url: `rtmp://127.0.0.1:${await refusedPort()}/live/cam`, hevc: 'enhanced', allowSelfSigned: false, keepSource } as const;
  const push = new Push(target, SETTINGS, { registry, log: silentLogger(), onFinished: (p) => finished.push(p) });
  push.start();
  await sleep(100);
  assert.deepEqual(push.status().codecs, ['h264'], 'the push reads the stream');
  assert.equal(registry.readerCount('pull/cam'), keepSource ? 2 : 1);
  viewer.close();
  await sleep(250);
  return { registry, source: source!, push, finished };
}

test('a push without keepSource does not keep an on-demand source alive: the last viewer leaving stops it and the push ends', async () => {
  const { registry, source, push, finished } = await onDemandWithPush(false);
  const stopped = source.stopped;
  const state = push.status().state;
  push.stop('test over');
  await registry.close();
  assert.ok(stopped, 'closeAfter ran although the push was reading');
  assert.equal(state, 'stopped');
  assert.deepEqual(finished, [push]);
});

test('a keepSource push counts as a reader: the source stays after the last viewer left', async () => {
  const { registry, source, push, finished } = await onDemandWithPush(true);
  assert.ok(!source.stopped, 'the push holds the on-demand source');
  assert.notEqual(push.status().state, 'stopped');
  assert.deepEqual(finished, []);
  push.stop('test over');
  await sleep(150);
  assert.ok(source.stopped, 'the push leaving releases it');
  await registry.close();
});

test('a target that answers NetStream.Publish.BadName is retried with backoff, and the status says why', async () => {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, reconnectGraceMs: 0 }, silentLogger());
  // The target is a real RTMP server whose live/cam is already published: every publish to it is refused.
  const targetHub = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, reconnectGraceMs: 0 }, silentLogger());
  const server = new RtmpServer({ host: '127.0.0.1', port: 0, registry: targetHub, logger: silentLogger() });
  const { port } = await server.listen();
  const occupant = startSyntheticSource(targetHub, 'live/cam');
  const source = startSyntheticSource(registry, 'pull/cam');
  const target = { ruleId: 'r1', path: 'pull/cam', url: `rtmp://127.0.0.1:${port}/live/cam`, hevc: 'enhanced', allowSelfSigned: false, keepSource: true } as const;
  const push = new Push(target, SETTINGS, { registry, log: silentLogger(), onFinished: () => undefined });
  try {
    push.start();
    // Backoff 50 ms doubling to 200 ms: in 1.2 s at least three more attempts, never 'pushing'.
    const states = new Set<string>();
    for (let i = 0; i < 24; i++) {
      await sleep(50);
      states.add(push.status().state);
    }
    const status = push.status();
    assert.ok(!states.has('pushing'), `states seen: ${[...states].join(', ')}`);
    assert.ok(states.has('retrying'));
    assert.equal(status.lastError?.kind, 'bad-name', JSON.stringify(status.lastError));
    assert.ok(status.reconnects >= 3, `reconnects ${status.reconnects}`);
    assert.ok(status.reconnects <= 12, `reconnects ${status.reconnects}: the backoff did not hold the retries back`);
  } finally {
    push.stop('test over');
    source.stop('test over');
    occupant.stop('test over');
    await server.close();
    await registry.close();
    await targetHub.close();
  }
});
