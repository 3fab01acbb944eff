import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../../src/core/frame';
import type { AacTrack, H264Track, H265Track } from '../../src/core/track';
import { splitAnnexB } from '../../src/codecs/annexb';
import { splitAdts } from '../../src/codecs/aac/adts';
import { RtpIngest, type RtpIngestOptions } from '../../rtp/ingest';
import type { RtpPacket } from '../../rtp/packet';
import { parseFmtp } from '../../src/formats/sdp/sdp';
import { FakePublisher, annexBAccessUnits, fixture, impair, muxPs, packetizePs, readRtpFixture, toRtp } from './helpers';

/*
 * End-to-end proof of the pure ingest path on third-party data: RTP packets recorded from
 * GB28181 device simulators (ossrs/srs-bench, sb-im/sbgb28181), program streams written by
 * GStreamer mpegpsmux and ffmpeg, RTP and TS written by ffmpeg. Expected frame counts are
 * ffprobe's/ffmpeg's on the same bytes (see test/fixtures/rtp/README.md).
 */

function ingest(packets: readonly RtpPacket[], options: RtpIngestOptions = {}, spacingMs = 1): { pub: FakePublisher; rtp: RtpIngest } {
  const pub = new FakePublisher();
  const rtp = new RtpIngest(pub, options);
  let now = 0;
  for (const p of packets) {
    rtp.push(p, now);
    now += spacingMs;
    rtp.poll(now);
  }
  rtp.end();
  return { pub, rtp };
}

interface Case {
  name: string;
  packets: () => RtpPacket[];
  video: number;
  audio: number;
  videoCodec: 'h264' | 'h265';
  size: [number, number];
  audioCodec?: string;
  /** Video frames that must survive 2 % loss (keyframes are frequent enough). */
  minUnderLoss?: number;
}

const CASES: Case[] = [
  {
    name: 'srs-bench GB28181 H.264+AAC (TCP)',
    packets: () => readRtpFixture('srsbench-h264-aac-20f.rtp4571'),
    video: 20,
    audio: 35,
    videoCodec: 'h264',
    size: [1280, 720],
    audioCodec: 'aac',
  },
  {
    name: 'srs-bench GB28181 H.265+AAC (TCP)',
    packets: () => readRtpFixture('srsbench-h265-aac-20f.rtp4571'),
    video: 20,
    audio: 35,
    videoCodec: 'h265',
    size: [1280, 720],
    audioCodec: 'aac',
  },
  {
    name: 'sbgb28181 (GStreamer mpegpsmux) H.264 over UDP',
    packets: () => readRtpFixture('sbgb28181-h264-udp-48f.rtp4571'),
    video: 48,
    audio: 0,
    videoCodec: 'h264',
    size: [640, 480],
    minUnderLoss: 30,
  },
  {
    name: 'GStreamer mpegpsmux H.264 (B-frames) + AAC, packetised here',
    packets: () => packetizePs(fixture('ps', 'mpegpsmux-h264-aac-720p-2packs.ps')),
    video: 23,
    audio: 37,
    videoCodec: 'h264',
    size: [1280, 720],
    audioCodec: 'aac',
  },
  {
    name: 'ffmpeg VOB without PSM (H.264 on a guessed stream, MP2 skipped), packetised here',
    packets: () => packetizePs(fixture('ps', 'ffmpeg41-vob-h264-mp2-annexb.vob')),
    video: 25,
    audio: 0,
    videoCodec: 'h264',
    size: [320, 240],
  },
];

