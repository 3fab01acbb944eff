import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { H264Depacketizer } from '../../../rtp/depacketize/h264';
import { H265Depacketizer } from '../../../rtp/depacketize/h265';
import { LatmDepacketizer, Rfc3640Depacketizer, parseStreamMuxConfig } from '../../../rtp/depacketize/aac';
import { G711Depacketizer } from '../../../rtp/depacketize/g711';
import { parseFmtp, type RtpMap } from '../../../src/formats/sdp/sdp';
import { spropUnits } from '../../../rtp/depacketize/fmtp';
import { createRtpTrack, codecOfEncoding } from '../../../rtp/depacketize/track';
import type { AccessUnit, VideoAccessUnit } from '../../../rtp/access-unit';
import { buildRtpPacket, parseRtpPacket, type RtpPacket } from '../../../rtp/packet';
import { fixture, impair, parseErrorOnly, readRtpFixture, toRtp } from '../helpers';

/*
 * Fixtures recorded from ffmpeg 4.1 `-f rtp` (see test/fixtures/rtp/README.md) with the SDP it
 * wrote. Reference counts: 50 video frames; the AAC file carries 83 AUs (ffmpeg's muxer never
 * flushed its last 5), LATM 95, G.711 8 packets of 1024 samples.
 */
const SDP: Record<string, RtpMap> = {
  h264: { encoding: 'H264', clockRate: 90000, fmtp: parseFmtp('packetization-mode=1') },
  h265: { encoding: 'H265', clockRate: 90000 },
  aac: {
    encoding: 'MPEG4-GENERIC',
    clockRate: 44100,
    channels: 1,
    fmtp: parseFmtp('profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=120856E500'),
  },
  latm: { encoding: 'MP4A-LATM', clockRate: 48000, channels: 2, fmtp: parseFmtp('profile-level-id=41;cpresent=0;config=400023203fc0') },
  pcma: { encoding: 'PCMA', clockRate: 8000 },
  pcmu: { encoding: 'PCMU', clockRate: 8000 },
};

function run(map: RtpMap, packets: readonly RtpPacket[], discontinuityAt?: Set<number>): AccessUnit[] {
  const track = createRtpTrack(map);
  const out: AccessUnit[] = [];
  for (const p of packets) out.push(...track.push(p, discontinuityAt?.has(p.sequence) ?? false));
  out.push(...track.flush());
  return out;
}

const CASES = [
  { name: 'H.264 (single NAL, STAP-A, FU-A)', map: SDP.h264!, file: 'ffmpeg-rtp-h264.rtp4571', count: 50, step: 3600 },
  { name: 'H.265 (single, AP, FU)', map: SDP.h265!, file: 'ffmpeg-rtp-h265.rtp4571', count: 50, step: 3600 },
  { name: 'AAC mpeg4-generic (several AUs per packet)', map: SDP.aac!, file: 'ffmpeg-rtp-aac.rtp4571', count: 83, step: 2090 },
  { name: 'AAC MP4A-LATM', map: SDP.latm!, file: 'ffmpeg-rtp-latm.rtp4571', count: 95, step: 1920 },
  { name: 'G.711 A-law', map: SDP.pcma!, file: 'ffmpeg-rtp-pcma.rtp4571', count: 8, step: 11520 },
  { name: 'G.711 mu-law', map: SDP.pcmu!, file: 'ffmpeg-rtp-pcmu.rtp4571', count: 8, step: 11520 },
];

