import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/log';
import type { Track } from '../../../src/core/track';
import { g711Track } from '../../../src/codecs/g711/g711';
import { PID_PAT, TsFeeds, type TsChunk, type TsConsumer } from '../../../src/formats/mpegts';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { AAC_TEST_TRACK, H264_TEST_TRACK, TestSource, audioFrame, videoFrame } from '../../helpers/hub-fixtures';

function makeRegistry(): Registry {
  return new Registry({ ...DEFAULT_REGISTRY_OPTIONS, trackWaitMs: 50, waitForPublisherMs: 150, startTimeoutMs: 300, closeAfterMs: 100, reconnectGraceMs: 0 }, silentLogger());
}

class Collector implements TsConsumer {
  chunks: TsChunk[] = [];
  ended: string | undefined;
  throwOnChunk = false;
  onChunk(chunk: TsChunk): void {
    if (this.throwOnChunk) throw new Error('consumer exploded');
    this.chunks.push(chunk);
  }
  onEnd(reason: string): void {
    this.ended = reason;
  }
}

function pidOf(chunk: TsChunk): number {
  return ((chunk.data[1]! & 0x1f) << 8) | chunk.data[2]!;
}

test('one feed per stream: muxed once, the same Buffers to every consumer, never counted as a reader itself', async () => {
  const registry = makeRegistry();
  const feeds = new TsFeeds(registry, silentLogger());
  const publisher = registry.publish('live/a', new TestSource());
  publisher.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  publisher.write(audioFrame(100));
  publisher.write(videoFrame(3600));
  const a = new Collector();
  const attachA = await feeds.attach('live/a', a);
  assert.equal(a.chunks.length, 3, 'primed from the hub GOP cache');
  assert.equal(a.chunks[0]!.randomAccess, true);
  assert.equal(pidOf(a.chunks[0]!), PID_PAT, 'starts with PAT/PMT');
  const b = new Collector();
  const attachB = await feeds.attach('live/a', b);
  assert.equal(b.chunks.length, 3, 'the feed replays its own cache from the last keyframe');
  assert.equal(b.chunks[0], a.chunks[0], 'the very same chunk objects');
  publisher.write(videoFrame(7200));
  assert.equal(a.chunks[3]!.data, b.chunks[3]!.data);
  assert.deepEqual(registry.get('live/a')!.readers, { total: 0, byProtocol: {} }, 'its consumers count themselves (reader handles)');
  assert.equal(feeds.size, 1);
  attachA.detach();
  assert.equal(feeds.size, 1);
  attachB.detach();
  attachB.detach();
  assert.equal(feeds.size, 0, 'the last consumer closed the feed');
  await registry.close();
});

