import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { GatewayError } from '../../../src/core/errors';
import { MAX_BODY_BYTES, MAX_HEADER_BYTES, RtspReader, encodeInterleaved, header, serializeRequest, type RtspItem } from '../../../src/protocols/rtsp/message';
import { buildRtpPacket } from '../../../rtp/packet';

const SDP = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n';

function describeResponse(cseq = 2): Buffer {
  return Buffer.from(
    `RTSP/1.0 200 OK\r\nCSeq: ${cseq}\r\nContent-Base: rtsp://cam/live/\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(SDP)}\r\n\r\n${SDP}`,
  );
}

function rtp(seq: number): Buffer {
  return buildRtpPacket({ payloadType: 96, sequence: seq, timestamp: seq * 3000, ssrc: 1, payload: Buffer.alloc(40, seq) });
}

function summary(items: RtspItem[]): string[] {
  return items.map((item) =>
    item.kind === 'interleaved'
      ? `$${item.channel}:${item.data.length}`
      : item.kind === 'response'
        ? `${item.status}:${header(item.headers, 'cseq')}:${item.body.length}`
        : `${item.method}`,
  );
}

const STREAM = Buffer.concat([
  Buffer.from('RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER\r\n\r\n'),
  describeResponse(),
  encodeInterleaved(0, rtp(1)),
  encodeInterleaved(1, Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)])),
  Buffer.from('\r\n'),
  Buffer.from('GET_PARAMETER rtsp://client/ RTSP/1.0\r\nCSeq: 9\r\n\r\n'),
  encodeInterleaved(0, rtp(2)),
]);
const EXPECTED = ['200:1:0', `200:2:${Buffer.byteLength(SDP)}`, '$0:52', '$1:28', 'GET_PARAMETER', '$0:52'];

test('reads responses, server requests and $ frames in one stream', () => {
  const reader = new RtspReader();
  assert.deepEqual(summary(reader.feed(STREAM)), EXPECTED);
  assert.equal(reader.buffered, 0);
});

test('gives the same items whatever way the stream is split', () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const reader = new RtspReader();
    const items = [...reader.feed(STREAM.subarray(0, cut)), ...reader.feed(STREAM.subarray(cut))];
    assert.deepEqual(summary(items), EXPECTED, `cut at ${cut}`);
  }
});

test('headers are case-insensitive, repeat, and fold', () => {
  const reader = new RtspReader();
  const [item] = reader.feed(Buffer.from('RTSP/1.0 401 Unauthorized\r\ncseq: 3\r\nWWW-Authenticate: Digest realm="a",\r\n nonce="b"\r\nWww-Authenticate: Basic realm="a"\r\n\r\n'));
  assert.equal(item?.kind, 'response');
  if (item?.kind !== 'response') return;
  assert.equal(item.status, 401);
  assert.equal(item.reason, 'Unauthorized');
  assert.deepEqual(item.headers.get('www-authenticate'), ['Digest realm="a", nonce="b"', 'Basic realm="a"']);
  assert.equal(header(item.headers, 'CSeq'), '3');
});

test('a response body owns its memory', () => {
  const buf = describeResponse();
  const [item] = new RtspReader().feed(buf);
  buf.fill(0);
  assert.ok(item?.kind === 'response' && item.body.toString().startsWith('v=0'));
});

test('garbage, oversize headers and bodies throw ParseError', () => {
  assert.throws(() => new RtspReader().feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), ParseError);
  assert.throws(() => new RtspReader().feed(Buffer.from([0x00, 0x01, 0x02])), ParseError);
  assert.throws(() => new RtspReader().feed(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n')), ParseError);
  assert.throws(() => new RtspReader().feed(Buffer.from(`RTSP/1.0 200 OK\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`)), ParseError);
  assert.throws(() => new RtspReader().feed(Buffer.from('RTSP/1.0 200 OK\r\nno colon here\r\n\r\n')), ParseError);
  assert.throws(() => new RtspReader().feed(Buffer.from('RTSP/1.0 2000 OK\r\n\r\n')), ParseError);
  const reader = new RtspReader();
  reader.feed(Buffer.from('RTSP/1.0 200 OK\r\n'));
  assert.throws(() => reader.feed(Buffer.from(`X-Pad: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n`)), ParseError);
});

test('a request is serialised with a Content-Length and refuses header injection', () => {
  const text = serializeRequest({ method: 'SET_PARAMETER', uri: 'rtsp://cam/', headers: [['CSeq', '4']], body: Buffer.from('a: b\r\n') }).toString();
  assert.equal(text, 'SET_PARAMETER rtsp://cam/ RTSP/1.0\r\nCSeq: 4\r\nContent-Length: 6\r\n\r\na: b\r\n');
  assert.throws(() => serializeRequest({ method: 'OPTIONS', uri: 'rtsp://cam/', headers: [['User-Agent', 'x\r\nEvil: 1']] }), GatewayError);
  assert.throws(() => serializeRequest({ method: 'OPTIONS', uri: 'rtsp://cam/ x', headers: [] }), GatewayError);
});

test('property: random bytes only ever throw ParseError, and the buffer stays bounded', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
      const reader = new RtspReader();
      try {
        for (const chunk of chunks) reader.feed(Buffer.from(chunk));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
      assert.ok(reader.buffered <= MAX_HEADER_BYTES + MAX_BODY_BYTES + 65_540);
    }),
    { numRuns: 500 },
  );
});

test('property: mutated valid streams only ever throw ParseError', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(STREAM.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(STREAM.length), (edits, cut) => {
      const bytes = Buffer.from(STREAM);
      for (const [at, value] of edits) bytes[at] = value;
      const reader = new RtspReader();
      try {
        reader.feed(bytes.subarray(0, cut));
        reader.feed(bytes.subarray(cut));
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }),
    { numRuns: 1000 },
  );
});

test('property: any sequence of $ frames survives any split', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 2000 })), { maxLength: 10 }),
      fc.array(fc.nat(), { maxLength: 5 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map(([ch, data]) => encodeInterleaved(ch, Buffer.from(data))));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const reader = new RtspReader();
        const out: RtspItem[] = [];
        let last = 0;
        for (const p of [...points, stream.length]) {
          out.push(...reader.feed(stream.subarray(last, p)));
          last = p;
        }
        assert.equal(out.length, frames.length);
        out.forEach((item, i) => {
          assert.equal(item.kind, 'interleaved');
          if (item.kind === 'interleaved') {
            assert.equal(item.channel, frames[i]![0]);
            assert.deepEqual(new Uint8Array(item.data), frames[i]![1]);
          }
        });
      },
    ),
    { numRuns: 300 },
  );
});
