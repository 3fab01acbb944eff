import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HlsSegmenter, type SegmentInput } from '../../../src/formats/hls';

function chunk(dts: number, randomAccess: boolean, options: { video?: boolean; discontinuity?: boolean; tag?: number } = {}): SegmentInput {
  return { data: Buffer.from([options.tag ?? (randomAccess ? 0xaa : 0x11)]), randomAccess, dts, video: options.video ?? true, discontinuity: options.discontinuity ?? false };
}

/** 25 fps video, a keyframe every `gop` frames, plus audio between frames. */
function feed(segmenter: HlsSegmenter, frames: number, gop: number, start = 0): void {
  for (let i = 0; i < frames; i++) {
    segmenter.push(chunk(start + i * 3600, i % gop === 0), 1_700_000_000_000 + i * 40);
    segmenter.push(chunk(start + i * 3600 + 1000, false, { video: false }));
  }
}

test('segments start at keyframes and are cut at the first one after segmentSeconds', () => {
  const s = new HlsSegmenter({ targetSeconds: 2, windowSegments: 6 });
  feed(s, 25 * 9 + 1, 25); // 9 s of 1 s GOPs, plus the keyframe that closes the last one
  assert.deepEqual(
    s.segments.map((x) => x.duration),
    [2, 2, 2, 2],
  );
  assert.deepEqual(
    s.segments.map((x) => x.sequence),
    [0, 1, 2, 3],
  );
  assert.ok(
    s.segments.every((x) => x.data[0] === 0xaa),
    'each starts with the random access chunk',
  );
  assert.equal(s.segments[0]!.data.length, 100, '50 video + 50 audio chunks');
  assert.equal(s.segments[1]!.programDateTime, 1_700_000_000_000 + 50 * 40);
  assert.equal(s.targetDuration, 2);
});

test('a GOP longer than the target makes longer segments and raises the target duration (never lowers it)', () => {
  const s = new HlsSegmenter({ targetSeconds: 2, windowSegments: 6 });
  feed(s, 75 * 3 + 1, 75); // 3 s GOPs
  assert.deepEqual(
    s.segments.map((x) => x.duration),
    [3, 3, 3],
  );
  assert.equal(s.targetDuration, 3);
  feed(s, 25 * 6 + 1, 25, 226 * 3600);
  assert.deepEqual(
    s.segments.slice(3).map((x) => x.duration),
    [2.04, 2, 2],
  );
  assert.equal(s.targetDuration, 3);
});

test('chunks before the first random access point are dropped', () => {
  const s = new HlsSegmenter({ targetSeconds: 1, windowSegments: 3 });
  s.push(chunk(0, false));
  s.push(chunk(3600, false));
  assert.equal(s.dropped, 2);
  s.push(chunk(7200, true));
  s.push(chunk(7200 + 90_000, true));
  assert.equal(s.segments.length, 1);
  assert.equal(s.segments[0]!.duration, 1);
});

test('a sliding window of windowSegments, older ones kept a little longer, then gone', () => {
  const s = new HlsSegmenter({ targetSeconds: 1, windowSegments: 3, extraSegments: 2 });
  feed(s, 25 * 10 + 1, 25);
  assert.deepEqual(
    s.window.map((x) => x.sequence),
    [7, 8, 9],
  );
  assert.deepEqual(
    s.segments.map((x) => x.sequence),
    [5, 6, 7, 8, 9],
  );
  assert.equal(s.segment(5)?.sequence, 5);
  assert.equal(s.segment(4), undefined);
  assert.equal(s.segment(10), undefined);
});

test('a discontinuity cuts at once and counts; markDiscontinuity closes the open segment', () => {
  const s = new HlsSegmenter({ targetSeconds: 2, windowSegments: 6 });
  feed(s, 30, 25);
  s.push(chunk(30 * 3600, true, { discontinuity: true }));
  assert.equal(s.segments.length, 1);
  assert.equal(s.segments[0]!.duration, 30 * 0.04);
  s.push(chunk(31 * 3600, false));
  s.markDiscontinuity();
  assert.equal(s.segments.length, 2);
  assert.equal(s.segments[1]!.discontinuity, true);
  assert.equal(s.segments[1]!.discontinuitySequence, 1);
  assert.equal(s.segments[1]!.duration, 0.08, 'the last frame lasts as long as the one before');
  s.push(chunk(0, true)); // the source came back with its clock restarted
  s.push(chunk(2 * 90_000, true));
  assert.equal(s.segments[2]!.discontinuity, true);
  assert.equal(s.segments[2]!.discontinuitySequence, 2);
  assert.equal(s.segments[0]!.discontinuity, false);
});

test('audio-only streams are timed and cut on audio', () => {
  const s = new HlsSegmenter({ targetSeconds: 1, windowSegments: 6 });
  for (let i = 0; i < 200; i++) s.push(chunk(i * 1920, i % 12 === 0, { video: false }));
  assert.ok(s.segments.length >= 3);
  assert.ok(
    s.segments.every((x) => x.duration >= 1 && x.duration < 1.3),
    s.segments.map((x) => x.duration).join(),
  );
});

test('a stream without keyframes is still cut at maxSegmentSeconds', () => {
  const s = new HlsSegmenter({ targetSeconds: 1, windowSegments: 6, maxSegmentSeconds: 4 });
  s.push(chunk(0, true));
  for (let i = 1; i < 300; i++) s.push(chunk(i * 3600, false));
  assert.deepEqual(
    s.segments.map((x) => x.duration),
    [4, 4],
  );
});

test('property: segments hold every chunk from the first random access point, in order, and their durations add up', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ step: fc.integer({ min: 0, max: 20_000 }), ra: fc.boolean(), video: fc.boolean(), disc: fc.boolean() }), { minLength: 1, maxLength: 300 }),
      fc.double({ min: 0.5, max: 4, noNaN: true }),
      (specs, target) => {
        const s = new HlsSegmenter({ targetSeconds: target, windowSegments: 2, extraSegments: 10_000 });
        let dts = 0;
        const pushed: number[] = [];
        let started = false;
        specs.forEach((spec, i) => {
          dts += spec.step;
          const c = { data: Buffer.from([i & 0xff, i >> 8]), randomAccess: spec.ra, dts, video: true, discontinuity: spec.disc && spec.ra };
          if (started || c.randomAccess) {
            started = true;
            pushed.push(i);
          }
          s.push(c);
        });
        s.flush();
        const got: number[] = [];
        for (const seg of s.segments) for (let i = 0; i < seg.data.length; i += 2) got.push(seg.data[i]! | (seg.data[i + 1]! << 8));
        assert.deepEqual(got, pushed);
        for (const seg of s.segments) assert.ok(Math.round(seg.duration) <= s.targetDuration);
        assert.deepEqual(
          s.segments.map((x) => x.sequence),
          s.segments.map((_, i) => i),
        );
      },
    ),
    { numRuns: 300 },
  );
});