test('a consumer attached before any keyframe gets nothing until one comes', async () => {
  const registry = makeRegistry();
  const feeds = new TsFeeds(registry, silentLogger());
  const publisher = registry.publish('live/b', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const first = new Collector();
  await feeds.attach('live/b', first);
  for (let i = 1; i <= 3; i++) publisher.write(videoFrame(i * 3600));
  // Make the feed's cache invalid: a track change resets it until the next random access.
  publisher.setTracks([{ ...H264_TEST_TRACK, pps: Buffer.from('68ce3c80', 'hex') } as Track]);
  publisher.write(videoFrame(5 * 3600));
  const late = new Collector();
  await feeds.attach('live/b', late);
  publisher.write(videoFrame(6 * 3600));
  assert.equal(late.chunks.length, 0);
  publisher.write(videoFrame(7 * 3600, true));
  assert.equal(late.chunks.length, 1);
  assert.equal(late.chunks[0]!.randomAccess, true);
  assert.equal(late.chunks[0]!.discontinuity, true, 'first keyframe after a program change');
  assert.equal(first.chunks.filter((c) => c.discontinuity).length, 1);
  await registry.close();
  assert.ok(first.ended && late.ended, 'the stream end reaches every consumer');
  assert.equal(feeds.size, 0);
});

test('unknown stream: STREAM_NOT_FOUND; only G.711: UNSUPPORTED_CODEC; both leave no feed behind', async () => {
  const registry = makeRegistry();
  const feeds = new TsFeeds(registry, silentLogger());
  await assert.rejects(feeds.attach('live/none', new Collector()), (err: unknown) => err instanceof GatewayError && err.code === 'STREAM_NOT_FOUND');
  const publisher = registry.publish('live/g711', new TestSource());
  publisher.setTracks([g711Track(0, 'g711a')]);
  publisher.write({ trackId: 0, codec: 'g711a', dts: 0, pts: 0, keyframe: true, units: [Buffer.alloc(160)], byteLength: 160, receivedAt: 0 });
  await assert.rejects(feeds.attach('live/g711', new Collector()), (err: unknown) => err instanceof GatewayError && err.code === 'UNSUPPORTED_CODEC');
  assert.equal(feeds.size, 0);
  assert.equal(registry.readerCount('live/g711'), 0);
  await registry.close();
});

test('a consumer that throws is dropped alone; an aborted attach leaves nothing behind', async () => {
  const registry = makeRegistry();
  const feeds = new TsFeeds(registry, silentLogger());
  const publisher = registry.publish('live/c', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const bad = new Collector();
  const good = new Collector();
  await feeds.attach('live/c', bad);
  await feeds.attach('live/c', good);
  bad.throwOnChunk = true;
  publisher.write(videoFrame(3600));
  assert.match(bad.ended ?? '', /exploded/);
  publisher.write(videoFrame(7200));
  assert.equal(good.chunks.length, 3);
  assert.equal(good.ended, undefined);
  const controller = new AbortController();
  const waiting = feeds.attach('live/later', new Collector(), { signal: controller.signal });
  controller.abort();
  await assert.rejects(waiting, (err: unknown) => err instanceof GatewayError && err.code === 'CLOSED');
  assert.equal(registry.readerCount('live/later'), 0);
  assert.equal(feeds.get('live/later'), undefined);
  feeds.close();
  assert.ok(good.ended);
  await registry.close();
});

/** 6 s of H.264 at 25 fps with a keyframe every second, 90 kHz dts. */
function writeSeconds(publisher: ReturnType<Registry['publish']>, seconds: number, from = 0): number {
  let i = from;
  for (; i < from + seconds * 25; i++) publisher.write(videoFrame(i * 3600, i % 25 === 0));
  return i;
}

function randomAccessCount(chunks: readonly TsChunk[]): number {
  return chunks.filter((c) => c.randomAccess).length;
}

test('burst: a consumer may start whole GOPs back, from the hub for the first one and from the feed for the next; continuity counters run on into live', async () => {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, gop: { ...DEFAULT_REGISTRY_OPTIONS.gop, historyMs: 3000 }, trackWaitMs: 50 }, silentLogger());
  const feeds = new TsFeeds(registry, silentLogger(), { historyMs: 3000 });
  const publisher = registry.publish('live/burst', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  let next = writeSeconds(publisher, 6);
  const first = new Collector();
  const attachFirst = await feeds.attach('live/burst', first, { burstMs: 3000 });
  assert.equal(randomAccessCount(first.chunks), 4, 'the newest keyframe at least 3 s back and the three after it, at once');
  assert.equal(first.chunks[0]!.dts, 2 * 90_000);
  const live = new Collector();
  const attachLive = await feeds.attach('live/burst', live);
  assert.equal(randomAccessCount(live.chunks), 1, 'no burst asked: the newest GOP only');
  assert.equal(live.chunks[0]!.dts, 5 * 90_000);
  const capped = new Collector();
  const attachCapped = await feeds.attach('live/burst', capped, { burstMs: 60_000 });
  assert.equal(capped.chunks[0], first.chunks[0], 'a longer burst than the history gets what is kept, the same chunks');
  next = writeSeconds(publisher, 1, next);
  assert.equal(first.chunks.at(-1), live.chunks.at(-1), 'then live, the same chunks to all');
  const videoPid = pidOf(first.chunks.at(-1)!);
  const counters = first.chunks.flatMap((c) => {
    const out: number[] = [];
    for (let at = 0; at < c.data.length; at += 188) {
      const pid = ((c.data[at + 1]! & 0x1f) << 8) | c.data[at + 2]!;
      if (pid === videoPid && (c.data[at + 3]! & 0x10) !== 0) out.push(c.data[at + 3]! & 0x0f);
    }
    return out;
  });
  for (let i = 1; i < counters.length; i++) assert.equal(counters[i], (counters[i - 1]! + 1) % 16, `continuity counter at video packet ${i}`);
  attachFirst.detach();
  attachLive.detach();
  attachCapped.detach();
  assert.ok(next > 0);
  await registry.close();
});

test('burst: without history configured a consumer asking for one gets the newest GOP', async () => {
  const registry = makeRegistry();
  const feeds = new TsFeeds(registry, silentLogger());
  const publisher = registry.publish('live/nob', new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  writeSeconds(publisher, 4);
  const c = new Collector();
  const attachment = await feeds.attach('live/nob', c, { burstMs: 3000 });
  assert.equal(randomAccessCount(c.chunks), 1);
  attachment.detach();
  await registry.close();
});
