import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule, parseWeekly } from '../../../src/app/recording/schedule';
import { zonedToEpoch } from '../../../src/core/zoned-time';

const TZ = 'Europe/Berlin';
const at = (y: number, mo: number, d: number, h: number, mi: number, s = 0): number => zonedToEpoch(y, mo, d, h, mi, s, TZ);
const plan = (fields: { when: 'always' | 'weekly' | 'cron'; weekly?: string; cron?: string; duration?: number }) => ({ weekly: '', cron: '', duration: 0, ...fields });

/** Walks an injected clock from `from` to `to` in `stepMs` and returns the [open, close) spans it saw. */
function spans(window: (now: number) => { active: boolean }, from: number, to: number, stepMs: number): [number, number][] {
  const out: [number, number][] = [];
  let openAt: number | undefined;
  for (let now = from; now <= to; now += stepMs) {
    const active = window(now).active;
    if (active && openAt === undefined) openAt = now;
    if (!active && openAt !== undefined) {
      out.push([openAt, now]);
      openAt = undefined;
    }
  }
  if (openAt !== undefined) out.push([openAt, to]);
  return out;
}

test('weekly: mon-fri 08:00-18:00 opens five times a week at local 08:00, with until and next', () => {
  const window = compileSchedule(plan({ when: 'weekly', weekly: 'mon-fri 08:00-18:00' }), TZ);
  // Monday 2026-06-01 .. Sunday 2026-06-07, one-minute steps.
  const seen = spans(window, at(2026, 6, 1, 0, 0), at(2026, 6, 8, 0, 0), 60_000);
  assert.equal(seen.length, 5);
  for (const [i, [open, close]] of seen.entries()) {
    assert.equal(open, at(2026, 6, 1 + i, 8, 0));
    assert.equal(close, at(2026, 6, 1 + i, 18, 0));
  }
  assert.deepEqual(window(at(2026, 6, 1, 9, 0)), { active: true, until: at(2026, 6, 1, 18, 0) });
  assert.deepEqual(window(at(2026, 6, 5, 19, 0)), { active: false, next: at(2026, 6, 8, 8, 0) }, 'Friday evening: next is Monday 08:00');
});

test('weekly: a range past midnight and several ranges per day', () => {
  const window = compileSchedule(plan({ when: 'weekly', weekly: 'sat 22:00-06:00; sun 10:00-11:00, 14:00-15:00' }), TZ);
  const seen = spans(window, at(2026, 6, 6, 0, 0), at(2026, 6, 8, 0, 0), 60_000);
  assert.deepEqual(seen, [
    [at(2026, 6, 6, 22, 0), at(2026, 6, 7, 6, 0)],
    [at(2026, 6, 7, 10, 0), at(2026, 6, 7, 11, 0)],
    [at(2026, 6, 7, 14, 0), at(2026, 6, 7, 15, 0)],
  ]);
  assert.throws(() => parseWeekly('funday 08:00-09:00'), /weekday/);
  assert.throws(() => parseWeekly('mon 25:00-26:00'), /HH:MM/);
  assert.throws(() => parseWeekly('mon 08:00-08:00'), /empty/);
});

test('weekly across DST: the 01:00-04:00 window is one window on both change days (neither skipped nor doubled)', () => {
  const window = compileSchedule(plan({ when: 'weekly', weekly: 'sun 01:00-04:00' }), TZ);
  // Spring forward 2026-03-29 (02:00 -> 03:00): 2 real hours.
  const spring = spans(window, at(2026, 3, 28, 12, 0), at(2026, 3, 29, 12, 0), 60_000);
  assert.equal(spring.length, 1);
  assert.equal(spring[0]![1] - spring[0]![0], 2 * 3_600_000);
  // Fall back 2026-10-25 (03:00 -> 02:00): 4 real hours, still one window.
  const autumn = spans(window, Date.UTC(2026, 9, 24, 12), Date.UTC(2026, 9, 25, 12), 60_000);
  assert.equal(autumn.length, 1);
  assert.equal(autumn[0]![1] - autumn[0]![0], 4 * 3_600_000);
});

test('cron: each run opens a window of duration; overlapping runs extend it; next is reported', () => {
  const window = compileSchedule(plan({ when: 'cron', cron: '0 8 * * *; 30 8 * * *', duration: 3600 }), TZ);
  const seen = spans(window, at(2026, 6, 1, 0, 0), at(2026, 6, 2, 0, 0), 60_000);
  assert.deepEqual(seen, [[at(2026, 6, 1, 8, 0), at(2026, 6, 1, 9, 30)]]);
  assert.deepEqual(window(at(2026, 6, 1, 8, 45)), { active: true, until: at(2026, 6, 1, 9, 30) });
  assert.deepEqual(window(at(2026, 6, 1, 10, 0)), { active: false, next: at(2026, 6, 2, 8, 0) });
  assert.throws(() => compileSchedule(plan({ when: 'cron', cron: '0 8 * * *', duration: 0 }), TZ), /duration/);
  assert.throws(() => compileSchedule(plan({ when: 'cron', cron: 'every day', duration: 5 }), TZ), /cron/);
});

test('cron across DST: 02:30 daily fires once on the spring day (after the gap) and once on the autumn day', () => {
  const window = compileSchedule(plan({ when: 'cron', cron: '30 2 * * *', duration: 600 }), TZ);
  const spring = spans(window, Date.UTC(2026, 2, 28, 12), Date.UTC(2026, 2, 29, 12), 60_000);
  assert.equal(spring.length, 1, 'not skipped');
  assert.equal(spring[0]![1] - spring[0]![0], 600_000);
  const autumn = spans(window, Date.UTC(2026, 9, 24, 12), Date.UTC(2026, 9, 25, 12), 60_000);
  assert.equal(autumn.length, 1, 'not doubled');
  assert.equal(autumn[0]![1] - autumn[0]![0], 600_000);
});
