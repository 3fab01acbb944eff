import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../src/core/errors';
import type { Logger } from '../../src/core/log';
import { silentLogger } from '../../src/core/log';
import type { FeedKey, StreamInfo } from '../../src/core/sink';
import type { Track } from '../../src/core/track';
import { DEFAULT_REGISTRY_OPTIONS, Registry, type RegistryOptions } from '../../src/hub/registry';
import { AAC_TEST_TRACK, H264_TEST_TRACK, RecordingSink, TestSource, audioFrame, sleep, videoFrame } from '../helpers/hub-fixtures';
import { startSyntheticSource } from '../helpers/synthetic-source';

function makeRegistry(overrides: Partial<RegistryOptions> = {}, log: Logger = silentLogger()): Registry {
  return new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 300, startTimeoutMs: 400, closeAfterMs: 80, reconnectGraceMs: 0, ...overrides }, log);
}

const G711_TRACK: Track = { id: 2, codec: 'g711a', ready: true, sampleRate: 8000, channels: 1 } as Track;

test('a reader handle is counted for demand without taking frames: it starts the on-demand source and its leaving stops it', async () => {
  const registry = makeRegistry();
  let source: ReturnType<typeof startSyntheticSource> | undefined;
  registry.registerOnDemand('pull/*', async (path) => (source = startSyntheticSource(registry, path)));
  const reader = registry.reader('pull/a', { protocol: 'hls', remote: '10.0.0.1:5', bytesOut: () => 1234 });
  assert.equal(registry.readerCount('pull/a'), 1);
  await sleep(50);
  assert.ok(source && !source.stopped, 'the reader started the source');
  const snap = registry.get('pull/a')!;
  assert.deepEqual(snap.readers, { total: 1, byProtocol: { hls: 1 } });
  assert.deepEqual(
    registry.sessions().find((s) => s.id === reader.id),
    { id: reader.id, role: 'subscriber', path: 'pull/a', protocol: 'hls', remote: '10.0.0.1:5', since: reader.since, bytes: 1234 },
  );
  reader.close();
  reader.close();
  assert.equal(registry.readerCount('pull/a'), 0);
  await sleep(150);
  assert.ok(source.stopped, 'closeAfter after the last reader left');
  await registry.close();
});

test('closeSession and shutdown end a reader through its onClose', async () => {
  const registry = makeRegistry();
  const ended: string[] = [];
  const one = registry.reader('live/r', { protocol: 'http-ts', onClose: (reason) => ended.push(`one: ${reason}`) });
  registry.reader('live/r', { protocol: 'http-ts', onClose: (reason) => ended.push(`two: ${reason}`) });
  assert.equal(registry.closeSession(one.id, 'kicked'), true);
  assert.equal(one.isOpen, false);
  await registry.close('bye');
  assert.deepEqual(ended, ['one: kicked', 'two: bye']);
  assert.throws(
    () => registry.reader('live/r', { protocol: 'x' }),
    (err: unknown) => err instanceof GatewayError && err.code === 'CLOSED',
  );
});

test('an uncounted subscription (a shared feed) gets frames but is no reader', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/u', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const sink = new RecordingSink('ts-mux');
  await registry.subscribe('live/u', sink, { counted: false });
  publisher.write(videoFrame(3600));
  assert.equal(sink.frames.length, 2);
  assert.equal(registry.readerCount('live/u'), 0);
  assert.deepEqual(registry.get('live/u')!.readers, { total: 0, byProtocol: {} });
  await registry.close();
});

test('track selection: an audio-only subscription never sees video and starts without a keyframe; a TS-like one never sees G.711', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/t', new TestSource());
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK, G711_TRACK]);
  publisher.write(videoFrame(0, true));
  publisher.write(audioFrame(100));
  publisher.write({ ...audioFrame(100), trackId: 2, codec: 'g711a' });
  const audio = new RecordingSink();
  await registry.subscribe('live/t', audio, { tracks: (t) => t.codec === 'aac' });
  const noG711 = new RecordingSink();
  await registry.subscribe('live/t', noG711, { tracks: (t) => t.codec !== 'g711a' && t.codec !== 'g711u' });
  publisher.write(videoFrame(3600));
  publisher.write(audioFrame(3700));
  publisher.write({ ...audioFrame(3700), trackId: 2, codec: 'g711a' });
  assert.deepEqual(
    audio.info!.tracks.map((t) => t.codec),
    ['aac'],
  );
  assert.deepEqual([...new Set(audio.frames.map((f) => f.codec))], ['aac']);
  assert.equal(audio.frames.length, 2, 'the cached and the live AAC frame');
  assert.deepEqual(
    noG711.info!.tracks.map((t) => t.codec),
    ['h264', 'aac'],
  );
  assert.ok(noG711.frames.every((f) => f.codec !== 'g711a'));
  assert.equal(noG711.frames.length, 4);
  await registry.close();
});

