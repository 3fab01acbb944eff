import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { h265Track } from '../../../src/codecs/h265/track';
import { decodeAmf0 } from '../../../src/formats/amf0/amf0';
import { ChunkMemo } from '../../../src/protocols/rtmp/chunk-writer';
import { ChunkReader } from '../../../src/protocols/rtmp/chunk-reader';
import { decodeCommand } from '../../../src/protocols/rtmp/command';
import { MessageType, type OutgoingMessage, type RtmpMessage } from '../../../src/protocols/rtmp/message';
import { RtmpPlaySink, type PlayOutput } from '../../../src/protocols/rtmp/play';
import type { Track } from '../../../src/core/track';
import { AAC_TEST_TRACK, H264_TEST_TRACK, audioFrame, streamInfo, videoFrame } from '../../helpers/hub-fixtures';

class FakeOutput implements PlayOutput {
  readonly chunkSize = 4096;
  readonly remote = '127.0.0.1:5';
  sent: OutgoingMessage[] = [];
  writes: (readonly Buffer[])[] = [];
  endedWith: string | undefined;
  send(messages: readonly OutgoingMessage[]): void {
    this.sent.push(...messages);
  }
  write(buffers: readonly Buffer[]): void {
    this.writes.push(buffers);
  }
  pendingBytes(): number {
    return 7;
  }
  bytesOut(): number {
    return 11;
  }
  ended(reason: string): void {
    this.endedWith = reason;
  }
}

function statusCodes(messages: readonly (OutgoingMessage | RtmpMessage)[]): string[] {
  return messages
    .filter((m) => m.typeId === MessageType.commandAmf0)
    .map((m) => (decodeCommand({ typeId: m.typeId, body: Buffer.isBuffer(m.body) ? m.body : Buffer.concat(m.body) }).args[0] as { code: string }).code);
}

/** Feeds shared by the sinks of one stream, as the hub's are. */
function sharedInfo(path: string, tracks: readonly Track[]): ReturnType<typeof streamInfo> {
  const feeds = new Map<unknown, unknown>();
  return {
    path,
    tracks,
    feed: <T>(key: { create(path: string): T }): T => {
      if (!feeds.has(key)) feeds.set(key, key.create(path));
      return feeds.get(key) as T;
    },
  };
}

/** What a player's chunk reader makes of written chunks. */
function read(writes: (readonly Buffer[])[]): RtmpMessage[] {
  const reader = new ChunkReader();
  reader.feed(Buffer.from('02000000000004010000000000001000', 'hex')); // Set Chunk Size 4096
  return writes.flatMap((w) => reader.feed(Buffer.concat(w)));
}

const info = streamInfo('live/x', [H264_TEST_TRACK, AAC_TEST_TRACK]);

