import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { g711Track } from '../../../src/codecs/g711/g711';
import {
  PID_AUDIO,
  PID_PAT,
  PID_PMT,
  PID_VIDEO,
  TS_PACKET_SIZE,
  TsMuxer,
  crc32Mpeg2,
  patSection,
  pmtSection,
  readPesTimestamp,
  writePesTimestamp,
} from '../../../src/formats/mpegts';
import { AAC_TEST_TRACK, H264_TEST_TRACK } from '../../helpers/hub-fixtures';
import { accessUnits, demuxAll, expectedVideoSize, muxAll, pmtHeaders, scanPackets } from './helpers';

const H265_TRACK: Track = {
  id: 0,
  codec: 'h265',
  ready: true,
  vps: Buffer.from('40010c01ffff016000000300b0000003000003005d95', 'hex'),
  sps: Buffer.from('420101016000000300b0000003000003005da00a080f1f', 'hex'),
  pps: Buffer.from('4401c172b462', 'hex'),
  width: 320,
  height: 240,
  profile: 1,
  level: 93,
};

function video(dts: number, keyframe: boolean, sizes: number[], pts = dts, codec: 'h264' | 'h265' = 'h264'): Frame {
  const units = sizes.map((size, i) => {
    const unit = Buffer.alloc(size, 0x11 + i);
    if (codec === 'h264') unit[0] = keyframe ? 0x65 : 0x41;
    else {
      unit[0] = (keyframe ? 19 : 1) << 1;
      unit[1] = 1;
    }
    return unit;
  });
  return { trackId: 0, codec, dts, pts, keyframe, units, byteLength: sizes.reduce((a, b) => a + b, 0), receivedAt: 0 };
}

function audio(dts: number, size: number): Frame {
  return { trackId: 1, codec: 'aac', dts, pts: dts, keyframe: true, units: [Buffer.alloc(size, 0x21)], byteLength: size, receivedAt: 0 };
}

test('PAT and PMT sections are byte-identical to the well-known ffmpeg tables (CRC32/MPEG-2)', () => {
  // ffmpeg's mpegtsenc writes exactly these for one program (PMT PID 0x1000), H.264 on 0x100 and AAC on 0x101.
  assert.equal(patSection(0x1000).toString('hex'), '00b00d0001c100000001f0002ab104b2');
  const pmt = pmtSection({
    pmtPid: 0x1000,
    pcrPid: 0x100,
    version: 0,
    streams: [
      { streamType: 0x1b, pid: 0x100 },
      { streamType: 0x0f, pid: 0x101 },
    ],
  });
  assert.equal(pmt.toString('hex'), '02b0170001c10000e100f0001be100f0000fe101f0002f44b99b');
  assert.equal(crc32Mpeg2(Buffer.from('123456789')), 0x0376e6e7); // the CRC-32/MPEG-2 check value
});

test('every packet is 188 bytes with the sync byte; continuity counters run per PID; PSI leads every keyframe', () => {
  const frames: Frame[] = [];
  for (let i = 0; i < 60; i++) {
    frames.push(video(i * 3600, i % 25 === 0, [500 + ((i * 397) % 4000)]));
    frames.push(audio(i * 3600 + 100, 200 + (i % 50)));
  }
  const ts = muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], frames);
  assert.equal(ts.length % TS_PACKET_SIZE, 0);
  const counters = new Map<number, number>();
  let psiBeforeKeyframes = 0;
  for (let i = 0; i < ts.length; i += TS_PACKET_SIZE) {
    assert.equal(ts[i], 0x47);
    const pid = ((ts[i + 1]! & 0x1f) << 8) | ts[i + 2]!;
    const cc = ts[i + 3]! & 0x0f;
    const last = counters.get(pid);
    if (last !== undefined) assert.equal(cc, (last + 1) & 0x0f, `continuity on PID ${pid}`);
    counters.set(pid, cc);
    const start = (ts[i + 1]! & 0x40) !== 0;
    if (pid === PID_PMT) {
      const next = i + TS_PACKET_SIZE;
      assert.equal(((ts[next + 1]! & 0x1f) << 8) | ts[next + 2]!, PID_VIDEO, 'a video PES follows the PMT');
      assert.ok(start && (ts[next + 5]! & 0x40) !== 0, 'with random_access_indicator');
      psiBeforeKeyframes++;
    }
  }
  assert.deepEqual(
    [...counters.keys()].sort((a, b) => a - b),
    [PID_PAT, PID_VIDEO, PID_AUDIO, PID_PMT],
  );
  assert.equal(psiBeforeKeyframes, 3);
  assert.equal(demuxAll(ts, 1000).stats.continuityErrors, 0);
});

