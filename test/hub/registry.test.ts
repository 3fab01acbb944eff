import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, DEFAULT_REGISTRY_OPTIONS, type RegistryOptions } from '../../src/hub/registry';
import { silentLogger } from '../../src/core/log';
import { GatewayError } from '../../src/core/errors';
import { pendingTrack } from '../../src/core/track';
import { AAC_TEST_TRACK, H264_TEST_TRACK, RecordingSink, TestSource, audioFrame, sleep, videoFrame } from '../helpers/hub-fixtures';

function makeRegistry(overrides: Partial<RegistryOptions> = {}): Registry {
  return new Registry(
    { ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 200, startTimeoutMs: 300, closeAfterMs: 100, reconnectGraceMs: 300, ...overrides },
    silentLogger(),
  );
}

test('publish, subscribe mid-stream: the viewer starts on the cached keyframe', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/a', new TestSource());
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  publisher.write(audioFrame(10));
  publisher.write(videoFrame(3600));
  const sink = new RecordingSink();
  await registry.subscribe('live/a', sink);
  assert.equal(sink.info?.tracks.length, 2);
  assert.equal(sink.frames[0]!.keyframe, true);
  assert.equal(sink.frames.length, 3);
  publisher.write(videoFrame(7200));
  assert.equal(sink.frames.length, 4);
  const snap = registry.get('live/a')!;
  assert.equal(snap.readers.byProtocol.test, 1);
  assert.equal(snap.publisher?.kind, 'test');
  await registry.close();
  assert.ok(sink.ended);
});