for (const c of CASES) {
  test(`${c.name}: ffmpeg's RTP gives ${c.count} access units, 90 kHz apart by the frame duration`, () => {
    const aus = run(c.map, readRtpFixture(c.file));
    assert.equal(aus.length, c.count);
    for (let i = 1; i < aus.length; i++) assert.ok(Math.abs(aus[i]!.pts - aus[i - 1]!.pts - c.step) <= 1, `step at ${i}`);
  });

  test(`${c.name}: after loss the access unit with a missing packet is dropped, the rest are exact`, () => {
    const packets = readRtpFixture(c.file);
    const clean = new Map(run(c.map, packets).map((a) => [a.pts, a]));
    // (a loss before the first packet cannot be detected by anyone: keep the first one)
    const impaired = impair(packets.slice(1), { loss: 0.05, seed: 5 });
    const arrived = [packets[0]!, ...impaired.arrived];
    const lost = impaired.lost;
    const gapAfter = new Set<number>();
    arrived.forEach((p, i) => {
      if (i > 0 && ((p.sequence - arrived[i - 1]!.sequence) & 0xffff) !== 1) gapAfter.add(p.sequence);
    });
    const aus = run(c.map, arrived, gapAfter);
    assert.ok(lost.size > 0);
    for (const au of aus) {
      const ref = clean.get(au.pts);
      assert.ok(ref, `access unit at ${au.pts} does not exist in the clean run`);
      const bytes = (a: AccessUnit): string => (a.kind === 'video' ? Buffer.concat(a.units as Buffer[]) : a.data).toString('base64');
      assert.equal(bytes(au), bytes(ref!));
    }
  });
}

test('H.264: STAP-A and FU-A by hand', () => {
  const sps = Buffer.from('6742c01e', 'hex');
  const pps = Buffer.from('68ce3c80', 'hex');
  const stap = Buffer.concat([Buffer.from([0x18, 0, 4]), sps, Buffer.from([0, 4]), pps]);
  const idr = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 0xab)]);
  const fu = (start: boolean, end: boolean, body: Buffer): Buffer => Buffer.concat([Buffer.from([0x7c, (start ? 0x80 : 0) | (end ? 0x40 : 0) | 5]), body]);
  const payloads = [stap, fu(true, false, idr.subarray(1, 1000)), fu(false, false, idr.subarray(1000, 2000)), fu(false, true, idr.subarray(2000))];
  const d = new H264Depacketizer();
  const units = toRtp(payloads, { timestamps: [0, 0, 0, 0] }).flatMap((p) => d.push(p));
  assert.deepEqual(
    units.map((u) => u.toString('hex')),
    [sps, pps, idr].map((u) => u.toString('hex')),
  );
  // a middle fragment whose start was lost yields nothing
  assert.deepEqual(new H264Depacketizer().push(toRtp([payloads[2]!])[0]!), []);
  assert.throws(() => d.push(toRtp([Buffer.from([0x19, 0])])[0]!), /not supported/);
});

test('H.265: AP and FU by hand (no DONL)', () => {
  const vps = Buffer.from('40010c01ff', 'hex');
  const sps = Buffer.from('42010101', 'hex');
  const ap = Buffer.concat([Buffer.from([48 << 1, 1, 0, vps.length]), vps, Buffer.from([0, sps.length]), sps]);
  const idr = Buffer.concat([Buffer.from([19 << 1, 1]), Buffer.alloc(2500, 0xcd)]);
  const fu = (start: boolean, end: boolean, body: Buffer): Buffer => Buffer.concat([Buffer.from([49 << 1, 1, (start ? 0x80 : 0) | (end ? 0x40 : 0) | 19]), body]);
  const d = new H265Depacketizer();
  const units = toRtp([ap, fu(true, false, idr.subarray(2, 1200)), fu(false, true, idr.subarray(1200))], { timestamps: [0, 0, 0] }).flatMap((p) => d.push(p));
  assert.deepEqual(
    units.map((u) => u.toString('hex')),
    [vps, sps, idr].map((u) => u.toString('hex')),
  );
});

test('mpeg4-generic: an AU fragmented over packets (RFC 3640 §3.2.3.1)', () => {
  const d = new Rfc3640Depacketizer({ encoding: 'MPEG4-GENERIC', clockRate: 48000, fmtp: parseFmtp('sizelength=13;indexlength=3;indexdeltalength=3;config=1190') });
  const au = Buffer.alloc(3000, 0x21);
  const header = Buffer.from([0x00, 0x10, (au.length >> 5) & 0xff, (au.length & 0x1f) << 3]);
  const packets = toRtp([Buffer.concat([header, au.subarray(0, 1400)]), Buffer.concat([header, au.subarray(1400, 2800)]), Buffer.concat([header, au.subarray(2800)])], {
    timestamps: [0, 0, 0],
  });
  assert.deepEqual(d.push(packets[0]!), []);
  assert.deepEqual(d.push(packets[1]!), []);
  const out = d.push(packets[2]!);
  assert.equal(out.length, 1);
  assert.ok(out[0]!.data.equals(au));
  assert.deepEqual(d.asc, Buffer.from([0x11, 0x90]));
});

