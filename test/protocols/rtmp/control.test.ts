import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  acknowledgementMessage,
  decodeControl,
  isControlMessage,
  pingRequestMessage,
  pingResponseMessage,
  setBufferLengthMessage,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  streamBeginMessage,
  streamEofMessage,
  streamIsRecordedMessage,
  windowAckSizeMessage,
  type ControlMessage,
} from '../../../src/protocols/rtmp/control';
import type { OutgoingMessage } from '../../../src/protocols/rtmp/message';
import { ParseError } from '../../../src/core/errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const cases: { name: string; message: OutgoingMessage; typeId: number; body: string; decoded: ControlMessage }[] = [
  { name: 'Set Chunk Size', message: setChunkSizeMessage(4096), typeId: 1, body: '00001000', decoded: { kind: 'setChunkSize', size: 4096 } },
  { name: 'Acknowledgement', message: acknowledgementMessage(2 ** 32 + 5), typeId: 3, body: '00000005', decoded: { kind: 'acknowledgement', sequence: 5 } },
  { name: 'Window Ack Size', message: windowAckSizeMessage(2_500_000), typeId: 5, body: '002625a0', decoded: { kind: 'windowAckSize', size: 2_500_000 } },
  { name: 'Set Peer Bandwidth', message: setPeerBandwidthMessage(2_500_000, 2), typeId: 6, body: '002625a0 02', decoded: { kind: 'setPeerBandwidth', size: 2_500_000, limit: 2 } },
  { name: 'StreamBegin', message: streamBeginMessage(1), typeId: 4, body: '0000 00000001', decoded: { kind: 'streamBegin', streamId: 1 } },
  { name: 'StreamEOF', message: streamEofMessage(1), typeId: 4, body: '0001 00000001', decoded: { kind: 'streamEof', streamId: 1 } },
  { name: 'StreamIsRecorded', message: streamIsRecordedMessage(2), typeId: 4, body: '0004 00000002', decoded: { kind: 'streamIsRecorded', streamId: 2 } },
  {
    name: 'SetBufferLength',
    message: setBufferLengthMessage(1, 3000),
    typeId: 4,
    body: '0003 00000001 00000bb8',
    decoded: { kind: 'setBufferLength', streamId: 1, bufferMs: 3000 },
  },
  { name: 'PingRequest', message: pingRequestMessage(77), typeId: 4, body: '0006 0000004d', decoded: { kind: 'pingRequest', timestamp: 77 } },
  { name: 'PingResponse', message: pingResponseMessage(77), typeId: 4, body: '0007 0000004d', decoded: { kind: 'pingResponse', timestamp: 77 } },
];

describe('RTMP control messages', () => {
  for (const c of cases) {
    it(`encodes and decodes ${c.name}`, () => {
      assert.equal(c.message.typeId, c.typeId);
      assert.equal(c.message.chunkStreamId, 2);
      assert.equal(c.message.streamId, 0);
      assert.deepEqual(Buffer.concat(c.message.body), hex(c.body));
      assert.deepEqual(decodeControl({ typeId: c.typeId, body: hex(c.body) }), c.decoded);
    });
  }

  it('decodes Abort and unknown user control events', () => {
    assert.deepEqual(decodeControl({ typeId: 2, body: hex('00000006') }), { kind: 'abort', chunkStreamId: 6 });
    assert.deepEqual(decodeControl({ typeId: 4, body: hex('001f') }), { kind: 'userControl', event: 31 });
  });

  it('knows control types', () => {
    assert.ok(isControlMessage(1) && isControlMessage(6));
    assert.ok(!isControlMessage(8) && !isControlMessage(0));
  });

  it('throws ParseError on short bodies and non-control types', () => {
    for (const [typeId, body] of [
      [1, '00'],
      [3, ''],
      [5, '0000'],
      [6, '00000000'],
      [4, '00'],
      [4, '0006 00'],
      [4, '0003 00000001'],
      [9, '00'],
    ] as const) {
      assert.throws(() => decodeControl({ typeId, body: hex(body) }), ParseError);
    }
  });

  it('random bodies only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ maxLength: 12 }), (typeId, body) => {
        try {
          decodeControl({ typeId, body: Buffer.from(body) });
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
    );
  });
});
