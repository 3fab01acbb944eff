import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimestampNormalizer, WrapUnwrapper, fromHubTicks, toHubTicks } from '../../src/core/time';

test('clock conversions round to the nearest tick', () => {
  assert.equal(toHubTicks(1024, 44100), 2090);
  assert.equal(toHubTicks(160, 8000), 1800);
  assert.equal(fromHubTicks(3600, 1000), 40);
  assert.equal(toHubTicks(123, 90000), 123);
});

test('32-bit RTP and 33-bit PTS clocks unwrap forwards and tolerate small steps back', () => {
  const rtp = new WrapUnwrapper(32);
  assert.equal(rtp.unwrap(2 ** 32 - 3000), 2 ** 32 - 3000);
  assert.equal(rtp.unwrap(600), 2 ** 32 + 600);
  assert.equal(rtp.unwrap(2 ** 32 - 100), 2 ** 32 - 100, 'a reordered packet from before the wrap');
  assert.equal(rtp.unwrap(4200), 2 ** 32 + 4200);
  const pts = new WrapUnwrapper(33);
  pts.unwrap(2 ** 33 - 1800);
  assert.equal(pts.unwrap(1800), 2 ** 33 + 1800);
});

test('the first dts is rebased to the start and composition offsets are kept', () => {
  const n = new TimestampNormalizer(1000);
  assert.deepEqual(n.normalize(0, 500_000, 503_600), { dts: 1000, pts: 4600 });
  assert.deepEqual(n.normalize(1, 500_900, 500_900), { dts: 1900, pts: 1900 });
  assert.deepEqual(n.normalize(0, 503_600, 510_800), { dts: 4600, pts: 11_800 });
});

test('a camera restarting at 0 continues the timeline one frame later', () => {
  const n = new TimestampNormalizer(0);
  for (let i = 0; i < 10; i++) n.normalize(0, 900_000 + i * 3600, 900_000 + i * 3600);
  const after = n.normalize(0, 0, 0);
  assert.equal(after.dts, 9 * 3600 + 3600);
  assert.equal(n.normalize(0, 3600, 3600).dts, after.dts + 3600);
});

test('a forward jump beyond the limit is smoothed to one frame step', () => {
  const n = new TimestampNormalizer(0, { maxJumpTicks: 90_000 });
  n.normalize(0, 0, 0);
  n.normalize(0, 3600, 3600);
  const jumped = n.normalize(0, 3600 + 3600 * 90_000, 3600 + 3600 * 90_000);
  assert.equal(jumped.dts, 7200);
});

test('continueAfter makes a restarted source follow the last dts', () => {
  const n = new TimestampNormalizer(0);
  n.normalize(0, 0, 0);
  n.continueAfter(50_000);
  assert.equal(n.normalize(0, 123_456, 123_456).dts, 50_000 + 3600);
});

test('property: for any input, dts per track never decreases and pts >= dts', () => {
  const sample = fc.record({ track: fc.integer({ min: 0, max: 2 }), dts: fc.integer({ min: -(2 ** 33), max: 2 ** 33 }), cto: fc.integer({ min: -90_000, max: 90_000 }) });
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.array(sample, { maxLength: 200 }), (start, frames) => {
      const n = new TimestampNormalizer(start);
      const last = new Map<number, number>();
      for (const f of frames) {
        const out = n.normalize(f.track, f.dts, f.dts + f.cto);
        assert.ok(Number.isFinite(out.dts) && out.pts >= out.dts);
        assert.ok(out.dts >= (last.get(f.track) ?? -Infinity), 'dts went back');
        assert.ok(out.dts >= start);
        last.set(f.track, out.dts);
      }
    }),
    { numRuns: 300 },
  );
});