test('LATM StreamMuxConfig yields the AudioSpecificConfig', () => {
  const smc = parseStreamMuxConfig(Buffer.from('400023203fc0', 'hex'));
  assert.deepEqual(smc.asc, Buffer.from([0x11, 0x90]));
  assert.equal(smc.numSubFrames, 1);
  assert.ok(new LatmDepacketizer(SDP.latm!).asc.equals(Buffer.from([0x11, 0x90])));
});

test('SDP parameter sets are put in front of the first access unit', () => {
  const map: RtpMap = { encoding: 'H264', clockRate: 90000, fmtp: parseFmtp('packetization-mode=1;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==') };
  assert.equal(spropUnits('Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==').length, 2);
  const track = createRtpTrack(map);
  const [au] = track.push(toRtp([Buffer.from([0x65, 0x88, 0x80])], { markers: [true] })[0]!, false) as VideoAccessUnit[];
  assert.deepEqual(
    au!.units.map((u) => u[0]! & 0x1f),
    [7, 8, 5],
  );
});

test('encoding names map to hub codecs', () => {
  assert.equal(codecOfEncoding('h264'), 'h264');
  assert.equal(codecOfEncoding('H265'), 'h265');
  assert.equal(codecOfEncoding('mpeg4-generic'), 'aac');
  assert.equal(codecOfEncoding('MP4A-LATM'), 'aac');
  assert.equal(codecOfEncoding('PCMA'), 'g711a');
  assert.equal(codecOfEncoding('opus'), undefined);
  assert.throws(() => createRtpTrack({ encoding: 'opus', clockRate: 48000 }), /not supported/);
});

test('fuzz: every depacketizer throws ParseError only, on random and mutated payloads', () => {
  const makers = [
    () => new H264Depacketizer(),
    () => new H265Depacketizer(),
    () => new Rfc3640Depacketizer(SDP.aac!),
    () => new LatmDepacketizer(SDP.latm!),
    () => new G711Depacketizer(),
  ];
  const real = [
    readRtpFixture('ffmpeg-rtp-h264.rtp4571'),
    readRtpFixture('ffmpeg-rtp-h265.rtp4571'),
    readRtpFixture('ffmpeg-rtp-aac.rtp4571'),
    readRtpFixture('ffmpeg-rtp-latm.rtp4571'),
    readRtpFixture('ffmpeg-rtp-pcma.rtp4571'),
  ];
  fc.assert(
    fc.property(fc.nat(makers.length - 1), fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean()), { maxLength: 8 }), (k, payloads) => {
      const d = makers[k]!();
      payloads.forEach(([bytes, marker], i) => {
        const p = parseRtpPacket(buildRtpPacket({ payloadType: 96, sequence: i, timestamp: 0, ssrc: 1, marker, payload: Buffer.from(bytes) }));
        parseErrorOnly(() => d.push(p));
      });
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.nat(makers.length - 1),
      fc.nat(10_000),
      fc.array(fc.tuple(fc.nat(2000), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 5 }),
      (k, which, edits) => {
        const d = makers[k]!();
        const packets = real[k]!;
        const p = packets[which % packets.length]!;
        const payload = Buffer.from(p.payload);
        for (const [i, v] of edits) payload[i % Math.max(1, payload.length)] = v;
        parseErrorOnly(() => d.push({ ...p, payload }));
      },
    ),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 12 }), (bytes) => parseErrorOnly(() => parseStreamMuxConfig(Buffer.from(bytes)))),
    { numRuns: 1000 },
  );
  void fixture;
});
