import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildPesHeader, parsePesHeader, readPesTimestamp, writePesTimestamp } from '../../../rtp/es/pes-header';
import { parseErrorOnly } from '../helpers';
import { ParseError } from '../../../src/core/errors';

test('33-bit timestamps round trip, including the top bit', () => {
  for (const ts of [0, 1, 90000, 2 ** 32, 2 ** 33 - 1]) {
    const b = Buffer.alloc(5);
    writePesTimestamp(b, 0, 0x2, ts);
    assert.equal(readPesTimestamp(b, 0), ts);
  }
});

test('MPEG-2 PES headers: PTS only, PTS+DTS, none, unbounded', () => {
  const a = buildPesHeader({ streamId: 0xe0, pts: 123456, payloadLength: 100 });
  assert.deepEqual(parsePesHeader(a, 0), { headerLength: 14, payloadLength: 100, pts: 123456 });
  const b = buildPesHeader({ streamId: 0xe0, pts: 2 ** 33 - 5, dts: 7, payloadLength: 0 });
  assert.deepEqual(parsePesHeader(b, 0), { headerLength: 19, payloadLength: -1, pts: 2 ** 33 - 5, dts: 7 });
  const c = buildPesHeader({ streamId: 0xc0, payloadLength: 10 });
  assert.deepEqual(parsePesHeader(c, 0), { headerLength: 9, payloadLength: 10 });
  // incomplete header: undefined, not an error
  assert.equal(parsePesHeader(a.subarray(0, 10), 0), undefined);
});

test('MPEG-1 PES headers: stuffing, STD buffer, PTS/DTS and 0x0F', () => {
  const pts = Buffer.alloc(5);
  writePesTimestamp(pts, 0, 0x2, 90000);
  const withPts = Buffer.concat([Buffer.from([0, 0, 1, 0xe0, 0, 20, 0xff, 0xff, 0x40, 0x20]), pts]);
  assert.deepEqual(parsePesHeader(withPts, 0), { headerLength: 15, payloadLength: 11, pts: 90000 });
  const none = Buffer.from([0, 0, 1, 0xc0, 0, 5, 0x0f]);
  assert.deepEqual(parsePesHeader(none, 0), { headerLength: 7, payloadLength: 4 });
  assert.throws(() => parsePesHeader(Buffer.from([0, 0, 1, 0xc0, 0, 5, 0x15]), 0), ParseError);
  assert.throws(() => parsePesHeader(Buffer.concat([Buffer.from([0, 0, 1, 0xc0, 0, 40]), Buffer.alloc(20, 0xff)]), 0), ParseError);
});

test('a PES_packet_length shorter than the header is a ParseError', () => {
  const h = buildPesHeader({ streamId: 0xe0, pts: 1, payloadLength: 10 });
  h.writeUInt16BE(4, 4);
  assert.throws(() => parsePesHeader(h, 0), ParseError);
});

test('fuzz: parsePesHeader throws ParseError only', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => parseErrorOnly(() => parsePesHeader(Buffer.from(bytes), 0))), { numRuns: 3000 });
  const valid = buildPesHeader({ streamId: 0xe0, pts: 5, dts: 3, payloadLength: 50 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (edits) => {
      const b = Buffer.from(valid);
      for (const [i, v] of edits) b[i] = v;
      parseErrorOnly(() => parsePesHeader(b, 0));
    }),
    { numRuns: 2000 },
  );
});