describe('RtmpPlaySink', () => {
  it('starts with the play statuses, then headers before the first frame', () => {
    const out = new FakeOutput();
    const memo = new ChunkMemo();
    const sink = new RtmpPlaySink(out, { streamId: 1, path: 'live/x', hevcMode: 'enhanced', memo: () => memo });
    sink.onStart(info);
    const status = read(out.writes);
    assert.deepEqual(statusCodes(status), ['NetStream.Play.Reset', 'NetStream.Play.Start', 'NetStream.Data.Start']);
    assert.equal(status[0]!.typeId, MessageType.userControl, 'StreamBegin first');
    out.writes = [];
    sink.onFrame(videoFrame(90_000, true));
    const [metadata, videoHeader, audioHeader, frame] = read(out.writes);
    assert.deepEqual(
      [metadata, videoHeader, audioHeader].map((m) => [m!.typeId, m!.timestamp]),
      [
        [MessageType.dataAmf0, 0],
        [MessageType.video, 1000],
        [MessageType.audio, 1000],
      ],
    );
    const [name, meta] = decodeAmf0(metadata!.body);
    assert.equal(name, 'onMetaData');
    assert.ok(meta);
    assert.equal(frame!.typeId, MessageType.video);
    assert.equal(frame!.timestamp, 1000);
    assert.equal(frame!.streamId, 1);
    assert.equal(frame!.body[0], 0x17, 'AVC keyframe');
    sink.onFrame(audioFrame(90_000 + 2070));
    const audio = read(out.writes)[4]!;
    assert.equal(audio.typeId, MessageType.audio);
    assert.equal(audio.timestamp, 1023);
    assert.deepEqual(sink.describe(), { protocol: 'rtmp', remote: '127.0.0.1:5', bytesOut: 11 });
    assert.equal(sink.pendingBytes(), 7);
  });

  it('gives every viewer of a stream the same chunk Buffers for a frame', () => {
    const memo = new ChunkMemo();
    const outputs = [new FakeOutput(), new FakeOutput(), new FakeOutput()];
    const sinks = outputs.map((o, i) => new RtmpPlaySink(o, { streamId: i === 2 ? 2 : 1, path: 'live/x', hevcMode: 'enhanced', memo: () => memo }));
    for (const s of sinks) s.onStart(info);
    const frame = videoFrame(0, true, 10_000);
    for (const s of sinks) s.onFrame(frame);
    const frameWrite = (o: FakeOutput): readonly Buffer[] => o.writes.at(-1)!;
    assert.equal(frameWrite(outputs[0]!), frameWrite(outputs[1]!), 'the very same array of Buffers');
    assert.notEqual(frameWrite(outputs[0]!), frameWrite(outputs[2]!), 'another message stream id is another variant');
    assert.equal(frameWrite(outputs[0]!).length, 1, 'one Buffer per frame: one iovec per viewer');
  });

  it('builds a start (statuses, onMetaData, sequence headers) once for the players that join in one GOP', () => {
    const shared = sharedInfo('live/x', [H264_TEST_TRACK, AAC_TEST_TRACK]);
    const outputs = [new FakeOutput(), new FakeOutput()];
    const sinks = outputs.map((o) => new RtmpPlaySink(o, { streamId: 1, path: 'live/x', hevcMode: 'enhanced', memo: (i) => i.feed(ChunkMemo.FEED) }));
    const key = videoFrame(90_000, true);
    for (const s of sinks) {
      s.onStart(shared);
      s.onFrame(key);
    }
    const [a, b] = outputs.map((o) => o.writes.map((w) => w[0]));
    assert.equal(a!.length, 3, 'statuses, headers, the keyframe');
    a!.forEach((buffer, i) => assert.equal(buffer, b![i], `write ${i}: the same Buffer object`));
    const later = new FakeOutput();
    const sink = new RtmpPlaySink(later, { streamId: 1, path: 'live/x', hevcMode: 'enhanced', memo: (i) => i.feed(ChunkMemo.FEED) });
    sink.onStart(shared);
    sink.onFrame(videoFrame(270_000, true));
    assert.notEqual(later.writes[1]![0], a![1], 'the next GOP: headers at its own time');
    assert.equal(read(later.writes)[6]!.timestamp, 3000);
  });

  it('resends sequence headers after a track change', () => {
    const out = new FakeOutput();
    const sink = new RtmpPlaySink(out, { streamId: 1, path: 'live/x', hevcMode: 'enhanced', memo: () => new ChunkMemo() });
    sink.onStart(info);
    sink.onFrame(videoFrame(0, true));
    const before = read(out.writes).length;
    sink.onTracks([{ ...H264_TEST_TRACK, width: 640 } as Track]);
    sink.onFrame(videoFrame(3600, true));
    assert.deepEqual(
      read(out.writes)
        .slice(before)
        .map((m) => m.typeId),
      [MessageType.video, MessageType.video],
      'a new AVC sequence header (no new onMetaData), then the frame',
    );
  });

  for (const [mode, first, fourCc] of [
    ['enhanced', 0x90, 'hvc1'],
    ['legacy', 0x1c, undefined],
  ] as const) {
    it(`writes H.265 in ${mode} mode`, () => {
      const units = splitAnnexB(readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtmp', 'h265-160x120.h265')));
      const type = (u: Buffer): number => (u[0]! >> 1) & 0x3f;
      const [vps, sps, pps] = [32, 33, 34].map((t) => units.find((u) => type(u) === t));
      const track = h265Track(0, vps, sps, pps);
      const out = new FakeOutput();
      const sink = new RtmpPlaySink(out, { streamId: 1, path: 'live/h', hevcMode: mode, memo: () => new ChunkMemo() });
      sink.onStart(streamInfo('live/h', [track]));
      const idr = units.find((u) => type(u) === 19 || type(u) === 20)!;
      sink.onFrame({ trackId: 0, codec: 'h265', dts: 0, pts: 0, keyframe: true, units: [idr], byteLength: idr.length, receivedAt: 0 });
      const [header, frame] = read(out.writes).filter((m) => m.typeId === MessageType.video);
      assert.equal(header!.body[0], first, 'sequence header first byte');
      if (fourCc) assert.equal(header!.body.subarray(1, 5).toString('latin1'), fourCc);
      assert.equal(frame!.body[0]! & (mode === 'enhanced' ? 0xf0 : 0xff), mode === 'enhanced' ? 0x90 : 0x1c, 'keyframe header');
    });
  }

  it('ends with StreamEOF and UnpublishNotify, once', () => {
    const out = new FakeOutput();
    const sink = new RtmpPlaySink(out, { streamId: 1, path: 'live/x', hevcMode: 'enhanced', memo: () => new ChunkMemo() });
    sink.onStart(info);
    out.writes = [];
    sink.onEnd('publisher gone');
    sink.onEnd('again');
    assert.equal(out.sent[0]!.typeId, MessageType.userControl);
    assert.deepEqual(statusCodes(out.sent), ['NetStream.Play.UnpublishNotify']);
    assert.equal(out.endedWith, 'publisher gone');
    sink.onFrame(videoFrame(0, true));
    assert.equal(out.writes.length, 0);
  });
});
