import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import type { Frame } from '../../../src/core/frame';
import { silentLogger } from '../../../src/core/log';
import type { Publisher } from '../../../src/core/source';
import type { Track } from '../../../src/core/track';
import { Amf0EcmaArray } from '../../../src/formats/amf0/amf0';
import { ChunkReader } from '../../../src/protocols/rtmp/chunk-reader';
import { MessageType, type RtmpMessage } from '../../../src/protocols/rtmp/message';
import { RtmpIngest, splitAggregate, tracksFromMetadata } from '../../../src/protocols/rtmp/publish';

const RECORDING = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtmp', 'ffmpeg-publish-h264-aac.rtmp'));

/** The audio/video messages ffmpeg sent (see test/fixtures/rtmp/README.md). */
function recordedMedia(): RtmpMessage[] {
  return new ChunkReader().feed(RECORDING.subarray(1 + 2 * 1536)).filter((m) => m.typeId === 8 || m.typeId === 9);
}

class FakePublisher implements Publisher {
  readonly path = 'live/test';
  tracks: readonly Track[] = [];
  frames: Frame[] = [];
  bytes = 0;
  constructor(readonly resumeDts = 0) {}
  setTracks(tracks: readonly Track[]): void {
    this.tracks = tracks;
  }
  write(frame: Frame): void {
    this.frames.push(frame);
  }
  end(): void {}
  addBytesIn(bytes: number): void {
    this.bytes += bytes;
  }
}

function flvTag(typeId: number, timestamp: number, body: Buffer): Buffer {
  const header = Buffer.alloc(11);
  header[0] = typeId;
  header.writeUIntBE(body.length, 1, 3);
  header.writeUIntBE(timestamp & 0xffffff, 4, 3);
  header[7] = timestamp >>> 24;
  const back = Buffer.alloc(4);
  back.writeUInt32BE(11 + body.length);
  return Buffer.concat([header, body, back]);
}

describe('RtmpIngest', () => {
  it('turns ffmpeg messages into hub tracks and frames', () => {
    const pub = new FakePublisher();
    const ingest = new RtmpIngest(pub, silentLogger());
    for (const m of recordedMedia()) ingest.media(m.typeId, m.timestamp, m.body);
    assert.deepEqual(
      pub.tracks.map((t) => [t.id, t.codec, t.ready]),
      [
        [0, 'h264', true],
        [1, 'aac', true],
      ],
    );
    assert.equal(pub.frames.filter((f) => f.codec === 'h264').length, 25);
    assert.equal(pub.frames[0]!.dts, 0);
    assert.ok(pub.bytes > 10_000);
  });

  it('continues from resumeDts and through a publisher clock restart', () => {
    const pub = new FakePublisher(900_000);
    const ingest = new RtmpIngest(pub, silentLogger());
    const media = recordedMedia();
    for (const m of media) ingest.media(m.typeId, m.timestamp, m.body);
    const firstRun = pub.frames.length;
    for (const m of media) ingest.media(m.typeId, m.timestamp, m.body); // the clock restarts at 0
    assert.equal(pub.frames[0]!.dts, 900_000);
    for (const trackId of [0, 1]) {
      const dts = pub.frames.filter((f) => f.trackId === trackId).map((f) => f.dts);
      for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! >= dts[i - 1]!, `track ${trackId} dts goes back at ${i}`);
    }
    assert.ok(pub.frames[firstRun]!.dts > pub.frames[firstRun - 1]!.dts - 90_000);
  });

  it('declares the tracks of onMetaData until sequence headers define them', () => {
    const pub = new FakePublisher();
    const ingest = new RtmpIngest(pub, silentLogger());
    ingest.metadata({ videocodecid: 7, audiocodecid: 10 });
    assert.deepEqual(
      pub.tracks.map((t) => [t.codec, t.ready]),
      [
        ['h264', false],
        ['aac', false],
      ],
    );
    for (const m of recordedMedia().slice(0, 3)) ingest.media(m.typeId, m.timestamp, m.body);
    assert.ok(pub.tracks.every((t) => t.ready));
    ingest.metadata({ videocodecid: 7, audiocodecid: 10 });
    assert.ok(
      pub.tracks.every((t) => t.ready),
      'metadata does not undo real tracks',
    );
  });

  it('drops bad media packets without throwing', () => {
    const pub = new FakePublisher();
    const ingest = new RtmpIngest(pub, silentLogger());
    ingest.media(MessageType.video, 0, Buffer.from([0x17, 0x00, 0x00]));
    ingest.media(MessageType.video, 0, Buffer.from([0x12]));
    ingest.media(MessageType.audio, 0, Buffer.alloc(0));
    ingest.media(MessageType.aggregate, 0, Buffer.from([9, 0, 0]));
    assert.equal(pub.frames.length, 0);
  });

  it('reads aggregate messages', () => {
    const media = recordedMedia().slice(0, 6);
    const aggregate = Buffer.concat(media.map((m) => flvTag(m.typeId, m.timestamp + 5000, m.body)));
    const pub = new FakePublisher();
    const ingest = new RtmpIngest(pub, silentLogger());
    ingest.media(MessageType.aggregate, media[0]!.timestamp, aggregate);
    const direct = new FakePublisher();
    const ingest2 = new RtmpIngest(direct, silentLogger());
    for (const m of media) ingest2.media(m.typeId, m.timestamp, m.body);
    assert.deepEqual(
      pub.frames.map((f) => [f.trackId, f.dts]),
      direct.frames.map((f) => [f.trackId, f.dts]),
    );
  });

  it('random media bodies never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(8, 9, 22), fc.nat(), fc.uint8Array({ maxLength: 64 })), { maxLength: 20 }), (msgs) => {
        const ingest = new RtmpIngest(new FakePublisher(), silentLogger());
        for (const [typeId, ts, body] of msgs) ingest.media(typeId, ts, Buffer.from(body));
      }),
      { numRuns: 300 },
    );
  });
});

