import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JOIN_TOLERANCE_S, MAX_AHEAD_S, scheduleAt, VideoClockMap } from '../../../../web/src/player/g711-clock';

test('the base is the median of (audio edge - video buffered end): one burst does not move it', () => {
  const clock = new VideoClockMap();
  assert.equal(clock.baseMs(), undefined);
  for (let i = 0; i < 20; i++) clock.addSample(10_000 + i * 40, (i * 40 + 500) / 1000);
  clock.addSample(20_000, 1);
  assert.equal(clock.baseMs(), 9500);
  clock.setExactBase(9480);
  assert.equal(clock.baseMs(), 9480, 'the player knows better');
  clock.setExactBase(undefined);
  clock.addSample(1, 0);
  clock.addSample(1, Number.NaN);
  assert.equal(clock.baseMs(), 9500, 'an empty buffer says nothing');
});

test('a frame is scheduled where its instant of the picture will be on screen', () => {
  // Stream ms 10 000 is video time 0.5 s; the video shows 0.4 s: the frame sounds in 0.1 s.
  const at = scheduleAt({ frameMs: 10_000, baseMs: 9500, videoTimeS: 0.4, audioNowS: 3, nextFreeS: 0 });
  assert.ok(Math.abs(at! - 3.1) < 1e-9);
  const joined = scheduleAt({ frameMs: 10_000, baseMs: 9500, videoTimeS: 0.4, audioNowS: 3, nextFreeS: 3.1 + JOIN_TOLERANCE_S / 2 });
  assert.equal(joined, 3.1 + JOIN_TOLERANCE_S / 2, 'back to back with the previous frame');
  assert.equal(scheduleAt({ frameMs: 10_000, baseMs: 9500, videoTimeS: 0.7, audioNowS: 3, nextFreeS: 0 }), null, 'late');
  assert.equal(scheduleAt({ frameMs: 10_000, baseMs: 9500, videoTimeS: 0.5 - MAX_AHEAD_S - 0.1, audioNowS: 3, nextFreeS: 0 }), null, 'the video stalled');
  const fast = scheduleAt({ frameMs: 10_000, baseMs: 9500, videoTimeS: 0.4, audioNowS: 3, nextFreeS: 0, rate: 2 });
  assert.ok(Math.abs(fast! - 3.05) < 1e-9, 'at 2x media time passes twice as fast');
});

test('property: a scheduled frame starts now or later, within the ahead bound', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 1e9, noNaN: true }),
      fc.double({ min: 0, max: 1e9, noNaN: true }),
      fc.double({ min: 0, max: 1e5, noNaN: true }),
      fc.double({ min: 0, max: 1e5, noNaN: true }),
      fc.double({ min: 0, max: 1e5, noNaN: true }),
      (frameMs, baseMs, videoTimeS, audioNowS, nextFreeS) => {
        const at = scheduleAt({ frameMs, baseMs, videoTimeS, audioNowS, nextFreeS });
        if (at !== null) assert.ok(at >= audioNowS && at <= audioNowS + MAX_AHEAD_S);
      },
    ),
  );
});
