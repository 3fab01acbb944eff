import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localDayBounds, zonedParts, zonedToEpoch } from '../../src/core/zoned-time';

test('zoned time: parts and back, across Berlin DST in spring and autumn', () => {
  const tz = 'Europe/Berlin';
  assert.equal(zonedToEpoch(2026, 1, 15, 8, 0, 0, tz), Date.UTC(2026, 0, 15, 7, 0, 0));
  assert.equal(zonedToEpoch(2026, 7, 15, 8, 0, 0, tz), Date.UTC(2026, 6, 15, 6, 0, 0));
  // 2026-03-29 02:30 does not exist (02:00 -> 03:00): resolves past the gap, to 03:30 CEST.
  assert.equal(zonedToEpoch(2026, 3, 29, 2, 30, 0, tz), Date.UTC(2026, 2, 29, 1, 30, 0));
  // 2026-10-25 02:30 happens twice: the first one (CEST) is taken.
  assert.equal(zonedToEpoch(2026, 10, 25, 2, 30, 0, tz), Date.UTC(2026, 9, 25, 0, 30, 0));
  const p = zonedParts(Date.UTC(2026, 9, 25, 1, 30, 0), tz);
  assert.deepEqual([p.hour, p.minute, p.weekday], [2, 30, 0]);
  const spring = localDayBounds(Date.UTC(2026, 2, 29, 12), tz);
  assert.equal(spring.end - spring.start, 23 * 3_600_000, 'the spring day has 23 hours');
  assert.equal(spring.date, '2026-03-29');
  const autumn = localDayBounds(Date.UTC(2026, 9, 25, 12), tz);
  assert.equal(autumn.end - autumn.start, 25 * 3_600_000, 'the autumn day has 25 hours');
  assert.equal(zonedToEpoch(2026, 1, 1, 0, 0, 0, 'UTC'), Date.UTC(2026, 0, 1));
});
