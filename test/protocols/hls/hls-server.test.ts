import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import type { Publisher } from '../../../src/core/source';
import { parsePlaylist } from '../../../src/formats/hls';
import { TsFeeds } from '../../../src/formats/mpegts';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { HlsServer, type HlsOptions } from '../../../src/protocols/hls/hls-server';
import type { HlsDeps, HlsViewer } from '../../../src/protocols/hls/hls-server';
import { AAC_TEST_TRACK, H264_TEST_TRACK, TestSource, audioFrame, sleep, videoFrame } from '../../helpers/hub-fixtures';

const viewer = (remote: string): HlsViewer => ({ remote, query: {} });

const OPTIONS: HlsOptions = {
  segmentSeconds: 1,
  windowSegments: 3,
  closeAfterMs: 5000,
  playlistWaitMs: 500,
  alwaysRemux: false,
  maxSessionsPerStream: 1000,
  maxSessionsPerClient: 1000,
};

function setup(options: Partial<HlsOptions> = {}, refused?: HlsDeps['refused']) {
  const registry = new Registry(
    { ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 100, startTimeoutMs: 300, closeAfterMs: 100, reconnectGraceMs: 0 },
    silentLogger(),
  );
  const feeds = new TsFeeds(registry, silentLogger());
  let clock = 1000;
  const hls = new HlsServer({ registry, feeds, log: silentLogger(), refused }, { ...OPTIONS, ...options }, () => clock);
  return { registry, feeds, hls, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** 25 fps video with a keyframe every 25 frames, and audio, from frame `from` to `to`. */
function write(publisher: Publisher, from: number, to: number): void {
  for (let i = from; i < to; i++) {
    publisher.write(videoFrame(i * 3600, i % 25 === 0, 300));
    publisher.write(audioFrame(i * 3600 + 100));
  }
}

function sessionOf(master: string): string {
  const uri = parsePlaylist(master).variants[0]!.uri;
  return new URL(uri, 'http://x/').searchParams.get('session')!;
}

test('master playlist names a session; the media playlist waits for two segments, then lists the window', async () => {
  const { registry, hls } = setup();
  const publisher = registry.publish('live/a', new TestSource());
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  write(publisher, 0, 10);
  const master = await hls.masterPlaylist('live/a', viewer('127.0.0.1:1'));
  const variant = parsePlaylist(master).variants[0]!;
  assert.equal(variant.attributes.CODECS, 'avc1.42c00d,mp4a.40.2');
  assert.equal(variant.attributes.RESOLUTION, '320x240');
  const session = sessionOf(master);
  assert.match(session, /^[A-Za-z0-9_-]{16}$/);
  const media = hls.mediaPlaylist('live/a', session, viewer('127.0.0.1:1'));
  let answered = false;
  void media.then(() => (answered = true));
  write(publisher, 10, 30); // one segment (0..1 s) done at frame 50 only
  await sleep(10);
  assert.equal(answered, false);
  write(publisher, 30, 51);
  const playlist = parsePlaylist(await media);
  assert.equal(playlist.version, 3);
  assert.equal(playlist.targetDuration, 1);
  assert.equal(playlist.mediaSequence, 0);
  assert.deepEqual(
    playlist.segments.map((s) => [s.uri, s.duration]),
    [
      [`0.ts?session=${session}`, 1],
      [`1.ts?session=${session}`, 1],
    ],
  );
  const data = await hls.segment('live/a', 1, session, viewer('127.0.0.1:1'));
  assert.equal(data[0], 0x47);
  assert.equal(((data[1]! & 0x1f) << 8) | data[2]!, 0, 'a segment starts with the PAT');
  write(publisher, 51, 200);
  const later = parsePlaylist(await hls.mediaPlaylist('live/a', session, viewer('127.0.0.1:1')));
  assert.deepEqual(
    later.segments.map((s) => s.uri.split('.')[0]),
    ['4', '5', '6'],
  );
  await assert.rejects(hls.segment('live/a', 0, session, viewer('x')), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  assert.ok((await hls.segment('live/a', 2, session, viewer('x'))).length > 0, 'just left the window: still downloadable');
  hls.close();
  await registry.close();
});

test('each session is an hls reader; sessions and the muxer close closeAfter after their last request', async () => {
  const { registry, hls, advance } = setup();
  const publisher = registry.publish('live/b', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  write(publisher, 0, 60);
  const one = sessionOf(await hls.masterPlaylist('live/b', viewer('a:1')));
  const two = sessionOf(await hls.masterPlaylist('live/b', viewer('b:2')));
  const first = hls.mediaPlaylist('live/b', one, viewer('a:1'));
  write(publisher, 60, 110); // the hub cache primed frames 50..59; two segments by frame 100
  await first;
  await sleep(10);
  assert.deepEqual(registry.get('live/b')!.readers.byProtocol, { hls: 2 }, 'one reader per session; the shared TS feed is none');
  advance(3000);
  await hls.mediaPlaylist('live/b', one, viewer('a:1'));
  advance(3000);
  hls.sweep();
  assert.deepEqual(registry.get('live/b')!.readers.byProtocol, { hls: 1 }, 'the quiet session is gone');
  assert.equal(hls.stats().muxers, 1);
  advance(5001);
  hls.sweep();
  assert.equal(registry.readerCount('live/b'), 0, 'no HLS reader left: the hub may close on-demand sources');
  assert.deepEqual(hls.stats(), { muxers: 0, sessions: 0, bytes: 0 });
  await assert.rejects(hls.segment('live/b', 0, two, viewer('b:2')), GatewayError);
  hls.close();
  await registry.close();
});

test('an unknown stream answers STREAM_NOT_FOUND and leaves no session; a bad session id is a BAD_REQUEST', async () => {
  const { registry, hls } = setup();
  await assert.rejects(hls.masterPlaylist('live/none', viewer('x:1')), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  assert.equal(hls.stats().sessions, 0);
  await assert.rejects(hls.mediaPlaylist('live/none', 'abcdefgh', viewer('x:1')), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  await assert.rejects(hls.mediaPlaylist('live/none', 'bad id!', viewer('x:1')), (err: unknown) => err instanceof GatewayError && err.code === 'BAD_REQUEST');
  hls.close();
  await registry.close();
});

test('a source that ends and comes back continues the playlist after an EXT-X-DISCONTINUITY', async () => {
  const { registry, hls } = setup();
  let publisher = registry.publish('live/c', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  write(publisher, 0, 60);
  const session = sessionOf(await hls.masterPlaylist('live/c', viewer('a:1')));
  const first = hls.mediaPlaylist('live/c', session, viewer('a:1'));
  write(publisher, 60, 110);
  await first;
  write(publisher, 110, 130);
  publisher.end('camera rebooted'); // no grace: the stream ends
  await sleep(10);
  publisher = registry.publish('live/c', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  await hls.mediaPlaylist('live/c', session, viewer('a:1')); // re-attaches
  write(publisher, 0, 60); // the clock restarts at 0
  const playlist = parsePlaylist(await hls.mediaPlaylist('live/c', session, viewer('a:1')));
  const flags = playlist.segments.map((s) => s.discontinuity);
  assert.equal(flags.filter(Boolean).length, 1, JSON.stringify(playlist.segments));
  const at = flags.indexOf(true);
  assert.ok(at > 0);
  assert.equal(playlist.segments[at - 1]!.duration, 0.2, 'the last segment before the end (frames 125..129) was closed with its own length');
  hls.close();
  await registry.close();
});

test('hls.alwaysRemux: a published stream is segmented before anyone asks', async () => {
  const { registry, hls } = setup({ alwaysRemux: true });
  const publisher = registry.publish('live/d', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  write(publisher, 0, 5);
  await sleep(20);
  write(publisher, 5, 80);
  assert.equal(hls.stats().muxers, 1);
  assert.ok(hls.stats().bytes > 0);
  const session = sessionOf(await hls.masterPlaylist('live/d', viewer('a:1')));
  const playlist = parsePlaylist(await hls.mediaPlaylist('live/d', session, viewer('a:1')));
  assert.equal(playlist.segments.length, 3, 'answered at once from the segments already cut');
  hls.close();
  await registry.close();
});

test('a first playlist still waiting for segments keeps its session and the muxer alive past closeAfter', async () => {
  const { registry, hls, advance } = setup({ playlistWaitMs: 2000 });
  const publisher = registry.publish('live/e', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  write(publisher, 0, 1);
  const session = sessionOf(await hls.masterPlaylist('live/e', viewer('a:1')));
  const waiting = hls.mediaPlaylist('live/e', session, viewer('a:1'));
  await sleep(10);
  advance(6000);
  hls.sweep();
  assert.deepEqual(hls.stats().sessions, 1);
  assert.equal(registry.get('live/e')!.readers.byProtocol.hls, 1);
  write(publisher, 1, 51);
  assert.equal(parsePlaylist(await waiting).segments.length, 2);
  hls.sweep();
  assert.equal(hls.stats().muxers, 1, 'touched when answered');
  hls.close();
  await registry.close();
});

test('hls.maxSessionsPerClient/PerStream: one client looping over master playlists fills only its own cap; other viewers still get playlists', async () => {
  const refusals: string[] = [];
  const { registry, hls } = setup({ maxSessionsPerClient: 5, maxSessionsPerStream: 8 }, (limit) => refusals.push(limit));
  const publishers = ['live/x', 'live/y'].map((path) => {
    const publisher = registry.publish(path, new TestSource());
    publisher.setTracks([H264_TEST_TRACK]);
    write(publisher, 0, 10);
    return publisher;
  });
  let refused = 0;
  for (let i = 0; i < 200; i++) {
    try {
      await hls.masterPlaylist('live/x', viewer(`10.0.0.9:${40000 + i}`)); // a new source port each time, as a looping client has
    } catch (err) {
      assert.ok(err instanceof GatewayError && err.code === 'STREAM_BUSY', String(err));
      refused++;
    }
  }
  assert.equal(refused, 195);
  assert.equal(hls.stats().sessions, 5);
  assert.ok(refusals.length === 195 && refusals.every((r) => r === 'hls.maxSessionsPerClient'));
  const sameStream = sessionOf(await hls.masterPlaylist('live/x', viewer('10.0.0.2:1')));
  const otherStream = sessionOf(await hls.masterPlaylist('live/y', viewer('10.0.0.3:1')));
  for (const publisher of publishers) write(publisher, 10, 60);
  assert.ok(parsePlaylist(await hls.mediaPlaylist('live/x', sameStream, viewer('10.0.0.2:1'))).segments.length >= 2, 'a second client on the same stream plays');
  assert.ok(parsePlaylist(await hls.mediaPlaylist('live/y', otherStream, viewer('10.0.0.3:1'))).segments.length >= 2, 'a client of another stream plays');
  for (const ip of ['10.0.0.4', '10.0.0.5']) await hls.masterPlaylist('live/x', viewer(`${ip}:1`));
  await assert.rejects(hls.masterPlaylist('live/x', viewer('10.0.0.6:1')), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_BUSY');
  assert.equal(refusals.at(-1), 'hls.maxSessionsPerStream', 'the ninth session of live/x is refused by the stream cap');
  await hls.masterPlaylist('live/y', viewer('10.0.0.6:1'));
  hls.close();
  await registry.close();
});