test('PCR on every video PES equals its DTS; audio never carries PCR when there is video', () => {
  const frames = [video(90_000, true, [3000], 93_600), audio(90_100, 300), video(93_600, false, [800], 100_800), audio(92_190, 300)];
  const ts = muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], frames);
  const pcrs = scanPackets(ts).filter((p) => p.pcr !== undefined);
  assert.deepEqual(
    pcrs.map((p) => [p.pid, p.pcr]),
    [
      [PID_VIDEO, 90_000],
      [PID_VIDEO, 93_600],
    ],
  );
  assert.equal(pmtHeaders(ts, PID_PMT)[0]?.pcrPid, PID_VIDEO);
});

test('AUD and SPS/PPS (VPS) lead keyframes, AUD alone leads other frames, in-band AUDs are replaced', () => {
  for (const track of [H264_TEST_TRACK, H265_TRACK]) {
    const codec = track.codec as 'h264' | 'h265';
    const key = video(0, true, [700, 300], 0, codec);
    const delta = video(3600, false, [200], 7200, codec);
    const inBandAud = codec === 'h264' ? Buffer.from([0x09, 0x10]) : Buffer.from([0x46, 0x01, 0x10]);
    const withAud: Frame = { ...delta, dts: 7200, pts: 7200, units: [inBandAud, ...delta.units] };
    const units = accessUnits(demuxAll(muxAll([track], [key, delta, withAud])).pes);
    assert.equal(units.length, 3);
    const types = units.map((u) => u.units.map((n) => (codec === 'h264' ? n[0]! & 0x1f : (n[0]! >>> 1) & 0x3f)));
    if (codec === 'h264')
      assert.deepEqual(types, [
        [9, 7, 8, 5, 5],
        [9, 1],
        [9, 1],
      ]);
    else
      assert.deepEqual(types, [
        [35, 32, 33, 34, 19, 19],
        [35, 1],
        [35, 1],
      ]);
    assert.deepEqual(
      units.map((u) => u.payloadBytes),
      [expectedVideoSize(key, track), expectedVideoSize(delta, track), expectedVideoSize(withAud, track)],
    );
    assert.deepEqual(
      units.map((u) => [u.pts, u.dts, u.randomAccess]),
      [
        [0, 0, true],
        [7200, 3600, false],
        [7200, 7200, false],
      ],
    );
  }
});

test('a keyframe that carries its SPS in-band gets no second copy', () => {
  const sps = H264_TEST_TRACK.codec === 'h264' ? H264_TEST_TRACK.sps! : Buffer.alloc(0);
  const key: Frame = { ...video(0, true, [400]), units: [sps, Buffer.from([0x68, 0xce, 0x38, 0x80]), Buffer.alloc(400, 0x65)] };
  const [unit] = accessUnits(demuxAll(muxAll([H264_TEST_TRACK], [key])).pes);
  assert.deepEqual(
    unit!.units.map((n) => n[0]! & 0x1f),
    [9, 7, 8, 5],
  );
});

test('adaptation-field stuffing is right for every payload length, including 1- and 2-byte fields', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1200 }), fc.boolean(), (size, keyframe) => {
      const frame = video(1000, keyframe, [size]);
      const muxer = new TsMuxer();
      muxer.setTracks([H264_TEST_TRACK]);
      const head = muxer.frame(video(0, true, [10]))!.data; // the PSI goes with this one
      const ts = muxer.frame(frame)!.data;
      const unit = accessUnits(demuxAll(Buffer.concat([head, ts])).pes).at(-1);
      assert.equal(unit!.payloadBytes, expectedVideoSize(frame, H264_TEST_TRACK));
      assert.deepEqual(unit!.units.at(-1), frame.units[0]);
      assert.equal(unit!.randomAccess, keyframe);
    }),
    { numRuns: 300 },
  );
  // The two odd cases explicitly: the last packet needs exactly 1 and exactly 2 stuffing bytes.
  for (const left of [183, 182]) {
    const first = 184 - 8 - 14 - 6 - 4; // PCR adaptation, PES header, AUD, start code
    const frame = video(0, false, [first + left]);
    const muxer = new TsMuxer();
    muxer.setTracks([H264_TEST_TRACK]);
    muxer.frame(video(0, true, [10]));
    const ts = muxer.frame(frame)!.data;
    assert.equal(ts.length, 2 * TS_PACKET_SIZE);
    const last = ts.subarray(TS_PACKET_SIZE);
    assert.equal((last[3]! >>> 4) & 3, 3, 'adaptation field and payload');
    assert.equal(last[4], 184 - left - 1);
    if (left === 182) assert.equal(last[5], 0, 'flags byte with no flag set');
  }
});

