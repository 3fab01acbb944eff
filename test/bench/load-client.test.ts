/**
 * The load client's parsers (FLV keyframe scanner, chunked decoder) and the RTMP play client
 * (the gateway's RTMP client with the chunk reader in head-only mode, tested in
 * test/protocols/rtmp/chunk-reader.test.ts) against a scripted server: cheap checks, so that the benchmark's numbers
 * rest on parsers that are right at every split of their input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { ParseError } from '../../src/core/errors';
import { ChunkReader } from '../../src/protocols/rtmp/chunk-reader';
import { chunkMessage } from '../../src/protocols/rtmp/chunk-writer';
import { decodeCommand, onStatusMessage, resultMessage, statusInfo } from '../../src/protocols/rtmp/command';
import { decodeControl, pingRequestMessage, windowAckSizeMessage } from '../../src/protocols/rtmp/control';
import { ServerHandshake } from '../../src/protocols/rtmp/handshake';
import { MessageType, type OutgoingMessage } from '../../src/protocols/rtmp/message';
import { FlvKeyframeScanner, isVideoKeyframe } from '../helpers/flv-scan';
import { RtmpPlayClient } from '../helpers/rtmp-play-client';
import { ChunkedDecoder } from './http-chunked';

function flvTag(type: number, body: Buffer, timestamp = 0): Buffer {
  const head = Buffer.alloc(11);
  head[0] = type;
  head.writeUIntBE(body.length, 1, 3);
  head.writeUIntBE(timestamp & 0xffffff, 4, 3);
  head[7] = timestamp >>> 24;
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(11 + body.length);
  return Buffer.concat([head, body, tail]);
}

/** Header, metadata, AVC sequence header, audio, inter frame, then the keyframe and audio. */
function sampleFlv(): { flv: Buffer; keyframeReadyAt: number } {
  const header = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
  const before = Buffer.concat([
    header,
    flvTag(18, Buffer.alloc(40, 1)),
    flvTag(9, Buffer.from([0x17, 0x00, 0, 0, 0, 1, 0x64])),
    flvTag(8, Buffer.from([0xaf, 0x01, 1, 2, 3])),
    flvTag(9, Buffer.from([0x27, 0x01, 0, 0, 0, 9, 9, 9])),
  ]);
  const key = flvTag(9, Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(300, 7)]), 40);
  return { flv: Buffer.concat([before, key, flvTag(8, Buffer.from([0xaf, 0x01, 4]))]), keyframeReadyAt: before.length + 13 };
}

test('isVideoKeyframe: legacy AVC/HEVC packet types, other codecs, enhanced RTMP', () => {
  const cases: [number, number | undefined, boolean][] = [
    [0x17, 1, true],
    [0x17, 0, false], // sequence header
    [0x17, 2, false], // end of sequence
    [0x27, 1, false], // inter frame
    [0x1c, 1, true], // legacy HEVC id 12
    [0x12, undefined, true], // Sorenson H.263: no packet type
    [0x90 | 1, 0, true], // enhanced, keyframe, CodedFrames
    [0x90 | 3, 0, true], // CodedFramesX
    [0x90 | 0, 0, false], // SequenceStart
    [0xa0 | 1, 0, false], // enhanced inter frame
  ];
  for (const [b0, b1, want] of cases) assert.equal(isVideoKeyframe(b0, b1), want, `0x${b0.toString(16)} ${b1}`);
});

test('FlvKeyframeScanner: finds the keyframe at the same byte for every split, then only counts', () => {
  const { flv, keyframeReadyAt } = sampleFlv();
  for (let split = 0; split <= flv.length; split++) {
    const scanner = new FlvKeyframeScanner();
    const first = scanner.feed(flv.subarray(0, split));
    const second = scanner.feed(flv.subarray(split));
    assert.equal(first, split >= keyframeReadyAt, `split ${split}`);
    assert.equal(second, split < keyframeReadyAt, `split ${split}`);
    assert.equal(scanner.bytes, flv.length);
    assert.equal(scanner.tagsBeforeKeyframe, 4);
  }
  const scanner = new FlvKeyframeScanner();
  for (let i = 0; i < flv.length; i++) assert.equal(scanner.feed(flv.subarray(i, i + 1)), i + 1 === keyframeReadyAt);
});

test('FlvKeyframeScanner: bad input throws ParseError only', () => {
  assert.throws(() => new FlvKeyframeScanner().feed(Buffer.from('HTTP/1.1 200 OK\r\n')), ParseError);
  const badOffset = Buffer.from([0x46, 0x4c, 0x56, 1, 5, 0xff, 0, 0, 0]);
  assert.throws(() => new FlvKeyframeScanner().feed(badOffset), ParseError);
});

