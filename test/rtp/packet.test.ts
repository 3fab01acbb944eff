import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRtpPacket, parseRtpPacket, peekRtpSsrc } from '../../rtp/packet';
import { ParseError } from '../../src/core/errors';

function expectParseErrorOnly(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

test('parses a plain RTP header', () => {
  const buf = buildRtpPacket({ marker: true, payloadType: 96, sequence: 65535, timestamp: 0xfffffff0, ssrc: 200000001, payload: Buffer.from('abc') });
  const p = parseRtpPacket(buf);
  assert.equal(p.marker, true);
  assert.equal(p.payloadType, 96);
  assert.equal(p.sequence, 65535);
  assert.equal(p.timestamp, 0xfffffff0);
  assert.equal(p.ssrc, 200000001);
  assert.deepEqual(p.csrcs, []);
  assert.equal(p.payload.toString(), 'abc');
  assert.equal(peekRtpSsrc(buf), 200000001);
});

test('skips CSRCs, header extension and padding', () => {
  const buf = buildRtpPacket({
    payloadType: 8,
    sequence: 1,
    timestamp: 2,
    ssrc: 3,
    csrcs: [10, 11],
    extension: { profile: 0xbede, body: Buffer.alloc(8, 0xee) },
    padding: 4,
    payload: Buffer.from('payload'),
  });
  const p = parseRtpPacket(buf);
  assert.deepEqual(p.csrcs, [10, 11]);
  assert.equal(p.extensionProfile, 0xbede);
  assert.equal(p.payload.toString(), 'payload');
  assert.equal(p.marker, false);
});

test('payload is a view, not a copy', () => {
  const buf = buildRtpPacket({ payloadType: 96, sequence: 1, timestamp: 2, ssrc: 3, payload: Buffer.from('xy') });
  const p = parseRtpPacket(buf);
  assert.equal(p.payload.buffer, buf.buffer);
});

test('rejects bad input with ParseError', () => {
  const good = buildRtpPacket({ payloadType: 96, sequence: 1, timestamp: 2, ssrc: 3, payload: Buffer.from('xy') });
  const cases: Array<[string, Buffer]> = [
    ['short', Buffer.alloc(11)],
    ['version 1', Buffer.from([0x40, ...good.subarray(1)])],
    ['CSRC past end', Buffer.from([0x8f, ...good.subarray(1)])],
    ['extension past end', Buffer.from([0x90, ...good.subarray(1)])],
    ['padding 0', Buffer.from([0xa0, ...good.subarray(1, good.length - 1), 0])],
    ['padding too long', Buffer.from([0xa0, ...good.subarray(1, good.length - 1), 200])],
  ];
  for (const [name, buf] of cases) {
    assert.throws(() => parseRtpPacket(buf), ParseError, name);
  }
});

test('property: build/parse round trip', () => {
  fc.assert(
    fc.property(
      fc.record({
        marker: fc.boolean(),
        payloadType: fc.integer({ min: 0, max: 127 }),
        sequence: fc.integer({ min: 0, max: 65535 }),
        timestamp: fc.integer({ min: 0, max: 0xffffffff }),
        ssrc: fc.integer({ min: 0, max: 0xffffffff }),
        csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
        padding: fc.integer({ min: 0, max: 255 }),
        payload: fc.uint8Array({ maxLength: 200 }),
      }),
      (f) => {
        const p = parseRtpPacket(buildRtpPacket({ ...f, payload: Buffer.from(f.payload) }));
        assert.equal(p.marker, f.marker);
        assert.equal(p.payloadType, f.payloadType);
        assert.equal(p.sequence, f.sequence);
        assert.equal(p.timestamp, f.timestamp);
        assert.equal(p.ssrc, f.ssrc);
        assert.deepEqual(p.csrcs, f.csrcs);
        assert.deepEqual([...p.payload], [...f.payload]);
      },
    ),
  );
});

test('fuzz: random and mutated input throws ParseError only', () => {
  const valid = buildRtpPacket({ payloadType: 96, sequence: 7, timestamp: 9, ssrc: 1, csrcs: [4], extension: { profile: 1, body: Buffer.alloc(4) }, payload: Buffer.alloc(30, 1) });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => expectParseErrorOnly(() => parseRtpPacket(Buffer.from(bytes)))),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(valid.length), (edits, cut) => {
      const buf = Buffer.from(valid);
      for (const [i, v] of edits) buf[i] = v;
      expectParseErrorOnly(() => parseRtpPacket(buf.subarray(0, cut)));
      expectParseErrorOnly(() => parseRtpPacket(buf));
    }),
    { numRuns: 2000 },
  );
});