for (const c of CASES) {
  test(`${c.name}: expected frames, tracks and timestamps`, () => {
    const { pub, rtp } = ingest(c.packets());
    assert.equal(pub.count(0), c.video, 'video frames');
    assert.equal(pub.count(1), c.audio, 'audio frames');
    const video = pub.tracks.find((t) => t.id === 0) as H264Track | H265Track;
    assert.equal(video.codec, c.videoCodec);
    assert.equal(video.ready, true);
    assert.deepEqual([video.width, video.height], c.size);
    if (c.audioCodec) {
      const audio = pub.tracks.find((t) => t.id === 1) as AacTrack;
      assert.equal(audio.codec, c.audioCodec);
      assert.equal(audio.ready, true);
    }
    assert.equal(pub.frames[0]?.keyframe, true);
    pub.assertTimestamps();
    assert.equal(rtp.stats.parseErrors, 0);
    assert.equal(rtp.stats.lost, 0);
    for (const f of pub.frames) {
      assert.ok(f.units.every((u) => u.length > 0));
      if (f.trackId === 0) assert.ok(!f.units.some((u) => (c.videoCodec === 'h264' ? (u[0]! & 0x1f) === 9 : ((u[0]! >> 1) & 0x3f) === 35)), 'AUDs dropped');
    }
  });
}

test('the length-prefixed ffmpeg VOB (no PSM, no in-band SPS/PPS) is recognised but not published', () => {
  const { pub, rtp } = ingest(packetizePs(fixture('ps', 'ffmpeg-vob-h264-mp2-no-psm-100packs.vob')));
  assert.equal(rtp.stats.unsupportedAudio, true, 'MP2');
  assert.equal(pub.count(0), 0, 'no parameter sets anywhere: nothing decodable');
  // 14 pictures start in the cut file; the 14th is cut short, so 13 whole ones are assembled
  assert.equal(rtp.stats.droppedBeforeKeyframe, 13, 'the whole pictures were assembled and held back');
  assert.equal(pub.tracks[0]?.codec, 'h264');
});

/** A frame compared across runs: time, flags and bytes. */
function key(f: Frame): string {
  return `${f.trackId}:${f.dts}:${f.pts}:${f.keyframe}:${Buffer.concat(f.units as Buffer[]).toString('base64')}`;
}

for (const c of CASES.slice(0, 4)) {
  test(`${c.name}: reordering and duplication are repaired exactly`, () => {
    const clean = ingest(c.packets()).pub.frames.map(key);
    const { arrived } = impair(c.packets(), { reorder: 0.2, reorderDistance: 8, duplicate: 0.05, seed: 7 });
    const { pub, rtp } = ingest(arrived);
    assert.deepEqual(pub.frames.map(key), clean);
    assert.ok(rtp.stats.reordered > 0 && rtp.stats.duplicates > 0);
    assert.equal(rtp.stats.lost, 0);
  });

  test(`${c.name}: with loss, incomplete frames are dropped whole and never emitted as garbage`, () => {
    const cleanFrames = ingest(c.packets()).pub.frames;
    const clean = new Map(cleanFrames.map((f) => [`${f.trackId}:${f.dts}`, key(f)]));
    for (const seed of [1, 2, 3]) {
      const { arrived, lost } = impair(c.packets(), { loss: 0.02, reorder: 0.05, duplicate: 0.02, seed });
      const { pub, rtp } = ingest(arrived, {}, 2);
      // losses before the first or after the last arrived packet cannot be seen
      const seqs = arrived.map((p) => p.sequence);
      const seen = [...lost].filter((q) => q > Math.min(...seqs) && q < Math.max(...seqs)).length;
      assert.equal(rtp.stats.lost, seen, 'every detectable lost packet counted');
      assert.ok(pub.frames.length < cleanFrames.length || lost.size === 0);
      // Every frame that comes out is byte-identical to the clean frame at that time.
      // (dts may shift when a dropped first frame moves the rebase; compare by content.)
      const cleanSet = new Set(clean.values());
      const contentOf = (k: string): string => k.split(':').slice(4).join(':');
      const cleanContent = new Set([...cleanSet].map(contentOf));
      for (const f of pub.frames) assert.ok(cleanContent.has(contentOf(key(f))), `frame at ${f.dts} on track ${f.trackId} is not a clean frame`);
      pub.assertTimestamps();
      if (c.minUnderLoss) assert.ok(pub.count(0) >= c.minUnderLoss, `only ${pub.count(0)} video frames survived`);
    }
  });
}