test('PTS/DTS are 33-bit and wrap; timestamp fields round-trip every 33-bit value', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 33 - 1 }), fc.constantFrom(1, 2, 3), (ts, prefix) => {
      const buf = Buffer.alloc(5);
      writePesTimestamp(buf, 0, prefix, ts);
      assert.equal(buf[0]! >>> 4, prefix);
      assert.equal(buf[0]! & 1, 1);
      assert.equal(buf[2]! & 1, 1);
      assert.equal(buf[4]! & 1, 1);
      assert.equal(readPesTimestamp(buf, 0), ts);
    }),
  );
  const wrapAt = 2 ** 33;
  const frames = [video(wrapAt - 3600, true, [100], wrapAt + 3600), audio(wrapAt + 10, 50)];
  const ts = muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], frames);
  const units = accessUnits(demuxAll(ts).pes).sort((a, b) => a.pid - b.pid);
  assert.deepEqual(
    units.map((u) => [u.dts, u.pts]),
    [
      [wrapAt - 3600, 3600],
      [10, 10],
    ],
  );
  assert.deepEqual(
    scanPackets(ts).flatMap((p) => (p.pcr === undefined ? [] : [p.pcr])),
    [wrapAt - 3600],
  );
});

test('AAC frames get an ADTS header and a bounded PES length; without video, PCR and start points are on audio', () => {
  const muxer = new TsMuxer({ audioOnlyPsiIntervalTicks: 9000 });
  muxer.setTracks([AAC_TEST_TRACK]);
  const outs = [0, 2090, 4180, 6270, 8360, 10450].map((dts) => muxer.frame(audio(dts, 300))!);
  assert.deepEqual(
    outs.map((o) => o.randomAccess),
    [true, false, false, false, false, true],
  );
  const ts = Buffer.concat(outs.map((o) => o.data));
  const packets = scanPackets(ts);
  const pesStarts = packets.filter((p) => p.pid === PID_AUDIO && p.start);
  assert.equal(pesStarts.length, 6);
  assert.ok(
    pesStarts.every((p) => p.payload.readUInt16BE(4) === 3 + 5 + 7 + 300),
    'PES_packet_length as declared',
  );
  assert.deepEqual(
    packets.filter((p) => p.pcr !== undefined).map((p) => p.pid),
    [PID_AUDIO, PID_AUDIO, PID_AUDIO, PID_AUDIO, PID_AUDIO, PID_AUDIO],
  );
  const [first] = accessUnits(demuxAll(ts).pes);
  assert.equal(first!.units[0]!.length, 300);
  assert.equal(first!.payloadBytes, 307);
});

test('G.711 is left out of the program and its frames are counted', () => {
  const muxer = new TsMuxer();
  const change = muxer.setTracks([H264_TEST_TRACK, g711Track(1, 'g711a')]);
  assert.deepEqual(
    change.skipped.map((s) => s.codec),
    ['g711a'],
  );
  assert.equal(muxer.streams.length, 1);
  const g711: Frame = { trackId: 1, codec: 'g711a', dts: 0, pts: 0, keyframe: true, units: [Buffer.alloc(160)], byteLength: 160, receivedAt: 0 };
  assert.equal(muxer.frame(g711), undefined);
  assert.equal(muxer.frame(g711), undefined);
  assert.equal(muxer.skippedFrames, 2);
  const onlyG711 = new TsMuxer().setTracks([g711Track(0, 'g711u')]);
  assert.equal(onlyG711.skipped.length, 1);
});

test('a changed program gets a new PMT version at once; the same config does not', () => {
  const muxer = new TsMuxer();
  assert.equal(muxer.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]).changed, true);
  const first = muxer.frame(video(0, true, [100]))!.data;
  assert.equal(muxer.setTracks([{ ...H264_TEST_TRACK }, { ...AAC_TEST_TRACK }]).changed, false);
  const other: Track = { ...AAC_TEST_TRACK, asc: Buffer.from([0x11, 0x90]), sampleRate: 48000 } as Track;
  assert.equal(muxer.setTracks([H264_TEST_TRACK, other]).changed, true);
  const next = muxer.frame(audio(100, 20))!.data; // not a keyframe: the new PMT still comes first
  const versions = pmtHeaders(Buffer.concat([first, next]), PID_PMT).map((h) => h.version);
  assert.deepEqual(versions, [0, 1]);
});
