import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Frame } from '../../../src/core/frame';
import { STREAM_TYPE, TS_PACKET_SIZE, TsDemuxer, TsMuxer, looksLikeTs, parsePat, parsePmt } from '../../../src/formats/mpegts';
import { MAX_ACCESS_UNIT_BYTES } from '../../../rtp/es/video-es';
import { EsAssembler } from '../../../rtp/es/es-assembler';
import type { AccessUnit } from '../../../rtp/access-unit';
import { AAC_TEST_TRACK, H264_TEST_TRACK } from '../../helpers/hub-fixtures';
import { fixture, parseErrorOnly, rng } from '../../rtp/helpers';
import { PesCollector, accessUnits, demuxAll, muxAll } from './helpers';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'mpegts');

/**
 * Third-party TS: ffmpeg with B-frames and the SDT removed (fixtures/mpegts, counted with
 * ffprobe), and ffmpeg 4.1 without B-frames, SDT kept (fixtures/ts, counted with ffmpeg).
 */
const THIRD_PARTY = [
  { file: join(FIXTURES, 'ffmpeg-h264-aac.mpegts'), videoType: STREAM_TYPE.H264, video: 'h264', audio: 88 },
  { file: join(FIXTURES, 'ffmpeg-h265-aac.mpegts'), videoType: STREAM_TYPE.H265, video: 'h265', audio: 95 },
  { file: 'ffmpeg-h264-aac.ts', videoType: STREAM_TYPE.H264, video: 'h264', audio: 88 },
  { file: 'ffmpeg-h265-aac.ts', videoType: STREAM_TYPE.H265, video: 'h265', audio: 95 },
] as const;

const load = (file: string): Buffer => (file.includes('/') ? readFileSync(file) : fixture('ts', file));

function assemble(ts: Buffer, chunk = 1316, drop?: (i: number) => boolean): { aus: AccessUnit[]; demuxer: TsDemuxer } {
  const aus: AccessUnit[] = [];
  const es = new EsAssembler({ onAccessUnit: (au) => aus.push(au) }, { earlyFlush: false });
  const demuxer = new TsDemuxer(es);
  for (let o = 0, i = 0; o < ts.length; o += chunk, i++) {
    if (drop?.(i)) continue;
    demuxer.feed(ts.subarray(o, o + chunk));
  }
  demuxer.flush();
  es.end();
  return { aus, demuxer };
}

for (const c of THIRD_PARTY) {
  const name = c.file.split('/').at(-1)!;
  test(`${name}: PMT, every PES and frame count as ffmpeg counts them, no continuity gap, whatever the slicing`, () => {
    const ts = load(c.file);
    for (const slice of [188, 1000, 1316, 7]) {
      const { streams, pes, stats } = demuxAll(ts, slice);
      assert.deepEqual(
        streams.map((s) => s.streamType),
        [c.videoType, STREAM_TYPE.AAC_ADTS],
      );
      assert.equal(stats.continuityErrors, 0);
      assert.equal(stats.errors, 0);
      const units = accessUnits(pes);
      assert.equal(units.filter((u) => u.streamType === c.videoType).length, 50, `slice ${slice}`);
      assert.equal(
        units.filter((u) => u.streamType === STREAM_TYPE.AAC_ADTS).reduce((n, u) => n + u.units.length, 0),
        c.audio,
      );
      assert.ok(units.filter((u) => u.streamType === c.videoType && u.randomAccess).length >= 2, 'keyframes carry random_access_indicator');
    }
  });

  test(`${name}: through the ES assembler, 50 video and ${c.audio} audio access units`, () => {
    const { aus, demuxer } = assemble(load(c.file));
    const video = aus.filter((a) => a.kind === 'video');
    assert.equal(video.length, 50);
    assert.equal(aus.filter((a) => a.kind === 'audio').length, c.audio);
    assert.ok(video.every((v) => v.codec === c.video));
    assert.equal(demuxer.stats.errors, 0);
  });
}