test('hand-built H.264 + G.711A PS under 3 % loss: frames that come out are exactly the clean ones', () => {
  const packets = handBuilt('h264', 0x90, 'alaw');
  const clean = new Set(ingest(packets).pub.frames.map((f) => `${f.trackId}:${Buffer.concat(f.units as Buffer[]).toString('base64')}`));
  let survived = 0;
  for (const seed of [11, 12, 13, 14]) {
    const { arrived } = impair(packets, { loss: 0.03, reorder: 0.1, duplicate: 0.03, seed });
    const { pub } = ingest(arrived, {}, 2);
    for (const f of pub.frames) assert.ok(clean.has(`${f.trackId}:${Buffer.concat(f.units as Buffer[]).toString('base64')}`));
    survived += pub.count(0);
  }
  assert.ok(survived > 10);
});

/** Hand-built program streams: GB28181 cameras' G.711 in PS, which no tool here writes. */
function handBuilt(video: 'h264' | 'h265', audioType: number, audio: 'alaw' | 'adts', unboundedVideo = false): RtpPacket[] {
  const frames = annexBAccessUnits(fixture('ps', video === 'h264' ? 'es-h264-320x240-10f.h264' : 'es-h265-320x240-10f.h265'), video);
  const keyframes = frames.map((_, i) => i % 5 === 0);
  let audioFrames: Buffer[];
  if (audio === 'alaw') {
    const alaw = fixture('ps', 'es-g711a-8k-0.4s.alaw');
    audioFrames = frames.map((_, i) => alaw.subarray(i * 320, (i + 1) * 320));
  } else {
    const adts = fixture('ps', 'es-aac-8k-0.4s.adts');
    const split = splitAdts(adts);
    let o = 0;
    audioFrames = split.frames.map((f) => {
      const whole = adts.subarray(o, o + f.length + 7);
      o += f.length + 7;
      return whole;
    });
  }
  const ps = muxPs(frames, audioFrames, keyframes, { videoStreamType: video === 'h264' ? 0x1b : 0x24, audioStreamType: audioType, maxPesPayload: 3000, unboundedVideo });
  return packetizePs(ps, { mtu: 1200 });
}

test('hand-built PS: H.264 + G.711A (PSM stream type 0x90)', () => {
  const { pub } = ingest(handBuilt('h264', 0x90, 'alaw'));
  assert.equal(pub.count(0), 10);
  assert.equal(pub.count(1), 10);
  assert.deepEqual(
    pub.tracks.map((t) => t.codec),
    ['h264', 'g711a'],
  );
  assert.ok(pub.frames.filter((f) => f.trackId === 1).every((f) => f.byteLength === 320 && f.codec === 'g711a'));
  assert.equal(pub.keyframes(0), 2);
  pub.assertTimestamps();
});

test('hand-built PS: H.265 + G.711U (0x91), video PES of length 0 (Hikvision style)', () => {
  const { pub } = ingest(handBuilt('h265', 0x91, 'alaw', true));
  assert.equal(pub.count(0), 10);
  assert.equal(pub.count(1), 10);
  assert.deepEqual(
    pub.tracks.map((t) => t.codec),
    ['h265', 'g711u'],
  );
  const v = pub.tracks[0] as H265Track;
  assert.deepEqual([v.width, v.height], [320, 240]);
});

test('hand-built PS: AAC labelled as G.711A in the PSM is published as AAC', () => {
  const { pub, rtp } = ingest(handBuilt('h264', 0x90, 'adts'));
  assert.equal(rtp.stats.mislabelledAudio, true);
  const audio = pub.tracks.find((t) => t.id === 1) as AacTrack;
  assert.equal(audio.codec, 'aac');
  assert.equal(audio.sampleRate, 8000);
  assert.ok(pub.count(1) > 0);
});

