import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Frame } from '../../../src/core/frame';
import { PlaybackClock } from '../../../src/app/gb-bridge/playback-clock';
import { parseGbPath, playbackPath } from '../../../src/app/gb-bridge/bridge';

function frame(trackId: number, dts: number, cts = 0): Frame {
  return { trackId, codec: trackId === 0 ? 'h264' : 'aac', dts, pts: dts + cts, keyframe: false, units: [], byteLength: 0, receivedAt: 0 };
}

function collect(): { frames: Frame[]; clock: PlaybackClock } {
  const frames: Frame[] = [];
  const clock = new PlaybackClock({ setTracks: () => undefined, write: (f) => frames.push(f), resumeDts: 0 });
  return { frames, clock };
}

test('at speed 4 the time since the change runs 4 times faster; 1x before it is untouched', () => {
  const { frames, clock } = collect();
  for (let i = 0; i < 10; i++) clock.write(frame(0, i * 3600));
  clock.setSpeed(4);
  for (let i = 10; i < 20; i++) clock.write(frame(0, i * 3600, 7200));
  assert.deepEqual(
    frames.slice(0, 10).map((f) => f.dts),
    Array.from({ length: 10 }, (_, i) => i * 3600),
  );
  assert.deepEqual(
    frames.slice(10).map((f) => f.dts),
    Array.from({ length: 10 }, (_, i) => 9 * 3600 + (i + 1) * 900),
  );
  assert.equal(frames[15]!.pts - frames[15]!.dts, 1800);
});

test('property: per-track dts never goes back and output advances by source/speed', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ track: fc.constantFrom(0, 1), step: fc.integer({ min: 0, max: 9000 }), speed: fc.option(fc.constantFrom(0.25, 0.5, 1, 2, 4, 8), { nil: undefined }) }), {
        minLength: 1,
        maxLength: 200,
      }),
      (ops) => {
        const { frames, clock } = collect();
        let source = 0;
        for (const op of ops) {
          if (op.speed !== undefined) clock.setSpeed(op.speed);
          source += op.step;
          clock.write(frame(op.track, source));
        }
        const last = new Map<number, number>();
        for (const f of frames) {
          assert.ok(f.dts >= (last.get(f.trackId) ?? -Infinity), 'dts non-decreasing per track');
          assert.ok(f.pts >= f.dts);
          last.set(f.trackId, f.dts);
        }
        // Never further than the source at the slowest speed, never behind it at the fastest.
        const out = frames.at(-1)!.dts;
        assert.ok(out <= source * 4 + 1 && out >= source / 8 - 1, `out ${out} for source ${source}`);
      },
    ),
    { numRuns: 500 },
  );
});

test('GB paths: live, sub-stream and playback (Unix seconds or local YYYYMMDDHHMMSS); anything else is not one', () => {
  const dev = '34020000001320000001';
  const ch = '34020000001310000001';
  assert.deepEqual(parseGbPath(`rtp/${dev}_${ch}`), { deviceId: dev, channelId: ch });
  assert.deepEqual(parseGbPath(`rtp/${dev}_${ch}_sub`), { deviceId: dev, channelId: ch, streamNumber: 1 });
  assert.deepEqual(parseGbPath(playbackPath(dev, ch, 1764576000, 1764579600)), { deviceId: dev, channelId: ch, range: { start: 1764576000, end: 1764579600 } });
  const local = parseGbPath(`rtp/${dev}_${ch}_20261201080000_20261201090000`)!;
  assert.equal(local.range!.start, Math.floor(new Date(2026, 11, 1, 8, 0, 0).getTime() / 1000));
  assert.equal(local.range!.end - local.range!.start, 3600);
  for (const bad of [`live/${dev}_${ch}`, `rtp/${dev}`, `rtp/${dev}_${ch}_1_2`, `rtp/${dev}_${ch}_sub_x`, `rtp/${dev}_${ch}_1764576000`])
    assert.equal(parseGbPath(bad), undefined, bad);
  fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => void parseGbPath(`rtp/${s}`)));
});