test('ffmpeg 4.1 without B-frames: video DTS 3600 ticks apart', () => {
  const video = assemble(fixture('ts', 'ffmpeg-h264-aac.ts')).aus.filter((a) => a.kind === 'video');
  for (let i = 1; i < video.length; i++) assert.equal(video[i]!.dts - video[i - 1]!.dts, 3600);
});

test('looksLikeTs: whole 188-byte packets opening with 0x47', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  assert.equal(looksLikeTs(ts.subarray(0, 188 * 7)), true);
  assert.equal(looksLikeTs(ts.subarray(0, 188 * 7 - 1)), false);
  assert.equal(looksLikeTs(Buffer.from([0, 0, 1, 0xba])), false);
});

test('parses the PAT and PMT ffmpeg writes', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  // packet 0 is the SDT, then PAT and PMT (pointer_field 0 each)
  assert.deepEqual(parsePat(ts.subarray(188 + 5, 376)), [{ program: 1, pid: 0x1000 }]);
  assert.deepEqual(parsePmt(ts.subarray(376, 564).subarray(5)), [
    { streamType: 0x1b, pid: 0x100 },
    { streamType: 0x0f, pid: 0x101 },
  ]);
});

test('garbage between packets is skipped; a lost TS packet drops only the broken PES', () => {
  const ts = fixture('ts', 'ffmpeg-h264-aac.ts');
  const withGarbage = Buffer.concat([ts.subarray(0, 188 * 30), Buffer.from('deadbeef4700', 'hex'), ts.subarray(188 * 30)]);
  const g = assemble(withGarbage);
  assert.equal(g.demuxer.stats.garbageBytes, 6);
  assert.ok(g.aus.filter((a) => a.kind === 'video').length >= 49);
  const lossy = assemble(ts, 188, (i) => i === 100);
  assert.equal(lossy.demuxer.stats.continuityErrors, 1);
  const video = lossy.aus.filter((a) => a.kind === 'video').length;
  assert.ok(video >= 48 && video < 50, `video ${video}`);
});

test('mux then demux gives back every frame (random sizes, times, keyframes, slicing)', () => {
  const frameArb = fc.record({
    video: fc.boolean(),
    keyframe: fc.boolean(),
    size: fc.integer({ min: 1, max: 3000 }),
    step: fc.integer({ min: 0, max: 9000 }),
    cto: fc.integer({ min: 0, max: 9000 }),
  });
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 2000 }), fc.nat(2 ** 33 + 5), (specs, slice, start) => {
      let dts = start;
      const frames: Frame[] = specs.map((s, i) => {
        dts += s.step;
        const keyframe = s.video && (s.keyframe || i === 0);
        const unit = Buffer.alloc(s.size, (i % 200) + 1);
        if (s.video) unit[0] = keyframe ? 0x65 : 0x41;
        return s.video
          ? { trackId: 0, codec: 'h264', dts, pts: dts + s.cto, keyframe, units: [unit], byteLength: s.size, receivedAt: 0 }
          : { trackId: 1, codec: 'aac', dts, pts: dts, keyframe: true, units: [unit], byteLength: s.size, receivedAt: 0 };
      });
      const { pes, stats } = demuxAll(muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], frames), slice);
      assert.equal(stats.continuityErrors, 0);
      const units = accessUnits(pes);
      const wrap = (n: number) => n % 2 ** 33;
      for (const video of [true, false]) {
        const inFrames = frames.filter((f) => (f.codec === 'h264') === video);
        const out = units.filter((u) => (u.streamType === STREAM_TYPE.H264) === video);
        assert.equal(out.length, inFrames.length);
        out.forEach((u, i) => {
          const f = inFrames[i]!;
          assert.equal(u.dts, wrap(f.dts));
          assert.equal(u.pts, wrap(f.pts));
          assert.deepEqual(u.units.at(-1), f.units[0]);
          if (video) assert.equal(u.randomAccess, f.keyframe);
        });
      }
    }),
    { numRuns: 150 },
  );
});