test('a second publisher on a busy path is refused with STREAM_BUSY', async () => {
  const registry = makeRegistry();
  registry.publish('live/b', new TestSource());
  assert.throws(
    () => registry.publish('live/b', new TestSource()),
    (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_BUSY',
  );
  await registry.close();
});

test('invalid paths are refused', async () => {
  const registry = makeRegistry();
  assert.throws(() => registry.publish('../etc/passwd', new TestSource()), /invalid stream path/);
  await assert.rejects(registry.subscribe('a/b/c', new RecordingSink()), /invalid stream path/);
  await registry.close();
});

test('an unknown stream is STREAM_NOT_FOUND after the bounded wait; a publisher arriving in time is found', async () => {
  const registry = makeRegistry();
  const started = Date.now();
  await assert.rejects(registry.subscribe('live/none', new RecordingSink()), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  assert.ok(Date.now() - started >= 190);
  const sink = new RecordingSink();
  const pending = registry.subscribe('live/late', sink);
  await sleep(20);
  const publisher = registry.publish('live/late', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  await pending;
  assert.equal(sink.frames.length, 1);
  await registry.close();
});

test('publisher reconnect within the grace period keeps viewers and continues timestamps', async () => {
  const registry = makeRegistry();
  const first = registry.publish('live/r', new TestSource());
  first.setTracks([H264_TEST_TRACK]);
  first.write(videoFrame(0, true));
  first.write(videoFrame(90_000));
  const sink = new RecordingSink();
  await registry.subscribe('live/r', sink);
  first.end('network cut');
  assert.equal(registry.get('live/r')?.state, 'grace');
  const second = registry.publish('live/r', new TestSource());
  assert.ok(second.resumeDts > 90_000, 'the new publisher continues after the last dts');
  second.setTracks([H264_TEST_TRACK]);
  second.write(videoFrame(second.resumeDts, true));
  assert.equal(sink.ended, undefined);
  const dts = sink.frames.map((f) => f.dts);
  assert.deepEqual(
    dts,
    [...dts].sort((a, b) => a - b),
  );
  assert.equal(sink.frames.at(-1)!.dts, second.resumeDts);
  first.write(videoFrame(1)); // a stale publisher handle writes nothing
  assert.equal(sink.frames.at(-1)!.dts, second.resumeDts);
  await registry.close();
});

test('without a reconnect the viewers are closed after the grace period', async () => {
  const registry = makeRegistry({ reconnectGraceMs: 50 });
  const publisher = registry.publish('live/g', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const sink = new RecordingSink();
  await registry.subscribe('live/g', sink);
  publisher.end('gone');
  await sleep(100);
  assert.match(sink.ended ?? '', /gone/);
  assert.equal(registry.get('live/g'), undefined);
  await registry.close();
});

test('the track gate drops audio that never arrives', async () => {
  const registry = makeRegistry({ trackWaitMs: 50 });
  const publisher = registry.publish('live/gate', new TestSource());
  publisher.setTracks([H264_TEST_TRACK, pendingTrack(1, 'aac')]);
  const sink = new RecordingSink();
  const pending = registry.subscribe('live/gate', sink);
  publisher.write(videoFrame(0, true));
  await pending;
  assert.deepEqual(
    sink.info?.tracks.map((t) => t.codec),
    ['h264'],
  );
  publisher.write(audioFrame(100)); // the dropped track stays dropped
  assert.equal(sink.frames.filter((f) => f.codec === 'aac').length, 0);
  await registry.close();
});

test('a lagging viewer skips to the next keyframe and the other viewer never notices', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/lag', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const slow = new RecordingSink();
  const fast = new RecordingSink();
  await registry.subscribe('live/lag', slow);
  await registry.subscribe('live/lag', fast);
  slow.backlog = 100 * 1024 * 1024;
  for (let i = 1; i < 10; i++) publisher.write(videoFrame(i * 3600));
  slow.backlog = 0;
  publisher.write(videoFrame(10 * 3600)); // not a keyframe: still skipping
  publisher.write(videoFrame(11 * 3600, true));
  publisher.write(videoFrame(12 * 3600));
  assert.equal(fast.frames.length, 13);
  assert.deepEqual(
    slow.frames.map((f) => f.dts),
    [0, 11 * 3600, 12 * 3600],
  );
  const stats = registry.get('live/lag')!.subscribers.find((s) => s.framesDropped > 0)!;
  assert.equal(stats.framesDropped, 10);
  await registry.close();
});

test('a viewer lagging too long is closed; a throwing sink is closed alone', async () => {
  const registry = makeRegistry({ backpressure: { maxPendingBytes: 1000, maxLagMs: 30 } });
  const publisher = registry.publish('live/slow', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const slow = new RecordingSink();
  const broken = new RecordingSink();
  const fine = new RecordingSink();
  await registry.subscribe('live/slow', slow);
  await registry.subscribe('live/slow', broken);
  await registry.subscribe('live/slow', fine);
  slow.backlog = 5000;
  broken.throwOnFrame = true;
  publisher.write(videoFrame(3600));
  await sleep(40);
  publisher.write(videoFrame(7200));
  assert.match(slow.ended ?? '', /too slow/);
  assert.match(broken.ended ?? '', /sink error/);
  assert.equal(fine.ended, undefined);
  assert.equal(fine.frames.length, 3);
  assert.equal(registry.get('live/slow')!.readers.total, 1);
  await registry.close();
});

test('the stream keeps dts non-decreasing per track', async () => {
  const registry = makeRegistry();
  const publisher = registry.publish('live/mono', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(9000, true));
  const sink = new RecordingSink();
  await registry.subscribe('live/mono', sink);
  publisher.write(videoFrame(100));
  assert.deepEqual(
    sink.frames.map((f) => f.dts),
    [9000, 9000],
  );
  await registry.close();
});

test('sessions are listed and can be closed; kick ends the stream and closes the source', async () => {
  const registry = makeRegistry();
  const source = new TestSource();
  const publisher = registry.publish('live/s', source);
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const sink = new RecordingSink('http-flv');
  const sub = await registry.subscribe('live/s', sink);
  const sessions = registry.sessions();
  assert.deepEqual(sessions.map((s) => s.role).sort(), ['publisher', 'subscriber']);
  assert.ok(registry.closeSession(sub.id));
  assert.match(sink.ended ?? '', /API/);
  assert.ok(registry.kick('live/s'));
  assert.ok(source.closedWith);
  assert.equal(registry.list().length, 0);
  await registry.close();
});

test('a reconnecting publisher that re-declares its tracks before their config never hands viewers an unready track', async () => {
  const registry = makeRegistry();
  const first = registry.publish('live/redeclare', new TestSource());
  first.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  first.write(videoFrame(0, true));
  first.write(audioFrame(10));
  const sink = new RecordingSink();
  await registry.subscribe('live/redeclare', sink);
  first.end('camera rebooted');
  const second = registry.publish('live/redeclare', new TestSource());
  second.setTracks([pendingTrack(0, 'h264'), pendingTrack(1, 'aac')]);
  for (const change of sink.trackChanges)
    assert.ok(
      change.every((t) => t.ready),
      'only ready tracks reach a sink',
    );
  assert.ok(registry.get('live/redeclare')!.tracks.every((t) => t.ready));
  const newSps = { ...H264_TEST_TRACK, width: 640 };
  second.setTracks([newSps, AAC_TEST_TRACK]);
  assert.equal((sink.trackChanges.at(-1)![0] as { width: number }).width, 640, 'the new config reaches the viewer');
  second.write(videoFrame(second.resumeDts, true));
  assert.equal(sink.frames.at(-1)!.dts, second.resumeDts);
  await registry.close();
});
