import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReceptionStats, buildReceiverReport, buildSenderReport, isRtcpPacket, mappingFromSr, ntpMiddle32, parseRtcp, rtpToUnixMs, type SenderReport } from '../../rtp/rtcp';
import { buildRtpPacket } from '../../rtp/packet';
import { ParseError } from '../../src/core/errors';

test('tells RTCP from RTP in a mixed stream', () => {
  const sr = buildSenderReport({ ssrc: 1, ntpSeconds: 3_900_000_000, ntpFraction: 0x80000000, rtpTimestamp: 90000, packetCount: 10, octetCount: 1000 });
  assert.equal(isRtcpPacket(sr), true);
  assert.equal(isRtcpPacket(buildReceiverReport(5)), true);
  for (const pt of [0, 8, 96, 127]) {
    const rtp = buildRtpPacket({ marker: true, payloadType: pt, sequence: 1, timestamp: 2, ssrc: 3, payload: Buffer.alloc(4) });
    assert.equal(isRtcpPacket(rtp), false, `PT ${pt}`);
  }
});

test('parses a Sender Report and maps RTP time to wall clock', () => {
  const unixSeconds = 1_700_000_000;
  const sr = buildSenderReport({ ssrc: 42, ntpSeconds: unixSeconds + 2_208_988_800, ntpFraction: 0x40000000, rtpTimestamp: 4_294_967_000, packetCount: 10, octetCount: 1000 });
  const [parsed] = parseRtcp(sr) as [SenderReport];
  assert.equal(parsed.type, 'sr');
  assert.equal(parsed.ssrc, 42);
  assert.equal(parsed.rtpTimestamp, 4_294_967_000);
  const mapping = mappingFromSr(parsed, 90000);
  assert.equal(mapping.unixMs, unixSeconds * 1000 + 250);
  // 90000 ticks later, across the 32-bit wrap
  assert.equal(rtpToUnixMs(mapping, (4_294_967_000 + 90000) % 2 ** 32), unixSeconds * 1000 + 1250);
  assert.equal(rtpToUnixMs(mapping, 4_294_967_000 - 45000), unixSeconds * 1000 - 250);
});

test('builds RR with and without report blocks, and parses them back', () => {
  const empty = buildReceiverReport(0x12345678);
  assert.equal(empty.length, 8);
  assert.deepEqual(parseRtcp(empty), [{ type: 'rr', ssrc: 0x12345678, reports: [] }]);
  const block = { ssrc: 7, fractionLost: 25, cumulativeLost: -3, highestSequence: 70000, jitter: 12, lastSr: 0xabcd0123, delaySinceLastSr: 65536 };
  const rr = buildReceiverReport(9, [block]);
  assert.deepEqual(parseRtcp(rr), [{ type: 'rr', ssrc: 9, reports: [block] }]);
  // compound: SR + RR + an SDES-like unknown packet
  const other = Buffer.from([0x81, 202, 0, 1, 0, 0, 0, 1]);
  const sr = buildSenderReport({ ssrc: 1, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 });
  const types = parseRtcp(Buffer.concat([sr, rr, other])).map((p) => p.type);
  assert.deepEqual(types, ['sr', 'rr', 'other']);
});

test('ReceptionStats reports loss, highest sequence and LSR/DLSR', () => {
  const stats = new ReceptionStats(90000);
  for (const seq of [100, 101, 103, 104]) stats.onPacket(seq, seq * 3600, seq * 40);
  const sr = buildSenderReport({ ssrc: 1, ntpSeconds: 0x00011234, ntpFraction: 0x56780000, rtpTimestamp: 0, packetCount: 0, octetCount: 0 });
  stats.onSenderReport(parseRtcp(sr)[0] as SenderReport, 1000);
  const block = stats.reportBlock(1, 1500)!;
  assert.equal(block.cumulativeLost, 1);
  assert.equal(block.highestSequence, 104);
  assert.equal(block.fractionLost, 51); // 1 of 5 expected
  assert.equal(block.lastSr, ntpMiddle32(0x00011234, 0x56780000));
  assert.equal(block.lastSr, 0x12345678);
  assert.equal(block.delaySinceLastSr, 32768);
  assert.equal(block.jitter, 0);
  // the next interval has no loss
  stats.onPacket(105, 105 * 3600, 105 * 40);
  assert.equal(stats.reportBlock(1, 1600)!.fractionLost, 0);
});

test('fuzz: parseRtcp throws ParseError only', () => {
  const valid = Buffer.concat([
    buildSenderReport({ ssrc: 1, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4, octetCount: 5 }),
    buildReceiverReport(9, [{ ssrc: 7, fractionLost: 1, cumulativeLost: 1, highestSequence: 1, jitter: 1, lastSr: 1, delaySinceLastSr: 1 }]),
  ]);
  const check = (buf: Buffer): void => {
    try {
      parseRtcp(buf);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
  };
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => check(Buffer.from(bytes))),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }), fc.nat(valid.length), (edits, cut) => {
      const buf = Buffer.from(valid);
      for (const [i, v] of edits) buf[i] = v;
      check(buf.subarray(0, cut));
    }),
    { numRuns: 2000 },
  );
});
