import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dayBounds, localClock, localDate } from '../../../../web/src/pages/zoned-day';
import { localDayBounds, zonedToEpoch } from '../../../../src/core/zoned-time';

test('local days agree with the server for fixed, DST and far-east zones', () => {
  for (const zone of ['UTC', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati']) {
    for (const date of ['2026-01-15', '2026-03-08', '2026-03-29', '2026-10-25', '2026-11-01', '2026-12-31']) {
      const [y, m, d] = date.split('-').map(Number) as [number, number, number];
      const bounds = dayBounds(date, zone);
      assert.equal(bounds.startMs, zonedToEpoch(y, m, d, 0, 0, 0, zone), `${zone} ${date}`);
      const server = localDayBounds(bounds.startMs + 3600_000, zone);
      assert.deepEqual([bounds.startMs, bounds.endMs], [server.start, server.end], `${zone} ${date}`);
      assert.equal(localDate(bounds.startMs, zone), date);
      assert.equal(localClock(bounds.startMs, zone), '00:00:00');
    }
  }
});
