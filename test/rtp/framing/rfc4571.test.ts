import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rfc4571Decoder, encodeRfc4571 } from '../../../rtp/framing/rfc4571';
import { buildRtpPacket, parseRtpPacket } from '../../../rtp/packet';

const SSRC = 200000001;

function rtp(seq: number, payload = Buffer.from([0, 0, 1, 0xba, 1, 2, 3, 4])): Buffer {
  return buildRtpPacket({ payloadType: 96, sequence: seq, timestamp: seq * 3600, ssrc: SSRC, payload });
}

function seqsOf(packets: { data: Buffer }[]): number[] {
  return packets.map((p) => parseRtpPacket(p.data).sequence);
}

test('decodes RFC 4571 frames split at every byte boundary', () => {
  const stream = Buffer.concat([1, 2, 3].map((s) => encodeRfc4571(rtp(s))));
  for (let cut = 0; cut <= stream.length; cut++) {
    const dec = new Rfc4571Decoder();
    const out = [...dec.feed(stream.subarray(0, cut)), ...dec.feed(stream.subarray(cut))];
    assert.deepEqual(seqsOf(out), [1, 2, 3], `cut ${cut}`);
    assert.equal(dec.buffered, 0);
  }
});

test('decodes `$` interleaved frames and reports the channel', () => {
  const dec = new Rfc4571Decoder();
  const rtcp = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
  const out = dec.feed(Buffer.concat([encodeRfc4571(rtp(1), 0), encodeRfc4571(rtcp, 1), encodeRfc4571(rtp(2), 0)]));
  assert.deepEqual(
    out.map((p) => p.channel),
    [0, 1, 0],
  );
  assert.deepEqual(out[1]!.data, rtcp);
});

test('resynchronises after garbage on the expected SSRC', () => {
  const dec = new Rfc4571Decoder({ expectedSsrc: SSRC });
  const garbage = Buffer.alloc(500, 0x11);
  const payload = Buffer.from('not a ps pack');
  const stream = Buffer.concat([encodeRfc4571(rtp(1, payload)), garbage, encodeRfc4571(rtp(2, payload)), encodeRfc4571(rtp(3, payload))]);
  assert.deepEqual(seqsOf(dec.feed(stream)), [1, 2, 3]);
  assert.equal(dec.stats.resyncs, 1);
  assert.equal(dec.stats.garbageBytes, 500);
});

test('resynchronises on a PS pack start when the SSRC is unknown', () => {
  const dec = new Rfc4571Decoder();
  const other = buildRtpPacket({ payloadType: 96, sequence: 9, timestamp: 0, ssrc: 77, payload: Buffer.from([0, 0, 1, 0xba, 9]) });
  const stream = Buffer.concat([Buffer.from([0xff, 0xff, 0x00, 0x13, 0x37]), encodeRfc4571(other)]);
  const out = [...dec.feed(stream.subarray(0, 7)), ...dec.feed(stream.subarray(7))];
  assert.deepEqual(seqsOf(out), [9]);
});

test('an impossible length triggers resync; garbage with no anchor stays bounded', () => {
  const dec = new Rfc4571Decoder({ expectedSsrc: SSRC, maxPacketSize: 2000 });
  const bad = Buffer.from([0x40, 0x00, 0x80, 0x60]); // length 16384 > 2000
  assert.deepEqual(dec.feed(bad), []);
  for (let i = 0; i < 100; i++) dec.feed(Buffer.alloc(1000, 0x22));
  assert.ok(dec.buffered <= 32);
  assert.deepEqual(seqsOf(dec.feed(Buffer.concat([encodeRfc4571(rtp(5)), encodeRfc4571(rtp(6))]))), [5, 6]);
});

test('fuzz: random and mutated streams never throw and never hold more than a packet', () => {
  const valid = Buffer.concat([1, 2, 3, 4].map((s) => encodeRfc4571(rtp(s, Buffer.alloc(50, s)))));
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
      const dec = new Rfc4571Decoder({ expectedSsrc: SSRC });
      for (const c of chunks) {
        for (const p of dec.feed(Buffer.from(c))) assert.ok(p.data.length >= 12);
        assert.ok(dec.buffered <= 65_535 + 4);
      }
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(valid.length), (edits, cut) => {
      const buf = Buffer.from(valid);
      for (const [i, v] of edits) buf[i] = v;
      const dec = new Rfc4571Decoder({ expectedSsrc: SSRC, maxPacketSize: 1500 });
      const clean = Buffer.concat(Array.from({ length: 100 }, (_, i) => encodeRfc4571(rtp(100 + i))));
      const out = [...dec.feed(buf.subarray(0, cut)), ...dec.feed(buf.subarray(cut)), ...dec.feed(clean)];
      // a damaged length may swallow up to maxPacketSize bytes; after that the decoder is back
      const last = out[out.length - 1]!;
      assert.equal(parseRtpPacket(last.data).sequence, 199);
      assert.equal(dec.buffered, 0);
    }),
    { numRuns: 1000 },
  );
});