function neverThrows(input: Buffer, slice = input.length || 1): void {
  const demuxer = new TsDemuxer(new PesCollector());
  for (let o = 0; o < input.length; o += slice) demuxer.feed(input.subarray(o, o + slice));
  demuxer.flush();
}

test('fuzz: random bytes and random packets never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4 * TS_PACKET_SIZE }), (bytes) => neverThrows(Buffer.from(bytes))),
    { numRuns: 2000 },
  );
  // Random packets with a valid sync byte get past the first check.
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 6 }), (chunks) => {
      const demuxer = new TsDemuxer(new EsAssembler({ onAccessUnit: () => undefined }));
      for (const c of chunks) demuxer.feed(Buffer.from([0x47, ...c]));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parseErrorOnly(() => parsePmt(Buffer.from([0x02, ...bytes])))),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => parseErrorOnly(() => parsePat(Buffer.from([0x00, ...bytes])))),
    { numRuns: 1000 },
  );
});

test("fuzz: mutated valid TS (ours, ffmpeg's) never throws, sliced anywhere", () => {
  const ours = muxAll(
    [H264_TEST_TRACK, AAC_TEST_TRACK],
    [
      { trackId: 0, codec: 'h264', dts: 0, pts: 3600, keyframe: true, units: [Buffer.alloc(900, 0x65)], byteLength: 900, receivedAt: 0 },
      { trackId: 1, codec: 'aac', dts: 100, pts: 100, keyframe: true, units: [Buffer.alloc(200, 1)], byteLength: 200, receivedAt: 0 },
      { trackId: 0, codec: 'h264', dts: 3600, pts: 3600, keyframe: false, units: [Buffer.alloc(300, 0x41)], byteLength: 300, receivedAt: 0 },
    ],
  );
  const theirs = readFileSync(join(FIXTURES, 'ffmpeg-h264-aac.mpegts')).subarray(0, 40 * TS_PACKET_SIZE);
  const older = fixture('ts', 'ffmpeg-h264-aac.ts').subarray(0, 60 * TS_PACKET_SIZE);
  for (const valid of [ours, theirs]) {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), fc.nat(valid.length), (edits, cut) => {
        const bytes = Buffer.from(valid.subarray(0, Math.max(1, cut)));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        neverThrows(bytes);
      }),
      { numRuns: 1500 },
    );
  }
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const random = rng(seed);
      const b = Buffer.from(older);
      for (let k = 0; k < 20; k++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      assemble(b, 1 + Math.floor(random() * 2000));
    }),
    { numRuns: 200 },
  );
});

test('a PES that never ends costs bounded memory: the demuxer streams it, the assembler drops it at its cap', () => {
  const aus: AccessUnit[] = [];
  const es = new EsAssembler({ onAccessUnit: (au) => aus.push(au) }, { earlyFlush: false });
  const demuxer = new TsDemuxer(es);
  const muxer = new TsMuxer();
  muxer.setTracks([H264_TEST_TRACK]);
  demuxer.feed(muxer.frame({ trackId: 0, codec: 'h264', dts: 0, pts: 0, keyframe: true, units: [Buffer.alloc(100, 0x65)], byteLength: 100, receivedAt: 0 })!.data);
  const follow = Buffer.alloc(TS_PACKET_SIZE, 0xaa); // full-payload continuation packets, never a new PUSI
  follow.set([0x47, 0x01, 0x00]);
  const packets = Math.ceil((MAX_ACCESS_UNIT_BYTES * 1.5) / 184);
  for (let i = 0; i < packets; i++) {
    follow[3] = 0x10 | ((i + 1) & 0x0f);
    demuxer.feed(follow);
  }
  assert.equal(demuxer.stats.continuityErrors, 0);
  assert.ok(es.stats.droppedBytes > 0, 'the access unit over the cap is dropped');
  assert.equal(aus.length, 0);
});
