import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClockAligner } from '../../../src/protocols/rtsp/clock-align';

test('the first track starts the timeline at 0; another starts at its arrival offset', () => {
  const a = new ClockAligner([90_000, 8000]);
  assert.equal(a.align(0, 1_000_000, 100), 0);
  assert.equal(a.align(0, 1_003_600, 140), 3600);
  // Audio arrives 20 ms after the first video frame.
  assert.equal(a.align(1, 555_555, 120), 20 * 90);
  assert.equal(a.align(1, 555_555 + 1440, 140), 20 * 90 + 1440);
});

test('sender reports known before the second track starts align it exactly', () => {
  const a = new ClockAligner([90_000, 90_000]);
  a.notePacket(0, 1000);
  a.notePacket(1, 50_000);
  // Both clocks: video ts 1000 and audio ts 50_000 are the same instant (NTP 5000 ms).
  a.onSenderReport(0, 5000, 1000);
  a.onSenderReport(1, 5000, 50_000);
  assert.equal(a.align(0, 1000, 0), 0);
  // Arrival says 500 ms later; the reports say the same instant.
  assert.equal(a.align(1, 50_000, 500), 0);
  assert.equal(a.stats.srCorrections, 0);
});

test('reports arriving later slide the other track onto them without stepping back', () => {
  const a = new ClockAligner([90_000, 90_000]);
  a.notePacket(0, 0);
  assert.equal(a.align(0, 0, 0), 0);
  a.notePacket(1, 900_000);
  // Arrival puts audio 300 ms late relative to the truth below.
  const first = a.align(1, 900_000, 300);
  assert.equal(first, 300 * 90);
  a.onSenderReport(0, 10_000, 0);
  a.onSenderReport(1, 10_000, 900_000);
  assert.equal(a.stats.srCorrections, 1);
  let last = first;
  let out = first;
  for (let i = 1; i <= 200; i++) {
    out = a.align(1, 900_000 + i * 1800, 300 + i * 20);
    assert.ok(out > last, `step ${i}: ${last} -> ${out}`);
    last = out;
  }
  // 200 frames of 20 ms: a 300 ms correction at 10 % is done after 150 of them.
  assert.equal(out, 200 * 1800);
});

test('property: output of one track never goes back when its input does not', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 5000 })), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: -2000, max: 2000 }),
      (steps, srSkewMs) => {
        const a = new ClockAligner([90_000, 48_000]);
        const t = [0, 0];
        const last: (number | undefined)[] = [undefined, undefined];
        let arrival = 0;
        steps.forEach(([track, step], i) => {
          t[track] = t[track]! + step;
          arrival += step / 90;
          a.notePacket(track, t[track]!);
          if (i === Math.floor(steps.length / 2)) {
            a.onSenderReport(0, 1000, t[0]!);
            a.onSenderReport(1, 1000 + srSkewMs, t[1]!);
          }
          const out = a.align(track, t[track]!, arrival);
          if (last[track] !== undefined) assert.ok(out >= last[track]!, `track ${track} went back`);
          last[track] = out;
        });
      },
    ),
  );
});
