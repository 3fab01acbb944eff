import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { msAtX, nextSpan, pan, playableAt, ticks, xAtMs, zoomTo, ZOOM_SPANS_MS } from '../../../../web/src/pages/timeline-scale';

const DAY = { startMs: 1_700_000_000_000, endMs: 1_700_000_000_000 + 86_400_000 };

test('zooming keeps the instant under the pointer and stays inside the day', () => {
  const anchor = DAY.startMs + 6 * 3600_000;
  const view = zoomTo(DAY, 3600_000, anchor, DAY);
  assert.equal(view.endMs - view.startMs, 3600_000);
  assert.ok(Math.abs(msAtX(xAtMs(anchor, 1000, view), 1000, view) - anchor) < 1);
  assert.equal(xAtMs(anchor, 1000, view), xAtMs(anchor, 1000, DAY));
  const edge = zoomTo(DAY, 600_000, DAY.startMs, DAY);
  assert.equal(edge.startMs, DAY.startMs);
  assert.deepEqual(pan(edge, -5_000_000, DAY), edge, 'cannot pan before the day');
  assert.equal(nextSpan(DAY, 1), ZOOM_SPANS_MS[1]);
  assert.equal(nextSpan(DAY, -1), ZOOM_SPANS_MS[0]);
  assert.equal(nextSpan({ startMs: 0, endMs: 5 * 60_000 }, 1), 5 * 60_000, 'minutes is the closest');
});

test('a click plays there when recorded, else from the next recording', () => {
  const intervals = [
    { startMs: 100, endMs: 200 },
    { startMs: 300, endMs: 400 },
  ];
  assert.equal(playableAt(150, intervals), 150);
  assert.equal(playableAt(250, intervals), 300);
  assert.equal(playableAt(50, intervals), 100);
  assert.equal(playableAt(400, intervals), null);
});

test('ticks fall on round local times and are not too many', () => {
  const offset = 8 * 3600_000;
  const marks = ticks(DAY, 12, offset);
  assert.ok(marks.length <= 13 && marks.length >= 4);
  for (const t of marks) assert.equal((t + offset) % (3600_000 * 2), 0);
});

test('property: x and ms map back onto each other', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...ZOOM_SPANS_MS), (x, span) => {
      const view = zoomTo(DAY, span, DAY.startMs + 43_200_000, DAY);
      assert.ok(Math.abs(xAtMs(msAtX(x, 1000, view), 1000, view) - x) < 1e-6);
    }),
  );
});
