import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeIntervals, planFrom, planRange, type PlanSegment, type SegmentFormat } from '../../../src/protocols/playback/range-plan';

function segment(id: number, format: SegmentFormat, startMs: number, durationMs: number, extra: Partial<PlanSegment> = {}): PlanSegment {
  return {
    id,
    format,
    file: `live/cam/${id}.${format}`,
    startMs,
    endMs: startMs + durationMs,
    bytes: durationMs * 250,
    keyframes: Math.max(1, Math.round(durationMs / 1000)),
    videoCodec: 'h264',
    width: 320,
    height: 240,
    audioCodec: 'aac',
    ...extra,
  };
}

test('three 15 s segments, a range from mid-first to mid-third: three parts, the first with a byte offset two GOPs early', () => {
  const segs = [segment(1, 'flv', 0, 15_000), segment(2, 'flv', 15_000, 15_000), segment(3, 'flv', 30_000, 15_000)];
  const plan = planRange(segs, 7_000, 37_000);
  assert.deepEqual(
    plan.parts.map((p) => [p.segment.id, p.fromMs, p.toMs, p.startByte, p.closedMs, p.discontinuity]),
    [
      [1, 7_000, 15_000, 5_000 * 250, 0, undefined],
      [2, 15_000, 30_000, 0, 0, undefined],
      [3, 30_000, 37_000, 0, 0, undefined],
    ],
  );
  assert.deepEqual(plan.gaps, []);
});

test('a 10 s hole is a gap, closed in the output timeline; a codec change is a discontinuity', () => {
  const segs = [segment(1, 'ts', 0, 15_000), segment(2, 'ts', 25_000, 15_000), segment(3, 'ts', 40_000, 15_000, { videoCodec: 'h265' })];
  const plan = planRange(segs, 0, 60_000);
  assert.deepEqual(plan.gaps, [{ startMs: 15_000, endMs: 25_000 }]);
  assert.deepEqual(
    plan.parts.map((p) => [p.closedMs, p.discontinuity]),
    [
      [0, undefined],
      [10_000, 'gap'],
      [10_000, 'codec'],
    ],
  );
  assert.equal(plan.endMs, 55_000);
});

test('nothing overlapping is an empty plan', () => {
  assert.equal(planRange([segment(1, 'flv', 0, 1000)], 5000, 6000).parts.length, 0);
});

const layoutArb = fc.array(
  fc.record({
    format: fc.constantFrom<SegmentFormat>('flv', 'ts'),
    start: fc.integer({ min: 0, max: 600_000 }),
    duration: fc.integer({ min: 1, max: 120_000 }),
    keyframes: fc.integer({ min: 0, max: 200 }),
    bytes: fc.integer({ min: 0, max: 50_000_000 }),
  }),
  { minLength: 0, maxLength: 30 },
);

