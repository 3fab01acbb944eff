import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parsePesHeader, pesHeader, readPesTimestamp, writePesTimestamp } from '../../../src/formats/mpegts/pes';
import { parseErrorOnly } from '../../rtp/helpers';
import { ParseError } from '../../../src/core/errors';

test('33-bit timestamps round trip, including the top bit', () => {
  for (const ts of [0, 1, 90000, 2 ** 32, 2 ** 33 - 1]) {
    const b = Buffer.alloc(5);
    writePesTimestamp(b, 0, 0x2, ts);
    assert.equal(readPesTimestamp(b, 0), ts);
  }
});

test('MPEG-2 PES headers: PTS only, PTS+DTS, none, unbounded', () => {
  const a = pesHeader(0xe0, 123456, undefined, 100, true);
  assert.deepEqual(parsePesHeader(a, 0), { headerLength: 14, payloadLength: 100, pts: 123456 });
  const b = pesHeader(0xe0, 2 ** 33 - 5, 7, 5000, false);
  assert.deepEqual(parsePesHeader(b, 0), { headerLength: 19, payloadLength: -1, pts: 2 ** 33 - 5, dts: 7 });
  const c = pesHeader(0xc0, undefined, undefined, 10, true);
  assert.deepEqual(parsePesHeader(c, 0), { headerLength: 9, payloadLength: 10 });
  // PTS equal to DTS: DTS is not written
  assert.deepEqual(parsePesHeader(pesHeader(0xe0, 90, 90 + 2 ** 33, 1, true), 0), { headerLength: 14, payloadLength: 1, pts: 90 });
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
  const h = pesHeader(0xe0, 1, undefined, 10, true);
  h.writeUInt16BE(4, 4);
  assert.throws(() => parsePesHeader(h, 0), ParseError);
});

test('fuzz: parsePesHeader throws ParseError only', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => parseErrorOnly(() => parsePesHeader(Buffer.from(bytes), 0))),
    { numRuns: 3000 },
  );
  const valid = pesHeader(0xe0, 5, 3, 50, true);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (edits) => {
      const b = Buffer.from(valid);
      for (const [i, v] of edits) b[i] = v;
      parseErrorOnly(() => parsePesHeader(b, 0));
    }),
    { numRuns: 2000 },
  );
});