test('each subscription has its own backpressure: a tight one lags and is closed, the default one is untouched', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/b', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const tight = new RecordingSink();
  const relaxed = new RecordingSink();
  await registry.subscribe('live/b', tight, { backpressure: { maxPendingBytes: 1000, maxLagMs: 30 } });
  await registry.subscribe('live/b', relaxed);
  tight.backlog = relaxed.backlog = 5000;
  publisher.write(videoFrame(3600));
  await sleep(40);
  publisher.write(videoFrame(7200));
  assert.match(tight.ended ?? '', /too slow/);
  assert.equal(relaxed.ended, undefined);
  assert.equal(relaxed.frames.length, 3);
  await registry.close();
});

test('a feed is created once per stream on its first lease and closed with its last consumer (or the stream)', async () => {
  const registry = makeRegistry();
  const made: { closed: boolean }[] = [];
  const key: FeedKey<{ closed: boolean; close(): void }> = {
    name: 'test-feed',
    create: () => {
      const value = { closed: false, close: () => (value.closed = true) };
      made.push(value);
      return value;
    },
  };
  class LeasingSink extends RecordingSink {
    value: { closed: boolean } | undefined;
    override onStart(info: StreamInfo): void {
      super.onStart(info);
      this.value = info.feed(key);
    }
  }
  const publisher = registry.publish('live/f', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const a = new LeasingSink();
  const b = new LeasingSink();
  const subA = await registry.subscribe('live/f', a);
  const subB = await registry.subscribe('live/f', b);
  assert.equal(made.length, 1);
  assert.equal(a.value, b.value);
  subA.close();
  assert.equal(made[0]!.closed, false, 'one consumer left');
  subB.close();
  assert.equal(made[0]!.closed, true, 'closed with its last consumer');
  const c = new LeasingSink();
  await registry.subscribe('live/f', c);
  assert.equal(made.length, 2, 'a new consumer gets a new one');
  registry.kick('live/f');
  assert.equal(made[1]!.closed, true, 'closed with the stream');
  await registry.close();
});

test('a throwing event listener is logged and never breaks publish', async () => {
  const warnings: unknown[] = [];
  const log = { ...silentLogger(), warn: (obj: unknown) => warnings.push(obj), child: () => log } as unknown as Logger;
  const registry = makeRegistry({}, log);
  let later = 0;
  registry.events.on('publish', () => {
    throw new Error('hook exploded');
  });
  registry.events.on('publish', () => later++);
  const publisher = registry.publish('live/e', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  assert.equal(later, 1, 'the next listener still ran');
  assert.ok(registry.get('live/e'));
  assert.ok(warnings.some((w) => JSON.stringify(w).includes('hook exploded')));
  await registry.close();
});

test('a viewer of a published stream that is not ready yet waits for its publisher; the pattern factory is never started', async () => {
  const registry = makeRegistry({ trackWaitMs: 2000 });
  let factoryCalls = 0;
  registry.registerOnDemand('rtp/*', async () => {
    factoryCalls++;
    throw new GatewayError('SOURCE_START_FAILED', 'GB28181 paths are rtp/{device}_{channel}');
  });
  const publisher = registry.publish('rtp/cam7', new TestSource());
  publisher.setTracks([{ ...H264_TEST_TRACK, ready: false } as Track]);
  const sink = new RecordingSink();
  const subscribed = registry.subscribe('rtp/cam7', sink);
  await sleep(100);
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  await subscribed;
  assert.equal(sink.frames.length, 1);
  assert.equal(factoryCalls, 0);
  await registry.close();
});

test('a factory that does not serve a matching path lets the viewer wait for a publisher, as for an unknown path', async () => {
  const registry = makeRegistry();
  let factoryCalls = 0;
  registry.registerOnDemand('rtp/*', async (path) => {
    factoryCalls++;
    if (path === 'rtp/cam8') throw new GatewayError('STREAM_NOT_FOUND', 'GB28181 paths are rtp/{device}_{channel}');
    return undefined;
  });
  for (const path of ['rtp/cam7', 'rtp/cam8']) {
    const sink = new RecordingSink();
    const subscribed = registry.subscribe(path, sink);
    await sleep(100);
    const publisher = registry.publish(path, new TestSource());
    publisher.setTracks([H264_TEST_TRACK]);
    publisher.write(videoFrame(0, true));
    await subscribed;
    assert.equal(sink.frames.length, 1, path);
  }
  assert.equal(factoryCalls, 2);
  const late = registry.subscribe('rtp/nobody', new RecordingSink());
  await assert.rejects(late, (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  await registry.close();
});
