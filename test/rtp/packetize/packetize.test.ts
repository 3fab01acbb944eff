import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { H264Depacketizer } from '../../../rtp/depacketize/h264';
import { H265Depacketizer } from '../../../rtp/depacketize/h265';
import { Rfc3640Depacketizer } from '../../../rtp/depacketize/aac';
import { G711Depacketizer } from '../../../rtp/depacketize/g711';
import { parseFmtp } from '../../../src/formats/sdp/sdp';
import { parseRtpPacket } from '../../../rtp/packet';
import { packetizeH264, packetizeH265, type RtpPayload } from '../../../rtp/packetize/video';
import { AAC_HBR_FMTP, packetizeAac, packetizeG711 } from '../../../rtp/packetize/audio';
import { RtpPacketWriter } from '../../../rtp/packetize/writer';

/** Writes payloads as RTP and parses them back, as a receiver would see them. */
function wire(payloads: readonly RtpPayload[], timestamp: number, writer = new RtpPacketWriter(0x1234, 96)) {
  return payloads.map((p) => parseRtpPacket(writer.write(p, timestamp)));
}

/** A NAL unit with forbidden_zero_bit clear and a type that is a real (non-aggregate) unit. */
function nalUnit(headerBytes: 1 | 2) {
  return fc.tuple(fc.integer({ min: 1, max: 23 }), fc.uint8Array({ minLength: headerBytes, maxLength: 5000 })).map(([type, body]) => {
    const unit = Buffer.from(body);
    if (headerBytes === 1) unit[0] = (unit[0]! & 0x60) | type;
    else {
      unit[0] = (unit[0]! & 0x01) | ((type + (unit[0]! & 0x10 ? 16 : 0)) << 1);
      unit[1] = (unit[1]! & 0xf8) | 1; // TID 1
    }
    return unit;
  });
}

const budget = fc.integer({ min: 4, max: 1500 });

for (const [name, headerBytes, packetize, make] of [
  ['H.264', 1, packetizeH264, () => new H264Depacketizer()],
  ['H.265', 2, packetizeH265, () => new H265Depacketizer()],
] as const) {
  test(`${name} packetizer round-trips through the depacketizer within the payload budget`, () => {
    fc.assert(
      fc.property(fc.array(nalUnit(headerBytes), { minLength: 1, maxLength: 8 }), budget, (units, maxPayload) => {
        const units2 = units.filter((u) => u.length > headerBytes);
        const payloads = packetize(units, maxPayload);
        for (const p of payloads) assert.ok(p.payload.length <= maxPayload, `payload ${p.payload.length} > ${maxPayload}`);
        assert.deepEqual(
          payloads.map((p) => p.marker),
          payloads.map((_, i) => i === payloads.length - 1),
        );
        const d = make();
        const out = wire(payloads, 9000).flatMap((packet) => d.push(packet));
        assert.deepEqual(
          out.map((b) => b.toString('hex')),
          units2.map((b) => b.toString('hex')),
        );
      }),
      { numRuns: 300 },
    );
  });
}

test('H.264 parameter sets are aggregated into one STAP-A and a large IDR fragmented as FU-A', () => {
  const sps = Buffer.from([0x67, 0x42, 0x00, 0x1f, 0xab]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 7)]);
  const payloads = packetizeH264([sps, pps, idr], 1400);
  assert.equal(payloads[0]!.payload[0]! & 0x1f, 24);
  assert.equal(payloads.length, 1 + 3);
  for (const p of payloads.slice(1)) assert.equal(p.payload[0]! & 0x1f, 28);
});

test('AAC (RFC 3640 AAC-hbr) round-trips, fragmented when an AU exceeds the budget', () => {
  const d = new Rfc3640Depacketizer({ encoding: 'MPEG4-GENERIC', clockRate: 48000, fmtp: parseFmtp(`${AAC_HBR_FMTP};config=1190`) });
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 8191 }), fc.integer({ min: 5, max: 1500 }), fc.nat(0xffffffff), (au, maxPayload, ts) => {
      const payloads = packetizeAac(Buffer.from(au), maxPayload);
      for (const p of payloads) assert.ok(p.payload.length <= maxPayload);
      const out = wire(payloads, ts).flatMap((packet) => d.push(packet));
      assert.equal(out.length, 1);
      assert.equal(out[0]!.timestamp, ts);
      assert.deepEqual(out[0]!.data, Buffer.from(au));
    }),
    { numRuns: 200 },
  );
  assert.throws(() => packetizeAac(Buffer.alloc(8192)), RangeError);
});

test('G.711 round-trips in pieces within the budget, timestamps advancing one per sample', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 4000 }), budget, (samples, maxPayload) => {
      const d = new G711Depacketizer();
      const writer = new RtpPacketWriter(1, 8);
      const out = packetizeG711(Buffer.from(samples), maxPayload).flatMap((p) => d.push(parseRtpPacket(writer.write(p, 1000 + p.offset))));
      assert.deepEqual(Buffer.concat(out.map((u) => u.data)), Buffer.from(samples));
      for (let i = 1; i < out.length; i++) assert.equal(out[i]!.timestamp - out[i - 1]!.timestamp, out[i - 1]!.data.length);
      assert.equal(writer.packets, out.length);
    }),
  );
});

test('a payload budget too small to carry a fragment is refused', () => {
  assert.throws(() => packetizeH264([Buffer.from([0x65, 1, 2])], 3), RangeError);
});

test('a header written beside a shared payload is the packet write() builds, and counts the same', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 1400 }),
      fc.boolean(),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (bytes, marker, firstSeq, timestamp) => {
        const payload = { payload: Buffer.from(bytes), marker };
        const whole = new RtpPacketWriter(0xdeadbeef, 96, firstSeq);
        const split = new RtpPacketWriter(0xdeadbeef, 96, firstSeq);
        for (let i = 0; i < 3; i++) {
          const head = Buffer.alloc(16, 0xff);
          split.writeHeader(head, 4, payload, timestamp);
          assert.deepEqual(Buffer.concat([head.subarray(4), payload.payload]), whole.write(payload, timestamp));
          assert.deepEqual(head.subarray(0, 4), Buffer.alloc(4, 0xff), 'nothing written before the offset');
        }
        assert.deepEqual([split.packets, split.octets, split.lastTimestamp], [whole.packets, whole.octets, whole.lastTimestamp]);
      },
    ),
  );
});