test('hand-built PS: frames split over PES of 3000 bytes come out whole', () => {
  const frames = annexBAccessUnits(fixture('ps', 'es-h264-320x240-10f.h264'), 'h264');
  const { pub } = ingest(handBuilt('h264', 0x90, 'alaw'));
  const video = pub.frames.filter((f) => f.trackId === 0);
  video.forEach((f, i) => {
    const expected = splitAnnexB(frames[i]!).filter((u) => (u[0]! & 0x1f) !== 9);
    assert.deepEqual(
      f.units.map((u) => u.toString('hex')),
      expected.map((u) => u.toString('hex')),
    );
  });
});

test('TS over RTP (ffmpeg -f rtp_mpegts) is detected and demuxed', () => {
  const { pub, rtp } = ingest(readRtpFixture('ffmpeg-rtp-mpegts.rtp4571'));
  assert.equal(rtp.stats.container, 'ts');
  assert.equal(pub.count(0), 50);
  // ffmpeg's framecrc says 84 on the same bytes, the 84th being a truncated frame (183 of its
  // 187 bytes: rtp_mpegts never sent the last partial group of TS packets); we drop it.
  assert.equal(pub.count(1), 83);
  assert.deepEqual(
    pub.tracks.map((t) => t.codec),
    ['h264', 'aac'],
  );
  pub.assertTimestamps();
});

test('elementary-stream payload types: ffmpeg H.264 RTP (PT 96 mapped) and G.711 static PT 8', () => {
  const video = ingest(readRtpFixture('ffmpeg-rtp-h264.rtp4571'), { esPayloadTypes: { 96: { encoding: 'H264', clockRate: 90000, fmtp: parseFmtp('packetization-mode=1') } } });
  assert.equal(video.rtp.stats.container, 'es');
  assert.equal(video.pub.count(0), 50);
  assert.equal((video.pub.tracks[0] as H264Track).width, 320);
  const audio = ingest(readRtpFixture('ffmpeg-rtp-pcma.rtp4571'));
  assert.equal(audio.pub.count(1), 8);
  assert.equal(audio.pub.tracks[0]?.codec, 'g711a');
});

test('late audio is announced with a new setTracks; the publisher resume point is honoured', () => {
  const packets = readRtpFixture('sbgb28181-h264-udp-48f.rtp4571');
  const pub = new FakePublisher(900_000);
  const rtp = new RtpIngest(pub);
  packets.forEach((p, i) => rtp.push(p, i));
  const before = pub.trackUpdates.length;
  const last = packets[packets.length - 1]!;
  // the same sender starts sending G.711 on PT 8 later
  for (const p of toRtp([Buffer.alloc(160, 0xd5), Buffer.alloc(160, 0xd5)], { pt: 8, seq: last.sequence + 1, timestamps: [0, 160], ssrc: last.ssrc })) rtp.push(p, 1000);
  rtp.end();
  assert.ok(pub.trackUpdates.length > before);
  assert.deepEqual(
    pub.tracks.map((t) => t.codec),
    ['h264', 'g711a'],
  );
  assert.equal(pub.frames[0]!.dts, 900_000);
  // the G.711 stream's own RTP clock (starting at 0) is placed on the video's timeline
  const lastVideo = pub.frames.filter((f) => f.trackId === 0).pop()!;
  const audio = pub.frames.filter((f) => f.trackId === 1);
  assert.equal(audio.length, 2);
  assert.ok(Math.abs(audio[0]!.dts - lastVideo.dts) < 90_000, `audio at ${audio[0]!.dts}, video at ${lastVideo.dts}`);
  assert.equal(audio[1]!.dts - audio[0]!.dts, 1800);
  pub.assertTimestamps();
});
