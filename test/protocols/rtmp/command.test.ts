import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { connectResultMessage, decodeCommand, decodeData, metadataOf, onStatusMessage, resultMessage, sampleAccessMessage, statusInfo } from '../../../src/protocols/rtmp/command';
import { Amf0EcmaArray, decodeAmf0, encodeAmf0 } from '../../../src/formats/amf0/amf0';
import { ParseError } from '../../../src/core/errors';

describe('RTMP command messages', () => {
  it('decodes a connect command (type 20)', () => {
    const body = encodeAmf0('connect', 1, { app: 'live', tcUrl: 'rtmp://h/live' });
    assert.deepStrictEqual(decodeCommand({ typeId: 20, body }), {
      name: 'connect',
      transactionId: 1,
      commandObject: { app: 'live', tcUrl: 'rtmp://h/live' },
      args: [],
    });
  });

  it('decodes publish arguments and AMF3 (type 17) commands', () => {
    const body = Buffer.concat([Buffer.from([0]), encodeAmf0('publish', 5, null, 'cam?k=1', 'live')]);
    const cmd = decodeCommand({ typeId: 17, body });
    assert.equal(cmd.name, 'publish');
    assert.deepStrictEqual(cmd.args, ['cam?k=1', 'live']);
  });

  it('tolerates a missing or odd transaction id', () => {
    assert.equal(decodeCommand({ typeId: 20, body: encodeAmf0('deleteStream') }).transactionId, 0);
    assert.equal(decodeCommand({ typeId: 20, body: encodeAmf0('x', 'y') }).transactionId, 0);
  });

  it('throws ParseError when the name is not a string or the body is AMF3', () => {
    assert.throws(() => decodeCommand({ typeId: 20, body: encodeAmf0(1) }), ParseError);
    assert.throws(() => decodeCommand({ typeId: 20, body: Buffer.alloc(0) }), ParseError);
    assert.throws(() => decodeCommand({ typeId: 17, body: Buffer.from([0x11, 0x06]) }), ParseError);
  });

  it('decodes @setDataFrame onMetaData', () => {
    const meta = new Amf0EcmaArray({ width: 640, height: 360, videocodecid: 7 });
    const data = decodeData({ typeId: 18, body: encodeAmf0('@setDataFrame', 'onMetaData', meta) });
    assert.deepStrictEqual(metadataOf(data), { width: 640, height: 360, videocodecid: 7 });
    const direct = decodeData({ typeId: 18, body: encodeAmf0('onMetaData', { duration: 0 }) });
    assert.deepStrictEqual(metadataOf(direct), { duration: 0 });
    assert.equal(metadataOf(decodeData({ typeId: 18, body: encodeAmf0('onCuePoint', {}) })), undefined);
  });

  it('builds the replies ffmpeg and OBS look for', () => {
    const connect = connectResultMessage(1, 0);
    const [name, tid, props, info] = decodeAmf0(Buffer.concat(connect.body));
    assert.equal(name, '_result');
    assert.equal(tid, 1);
    assert.equal((props as { fmsVer: string }).fmsVer.startsWith('FMS/'), true);
    assert.equal((info as { code: string }).code, 'NetConnection.Connect.Success');
    assert.deepStrictEqual(decodeAmf0(Buffer.concat(resultMessage(4, 1).body)), ['_result', 4, null, 1]);
    const status = onStatusMessage(1, statusInfo('status', 'NetStream.Publish.Start', 'live/test is now published.'));
    assert.equal(status.streamId, 1);
    assert.deepStrictEqual(decodeAmf0(Buffer.concat(status.body)), [
      'onStatus',
      0,
      null,
      { level: 'status', code: 'NetStream.Publish.Start', description: 'live/test is now published.' },
    ]);
    assert.deepStrictEqual(decodeAmf0(Buffer.concat(sampleAccessMessage(1).body)), ['|RtmpSampleAccess', true, true]);
  });

  it('random bodies only ever throw ParseError', () => {
    fc.assert(
      fc.property(fc.constantFrom(15, 17, 18, 20), fc.uint8Array({ maxLength: 100 }), (typeId, body) => {
        try {
          if (typeId === 17 || typeId === 20) decodeCommand({ typeId, body: Buffer.from(body) });
          else decodeData({ typeId, body: Buffer.from(body) });
        } catch (err) {
          assert.ok(err instanceof ParseError, String(err));
        }
      }),
      { numRuns: 500 },
    );
  });
});