test('ChunkedDecoder: passes the body through at every split, extensions and all', () => {
  const body = Buffer.from(Array.from({ length: 300 }, (_, i) => i & 0xff));
  const wire = Buffer.concat([Buffer.from('64;ext=1\r\n'), body.subarray(0, 100), Buffer.from('\r\nC8\r\n'), body.subarray(100), Buffer.from('\r\n0\r\n\r\n')]);
  for (let split = 0; split <= wire.length; split++) {
    const decoder = new ChunkedDecoder();
    const out: Buffer[] = [];
    decoder.feed(wire.subarray(0, split), (b) => out.push(Buffer.from(b)));
    decoder.feed(wire.subarray(split), (b) => out.push(Buffer.from(b)));
    assert.deepEqual(Buffer.concat(out), body, `split ${split}`);
    assert.equal(decoder.ended, true);
  }
  assert.throws(() => new ChunkedDecoder().feed(Buffer.from('zz\r\n'), () => {}), ParseError);
});

function media(chunkStreamId: number, typeId: number, timestamp: number, body: Buffer): OutgoingMessage {
  return { chunkStreamId, typeId, streamId: 1, timestamp, body: [body] };
}

/** A scripted RTMP server: handshake, connect/createStream/play replies, a ping, then media. */
async function fakeServer(onPlay: (socket: Socket, send: (...m: OutgoingMessage[]) => void, seen: string[]) => void) {
  const seen: string[] = [];
  const server = createServer((socket) => {
    const handshake = new ServerHandshake();
    const reader = new ChunkReader();
    let shaking = true;
    const send = (...messages: OutgoingMessage[]): void => {
      for (const m of messages) for (const part of chunkMessage(m, 128)) socket.write(part);
    };
    socket.on('data', (chunk: Buffer) => {
      let rest: Buffer | undefined = chunk;
      if (shaking) {
        const progress = handshake.feed(chunk);
        for (const part of progress.reply ?? []) socket.write(part);
        shaking = !progress.done;
        rest = progress.rest;
      }
      for (const msg of rest ? reader.feed(rest) : []) {
        if (msg.typeId === MessageType.commandAmf0) {
          const c = decodeCommand(msg);
          seen.push(`${c.name}:${c.name === 'play' ? String(c.args[0]) : c.transactionId}`);
          if (c.name === 'connect') send(windowAckSizeMessage(1000), resultMessage(1, null));
          if (c.name === 'createStream') send(resultMessage(c.transactionId, 1));
          if (c.name === 'play') {
            send(onStatusMessage(1, statusInfo('status', 'NetStream.Play.Start', 'go')), pingRequestMessage(1234));
            onPlay(socket, send, seen);
          }
        } else {
          const control = decodeControl(msg);
          seen.push(control.kind === 'pingResponse' ? `pong:${control.timestamp}` : control.kind);
        }
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, seen, port: (server.address() as AddressInfo).port };
}

for (const readBuffer of [undefined, Buffer.alloc(1000)]) {
  test(`RtmpPlayClient: plays, answers pings, acknowledges the window, reports the keyframe (${readBuffer ? 'shared read buffer' : 'data events'})`, async () => {
    const { server, seen, port } = await fakeServer((_socket, send) => {
      send(media(6, MessageType.video, 0, Buffer.from([0x17, 0, 0, 0, 0])), media(6, MessageType.video, 0, Buffer.concat([Buffer.from([0x17, 1]), Buffer.alloc(3000, 5)])));
    });
    const events: string[] = [];
    let bytes = 0;
    const keyframe = new Promise<void>((resolve) => {
      const client = new RtmpPlayClient({
        host: '127.0.0.1',
        port,
        app: 'live',
        stream: 'cam1',
        ...(readBuffer ? { readBuffer } : {}),
        handlers: {
          onData: (n) => (bytes += n),
          onStatus: (code) => events.push(code),
          onKeyframe: () => {
            events.push('keyframe');
            setTimeout(() => {
              client.close();
              resolve();
            }, 50);
          },
          onClose: (reason) => events.push(`close:${reason}`),
        },
      });
    });
    await keyframe;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.deepEqual(events, ['NetStream.Play.Start', 'keyframe', 'close:closed by client']);
    assert.ok(bytes > 3073 + 3000);
    assert.deepEqual(seen.filter((s) => s !== 'acknowledgement').slice(0, 6), ['setChunkSize', 'windowAckSize', 'connect:1', 'createStream:2', 'setBufferLength', 'play:cam1']);
    assert.ok(seen.includes('pong:1234'), seen.join());
    assert.ok(seen.includes('acknowledgement'), seen.join());
  });
}