test('property: parts are ordered, disjoint, inside their segments and the range; parts + gaps + small holes cover the plan; byte offsets precede the start', () => {
  fc.assert(
    fc.property(layoutArb, fc.integer({ min: 0, max: 700_000 }), fc.integer({ min: 1, max: 700_000 }), fc.integer({ min: 0, max: 5000 }), (raw, start, length, tolerance) => {
      const segs = raw.map((r, i) => segment(i + 1, r.format, r.start, r.duration, { keyframes: r.keyframes, bytes: r.bytes }));
      const end = start + length;
      const plan = planRange(segs, start, end, { gapToleranceMs: tolerance, prefer: ['flv'] });
      const formats = new Set(plan.parts.map((p) => p.segment.format));
      assert.ok(formats.size <= 1, 'one format');
      let cursor: number | undefined;
      let closed = 0;
      let gapIndex = 0;
      for (const part of plan.parts) {
        assert.ok(part.fromMs < part.toMs);
        assert.ok(part.fromMs >= Math.max(start, part.segment.startMs) && part.toMs <= Math.min(end, part.segment.endMs));
        if (cursor !== undefined) {
          assert.ok(part.fromMs >= cursor, 'ordered and disjoint');
          const hole = part.fromMs - cursor;
          if (hole > tolerance) {
            assert.deepEqual(plan.gaps[gapIndex++], { startMs: cursor, endMs: part.fromMs });
            closed += hole;
            assert.equal(part.discontinuity, 'gap');
          }
        }
        assert.equal(part.closedMs, closed);
        assert.ok(part.startByte >= 0 && part.startByte <= part.segment.bytes);
        if (part.segment.format === 'ts') assert.equal(part.startByte % 188, 0);
        if (part.startByte > 0) {
          const seg = part.segment;
          const at = seg.startMs + (part.startByte / seg.bytes) * (seg.endMs - seg.startMs);
          assert.ok(at <= part.fromMs - (seg.endMs - seg.startMs) / seg.keyframes + 1e-6, 'at least one GOP before the start');
        }
        cursor = part.toMs;
      }
      assert.equal(gapIndex, plan.gaps.length);
      // Complete: every instant of the range covered by a segment of the chosen format is in a part.
      const format = [...formats][0];
      for (const s of segs.filter((x) => x.format === format)) {
        for (const t of [Math.max(s.startMs, start), Math.min(s.endMs, end) - 1]) {
          if (t < Math.max(s.startMs, start) || t >= Math.min(s.endMs, end)) continue;
          assert.ok(
            plan.parts.some((p) => p.fromMs <= t && t < p.toMs),
            `instant ${t} of segment ${s.id} is played`,
          );
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('property: merged intervals are sorted, apart by more than the tolerance, and cover exactly the segments', () => {
  fc.assert(
    fc.property(layoutArb, fc.integer({ min: 0, max: 2000 }), (raw, tolerance) => {
      const segs = raw.map((r) => ({ startMs: r.start, endMs: r.start + r.duration }));
      const merged = mergeIntervals(segs, 0, 1_000_000, tolerance);
      for (let i = 1; i < merged.length; i++) assert.ok(merged[i]!.startMs - merged[i - 1]!.endMs > tolerance);
      for (const s of segs) assert.ok(merged.some((m) => m.startMs <= s.startMs && s.endMs <= m.endMs));
      for (const m of merged) {
        assert.ok(segs.some((s) => s.startMs === m.startMs));
        assert.ok(segs.some((s) => s.endMs === m.endMs));
      }
    }),
    { numRuns: 300 },
  );
});

test('planFrom: 2 s into a range whose first frame is 300 ms before its start, and past a closed gap', () => {
  const segs = [segment(1, 'flv', 0, 15_000), segment(2, 'flv', 25_000, 15_000)];
  const plan = planRange(segs, 7_000, 35_000);
  const origin = 6_700;
  const early = planFrom(plan, origin, 2_000)!;
  assert.equal(early.fromWallMs, 8_700);
  assert.equal(early.plan.parts.length, 2);
  assert.equal(early.plan.parts[0]!.discontinuity, undefined);
  assert.deepEqual(early.plan.gaps, plan.gaps);
  // 8.3 s of the first segment play from 6.7 s, the gap is closed: 10 s in is 2 s into the second.
  const late = planFrom(plan, origin, 10_300)!;
  assert.equal(late.fromWallMs, 27_000);
  assert.deepEqual(late.plan.gaps, []);
  assert.equal(late.plan.parts[0]!.closedMs, 10_000);
  assert.equal(planFrom(plan, origin, 18_300), undefined, 'past the end');
});

test('property: planFrom lands on the asked instant of the output timeline, keeps the later parts and their gaps, is undefined only past the end', () => {
  fc.assert(
    fc.property(
      layoutArb,
      fc.integer({ min: 0, max: 700_000 }),
      fc.integer({ min: 1, max: 700_000 }),
      fc.integer({ min: 0, max: 2000 }),
      fc.double({ min: 0, max: 1.2, noNaN: true }),
      (raw, start, length, early, fraction) => {
        const segs = raw.map((r, i) => segment(i + 1, r.format, r.start, r.duration, { keyframes: r.keyframes, bytes: r.bytes }));
        const plan = planRange(segs, start, start + length, { prefer: ['flv'] });
        const first = plan.parts[0];
        const last = plan.parts.at(-1);
        if (!first || !last) return;
        const origin = Math.max(first.segment.startMs, first.fromMs - early);
        const outputEnd = last.toMs - last.closedMs - origin;
        const at = Math.round(fraction * outputEnd);
        const rest = planFrom(plan, origin, at);
        if (at >= outputEnd) {
          assert.equal(rest, undefined);
          return;
        }
        assert.ok(rest, `at ${at} of ${outputEnd}`);
        const head = rest.plan.parts[0]!;
        assert.ok(head.fromMs < head.toMs && head.fromMs >= Math.min(origin, head.segment.startMs) && head.toMs <= head.segment.endMs);
        assert.equal(head.fromMs, rest.fromWallMs);
        const out = rest.fromWallMs - head.closedMs - origin;
        assert.ok(out >= at && out - at <= 1000, `output ${out} for at ${at} (a hole under the tolerance may be skipped)`);
        const index = plan.parts.findIndex((p) => p.segment === head.segment && p.toMs === head.toMs && p.closedMs === head.closedMs);
        assert.ok(index >= 0);
        assert.deepEqual(rest.plan.parts.slice(1), plan.parts.slice(index + 1));
        assert.equal(rest.plan.gaps.length, rest.plan.parts.filter((p) => p.discontinuity === 'gap').length, 'one gap per gap part, as readRange takes them');
        assert.ok(head.startByte >= 0 && head.startByte <= head.segment.bytes);
      },
    ),
    { numRuns: 500 },
  );
});
