import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildPsm, parsePsm } from '../../../rtp/ps/psm';
import { fixture, parseErrorOnly } from '../helpers';

test('builds and parses a PSM', () => {
  const entries = [
    { streamType: 0x1b, id: 0xe0 },
    { streamType: 0x90, id: 0xc0 },
  ];
  assert.deepEqual(parsePsm(buildPsm(entries)), entries);
});

test('parses the PSM GStreamer mpegpsmux writes (with descriptors)', () => {
  const ps = fixture('ps', 'mpegpsmux-h264-aac-720p-2packs.ps');
  const at = ps.indexOf(Buffer.from([0, 0, 1, 0xbc]));
  const psm = ps.subarray(at, at + 6 + ps.readUInt16BE(at + 4));
  assert.deepEqual(parsePsm(psm), [
    { streamType: 0x0f, id: 0xc0 },
    { streamType: 0x1b, id: 0xe0 },
  ]);
});

test('fuzz: parsePsm throws ParseError only', () => {
  const valid = buildPsm([
    { streamType: 0x24, id: 0xe0 },
    { streamType: 0x0f, id: 0xc0 },
  ]);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), (bytes) => parseErrorOnly(() => parsePsm(Buffer.from(bytes)))),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), (edits) => {
      const b = Buffer.from(valid);
      for (const [i, v] of edits) b[i] = v;
      parseErrorOnly(() => parsePsm(b));
    }),
    { numRuns: 2000 },
  );
});
