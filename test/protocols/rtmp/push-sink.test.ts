import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RtmpPushSink, type PushConnection } from '../../../src/protocols/rtmp/push-sink';
import { MessageType, type OutgoingMessage } from '../../../src/protocols/rtmp/message';
import { decodeData } from '../../../src/protocols/rtmp/command';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitAnnexB } from '../../../src/codecs/annexb';
import { h265NalType } from '../../../src/codecs/h265/nal';
import { h265Track } from '../../../src/codecs/h265/track';
import { AAC_TEST_TRACK, H264_TEST_TRACK, audioFrame, streamInfo, videoFrame } from '../../helpers/hub-fixtures';

class FakeConnection implements PushConnection {
  readonly streamId = 1;
  pendingBytes = 0;
  bytesOut = 0;
  readonly sent: OutgoingMessage[] = [];
  send(messages: readonly OutgoingMessage[]): void {
    this.sent.push(...messages);
  }
}

function sink(hevcMode: 'enhanced' | 'legacy' | 'drop' = 'enhanced'): RtmpPushSink {
  return new RtmpPushSink({ hevcMode, maxPendingBytes: 1000, remote: 'rtmp://cdn/live/***', onEnd: () => undefined });
}

describe('RtmpPushSink', () => {
  test('each connection starts with metadata, sequence headers and a keyframe, at time 0', () => {
    const s = sink();
    s.onStart(streamInfo('live/a', [H264_TEST_TRACK, AAC_TEST_TRACK]));
    const first = new FakeConnection();
    s.attach(first);
    s.onFrame(audioFrame(90_000));
    s.onFrame(videoFrame(90_000 + 3600, false));
    assert.equal(first.sent.length, 0, 'nothing before the first keyframe');
    s.onFrame(videoFrame(180_000, true));
    s.onFrame(audioFrame(180_000 + 1800));
    const types = first.sent.map((m) => m.typeId);
    assert.deepEqual(types, [MessageType.dataAmf0, MessageType.video, MessageType.audio, MessageType.video, MessageType.audio]);
    assert.equal(decodeData({ typeId: MessageType.dataAmf0, body: Buffer.concat(first.sent[0]!.body) }).name, '@setDataFrame');
    assert.deepEqual(
      first.sent.map((m) => m.timestamp),
      [0, 0, 0, 0, 20],
    );
    const second = new FakeConnection();
    s.attach(second);
    s.onFrame(videoFrame(900_000, true));
    assert.deepEqual(
      second.sent.map((m) => [m.typeId, m.timestamp]),
      [
        [MessageType.dataAmf0, 0],
        [MessageType.video, 0],
        [MessageType.audio, 0],
        [MessageType.video, 0],
      ],
    );
  });

  test('a backed-up connection drops to the next keyframe and counts the drops', () => {
    const s = sink();
    s.onStart(streamInfo('live/a', [H264_TEST_TRACK]));
    const c = new FakeConnection();
    s.attach(c);
    s.onFrame(videoFrame(0, true));
    c.pendingBytes = 5000;
    s.onFrame(videoFrame(3600));
    s.onFrame(videoFrame(7200));
    c.pendingBytes = 0;
    s.onFrame(videoFrame(10_800));
    assert.equal(s.framesDropped, 3, 'two over the bound, one while waiting for a keyframe');
    s.onFrame(videoFrame(14_400, true));
    assert.equal(s.framesOut, 2);
  });

  test('hevc drop leaves H.265 out and says so', () => {
    const s = sink('drop');
    const units = splitAnnexB(readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtmp', 'h265-160x120.h265')));
    const find = (type: number): Buffer => units.find((u) => h265NalType(u) === type)!;
    const h265 = h265Track(0, find(32), find(33), find(34));
    s.onStart(streamInfo('live/a', [h265, AAC_TEST_TRACK]));
    assert.equal(s.videoDropped, true);
    const c = new FakeConnection();
    s.attach(c);
    s.onFrame({ ...videoFrame(0, true), codec: 'h265' });
    s.onFrame(audioFrame(0));
    assert.deepEqual(
      c.sent.map((m) => m.typeId),
      [MessageType.dataAmf0, MessageType.audio, MessageType.audio],
    );
  });
});
