import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import type { Frame } from '../../../src/core/frame';
import { STREAM_TYPE, TS_PACKET_SIZE, TsDemuxer, TsMuxer } from '../../../src/formats/mpegts';
import { AAC_TEST_TRACK, H264_TEST_TRACK } from '../../helpers/hub-fixtures';
import { accessUnits, demuxAll, muxAll } from './helpers';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'mpegts');

test('third-party TS (ffmpeg): PAT, PMT, every PES and frame count as ffprobe counts them, no continuity gap', () => {
  for (const [file, videoType, videoFrames, audioFrames] of [
    ['ffmpeg-h264-aac.mpegts', STREAM_TYPE.H264, 50, 88],
    ['ffmpeg-h265-aac.mpegts', STREAM_TYPE.H265, 50, 95],
  ] as const) {
    const buf = readFileSync(join(FIXTURES, file));
    const events = demuxAll(buf, 1000); // slices that cut packets anywhere
    const pmt = events.find((e) => e.type === 'pmt');
    assert.ok(pmt?.type === 'pmt');
    assert.deepEqual(pmt.streams.map((s) => s.streamType), [videoType, STREAM_TYPE.AAC_ADTS]);
    assert.deepEqual(events.filter((e) => e.type === 'continuity'), []);
    const units = accessUnits(events);
    assert.equal(units.filter((u) => u.streamType === videoType).length, videoFrames);
    assert.equal(units.filter((u) => u.streamType === STREAM_TYPE.AAC_ADTS).reduce((n, u) => n + u.units.length, 0), audioFrames);
  }
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
        const first = i === 0;
        const keyframe = s.video && (s.keyframe || first);
        const unit = Buffer.alloc(s.size, (i % 200) + 1);
        if (s.video) unit[0] = keyframe ? 0x65 : 0x41;
        return s.video
          ? { trackId: 0, codec: 'h264', dts, pts: dts + s.cto, keyframe, units: [unit], byteLength: s.size, receivedAt: 0 }
          : { trackId: 1, codec: 'aac', dts, pts: dts, keyframe: true, units: [unit], byteLength: s.size, receivedAt: 0 };
      });
      const ts = muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], frames);
      const events = demuxAll(ts, slice);
      assert.deepEqual(events.filter((e) => e.type === 'continuity'), []);
      const units = accessUnits(events);
      const pick = (video: boolean) => units.filter((u) => (u.streamType === STREAM_TYPE.H264) === video);
      const wrap = (n: number) => n % 2 ** 33;
      for (const video of [true, false]) {
        const inFrames = frames.filter((f) => (f.codec === 'h264') === video);
        const out = pick(video);
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

function onlyParseErrors(input: Buffer): void {
  const demuxer = new TsDemuxer();
  try {
    demuxer.feed(input);
    demuxer.flush();
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
}

test('property: random bytes only ever throw a ParseError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 4 * TS_PACKET_SIZE }), (bytes) => onlyParseErrors(Buffer.from(bytes))), { numRuns: 2000 });
  // Random packets with a valid sync byte get past the first check.
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: TS_PACKET_SIZE - 1, maxLength: TS_PACKET_SIZE - 1 }), { maxLength: 6 }), (packets) => {
      onlyParseErrors(Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([0x47]), Buffer.from(p)]))));
    }),
    { numRuns: 1000 },
  );
});

test('property: mutated valid TS (ours and ffmpeg\'s) only ever throws a ParseError', () => {
  const muxer = new TsMuxer();
  const ours = muxAll([H264_TEST_TRACK, AAC_TEST_TRACK], [
    { trackId: 0, codec: 'h264', dts: 0, pts: 3600, keyframe: true, units: [Buffer.alloc(900, 0x65)], byteLength: 900, receivedAt: 0 },
    { trackId: 1, codec: 'aac', dts: 100, pts: 100, keyframe: true, units: [Buffer.alloc(200, 1)], byteLength: 200, receivedAt: 0 },
    { trackId: 0, codec: 'h264', dts: 3600, pts: 3600, keyframe: false, units: [Buffer.alloc(300, 0x41)], byteLength: 300, receivedAt: 0 },
  ], muxer);
  const theirs = readFileSync(join(FIXTURES, 'ffmpeg-h264-aac.mpegts')).subarray(0, 40 * TS_PACKET_SIZE);
  for (const valid of [ours, theirs]) {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }), fc.nat(valid.length), (edits, cut) => {
        const bytes = Buffer.from(valid.subarray(0, Math.max(1, cut)));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        onlyParseErrors(bytes);
      }),
      { numRuns: 1500 },
    );
  }
});

test('a PES larger than the cap is a ParseError, not unbounded memory', () => {
  const demuxer = new TsDemuxer();
  const muxer = new TsMuxer();
  muxer.setTracks([H264_TEST_TRACK]);
  const head = muxer.frame({ trackId: 0, codec: 'h264', dts: 0, pts: 0, keyframe: true, units: [Buffer.alloc(100, 0x65)], byteLength: 100, receivedAt: 0 })!.data;
  demuxer.feed(head);
  const follow = Buffer.alloc(TS_PACKET_SIZE, 0xaa); // full-payload continuation packets, never a new PUSI
  follow.set([0x47, 0x01, 0x00, 0x10]);
  assert.throws(() => {
    for (let i = 0; i < 100_000; i++) demuxer.feed(follow);
  }, ParseError);
});
