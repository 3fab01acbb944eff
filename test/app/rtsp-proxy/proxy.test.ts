import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import type { Publisher } from '../../../src/core/source';
import { pendingTrack, type Track } from '../../../src/core/track';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { RtspProxy, keepReadyTracks, type ProxySettings, type ProxySpec } from '../../../src/app/rtsp-proxy/proxy';
import { H264_TEST_TRACK, RecordingSink, sleep } from '../../helpers/hub-fixtures';
import { startScriptCamera } from '../../helpers/rtsp-script-camera';
import { waitFor } from '../../helpers/gateway';

const SETTINGS: ProxySettings = {
  connectTimeoutMs: 1000,
  requestTimeoutMs: 1000,
  udpFallbackMs: 500,
  stallTimeoutMs: 2000,
  reorderDelayMs: 100,
  reconnectMinMs: 100,
  reconnectMaxMs: 800,
  userAgent: 'gw-test',
};

function spec(url: string, overrides: Partial<ProxySpec> = {}): ProxySpec {
  return { id: 'p1', path: 'cams/front', url, transport: 'tcp', onDemand: true, origin: 'api', ...overrides };
}

function registry(): Registry {
  return new Registry({ ...DEFAULT_REGISTRY_OPTIONS, reconnectGraceMs: 5000, trackWaitMs: 500 }, silentLogger());
}

test('an on-demand start that fails says why in SOURCE_START_FAILED and in the status', async () => {
  const camera = await startScriptCamera({ basic: { username: 'admin', password: 'secret' } });
  const hub = registry();
  const proxy = new RtspProxy(spec(camera.url()), SETTINGS, { registry: hub, log: silentLogger() });
  try {
    await assert.rejects(proxy.startOnce(), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, 'SOURCE_START_FAILED');
      assert.match(err.message, /^proxy cams\/front: auth failed: /);
      return true;
    });
    const status = proxy.status();
    assert.equal(status.state, 'idle');
    assert.equal(status.lastError?.kind, 'auth');
    assert.equal(hub.get('cams/front'), undefined, 'nothing was published');
  } finally {
    await proxy.stop('test');
    await hub.close();
    await camera.close();
  }
});

test('the camera drops the connection: the proxy reconnects and the viewer keeps a continuous timeline', { timeout: 20_000 }, async () => {
  const camera = await startScriptCamera();
  const hub = registry();
  const proxy = new RtspProxy(spec(camera.url()), SETTINGS, { registry: hub, log: silentLogger() });
  const sink = new RecordingSink();
  try {
    await proxy.startOnce();
    await hub.subscribe('cams/front', sink);
    await waitFor(() => sink.frames.length >= 10, 5000, 'frames before the drop');
    camera.dropConnections();
    await waitFor(() => proxy.status().state === 'retrying' || proxy.status().reconnects > 0, 3000, 'the proxy to notice');
    const before = sink.frames.length;
    await waitFor(() => proxy.status().state === 'playing' && sink.frames.length >= before + 10, 8000, 'frames after the reconnect');
    const status = proxy.status();
    assert.equal(status.reconnects, 1);
    assert.equal(status.lastError?.kind, 'unreachable');
    assert.equal(sink.ended, undefined, 'the viewer stayed');
    for (let i = 1; i < sink.frames.length; i++) assert.ok(sink.frames[i]!.dts > sink.frames[i - 1]!.dts, `dts at ${i}`);
    assert.ok(
      sink.trackChanges.every((tracks) => tracks.every((t) => t.ready)),
      'viewers never saw a track without config',
    );
    await proxy.stop('done');
    assert.equal(camera.requests.at(-1)!.method, 'TEARDOWN');
  } finally {
    await proxy.stop('test');
    await hub.close();
    await camera.close();
  }
});

test('always-on: keeps retrying with a doubling delay capped at reconnectMax, and stop ends it', { timeout: 20_000 }, async () => {
  const camera = await startScriptCamera();
  const url = camera.url();
  await camera.close();
  const hub = registry();
  const proxy = new RtspProxy(spec(url, { onDemand: false }), SETTINGS, { registry: hub, log: silentLogger() });
  try {
    proxy.startAlways();
    // Delays 100, 200, 400, 800, 800 ...: about 5 attempts after the first in 2.5 s.
    await sleep(2500);
    const status = proxy.status();
    assert.ok(status.reconnects >= 3 && status.reconnects <= 6, `reconnects in 2.5 s: ${status.reconnects}`);
    assert.equal(status.lastError?.kind, 'unreachable');
    assert.match(status.lastError!.message, /refused the connection/);
    await proxy.stop('done');
    const after = proxy.status().reconnects;
    await sleep(1000);
    assert.equal(proxy.status().reconnects, after, 'no reconnect after stop');
    assert.equal(proxy.status().state, 'stopped');
  } finally {
    await proxy.stop('test');
    await hub.close();
  }
});

test('keepReadyTracks stands in the previous ready track for a pending one of the same id and codec', () => {
  const seen: (readonly Track[])[] = [];
  const publisher: Publisher = { path: 'a/b', resumeDts: 1234, setTracks: (t) => void seen.push(t), write: () => undefined, end: () => undefined, addBytesIn: () => undefined };
  const wrapped = keepReadyTracks(publisher, [H264_TEST_TRACK]);
  assert.equal(wrapped.resumeDts, 1234);
  wrapped.setTracks([pendingTrack(0, 'h264'), pendingTrack(1, 'aac')]);
  assert.equal(seen[0]![0], H264_TEST_TRACK);
  assert.equal(seen[0]![1]!.ready, false, 'a track that was not there before stays pending');
  wrapped.setTracks([pendingTrack(0, 'h265')]);
  assert.equal(seen[1]![0]!.codec, 'h265', 'another codec is not replaced');
});