describe('splitAggregate', () => {
  it('rebases part times on the message time', () => {
    const body = Buffer.concat([flvTag(9, 100, Buffer.from([1])), flvTag(8, 140, Buffer.from([2, 3]))]);
    const parts = splitAggregate(body, 2000);
    assert.deepEqual(
      parts.map((p) => [p.typeId, p.timestamp, p.body.toString('hex')]),
      [
        [9, 2000, '01'],
        [8, 2040, '0203'],
      ],
    );
  });

  it('throws ParseError on a truncated aggregate', () => {
    assert.throws(() => splitAggregate(flvTag(9, 0, Buffer.alloc(10)).subarray(0, 15), 0), ParseError);
    assert.throws(() => splitAggregate(Buffer.alloc(5), 0), ParseError);
  });
});

describe('tracksFromMetadata', () => {
  it('maps codec ids and FourCCs', () => {
    const codecs = (meta: Record<string, unknown>): string[] => tracksFromMetadata(meta as never).map((t) => `${t.id}:${t.codec}`);
    assert.deepEqual(codecs({ videocodecid: 7, audiocodecid: 10 }), ['0:h264', '1:aac']);
    assert.deepEqual(codecs({ videocodecid: 12, audiocodecid: 7 }), ['0:h265', '1:g711a']);
    assert.deepEqual(codecs({ videocodecid: 0x68766331, audiocodecid: 8 }), ['0:h265', '1:g711u']);
    assert.deepEqual(codecs({ videocodecid: 'hvc1', audiocodecid: 'mp4a' }), ['0:h265', '1:aac']);
    assert.deepEqual(codecs({ videocodecid: 'avc1' }), ['0:h264']);
    assert.deepEqual(codecs({ videocodecid: 4, audiocodecid: 2 }), [], 'VP6 and MP3 are not carried');
    assert.deepEqual(codecs(new Amf0EcmaArray({}).entries), []);
  });
});
