import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GopCache } from '../../src/hub/gop-cache';
import { audioFrame, videoFrame } from '../helpers/hub-fixtures';

test('starts at the newest keyframe and keeps audio of that GOP', () => {
  const cache = new GopCache({ maxGops: 1, maxFrames: 100, maxBytes: 1e6 });
  cache.push(videoFrame(0)); // before any keyframe: useless, not kept
  cache.push(videoFrame(3600, true));
  cache.push(audioFrame(3700));
  cache.push(videoFrame(7200));
  cache.push(videoFrame(10800, true));
  cache.push(audioFrame(10900));
  const frames = cache.snapshot();
  assert.equal(frames[0]!.keyframe, true);
  assert.equal(frames[0]!.dts, 10800);
  assert.deepEqual(
    frames.map((f) => f.dts),
    [10800, 10900],
  );
});

test('a GOP that outgrows the byte bound is dropped whole', () => {
  const cache = new GopCache({ maxGops: 1, maxFrames: 100, maxBytes: 1000 });
  cache.push(videoFrame(0, true, 400));
  cache.push(videoFrame(1, false, 400));
  assert.equal(cache.snapshot().length, 2);
  cache.push(videoFrame(2, false, 400));
  assert.equal(cache.snapshot().length, 0);
  assert.equal(cache.bytes, 0);
  cache.push(videoFrame(3, false, 10)); // still no keyframe: nothing to start on
  assert.equal(cache.snapshot().length, 0);
  cache.push(videoFrame(4, true, 10));
  assert.equal(cache.snapshot()[0]!.dts, 4);
});

test('frame bound and several GOPs', () => {
  const cache = new GopCache({ maxGops: 2, maxFrames: 5, maxBytes: 1e6 });
  for (let i = 0; i < 12; i++) cache.push(videoFrame(i, i % 3 === 0));
  assert.ok(cache.frames <= 5);
  assert.equal(cache.snapshot()[0]!.dts, 9);
});

test('audio-only streams keep the newest frames within bounds', () => {
  const cache = new GopCache({ maxGops: 1, maxFrames: 10, maxBytes: 1e6 });
  for (let i = 0; i < 50; i++) cache.push(audioFrame(i));
  assert.equal(cache.frames, 10);
  assert.equal(cache.snapshot()[0]!.dts, 40);
});

test('history: older GOPs are kept as far back as historyMs asks, and since(ms) starts at the newest GOP that old', () => {
  // GOP 1 s (90,000 ticks), history 2.5 s.
  const cache = new GopCache({ maxGops: 1, maxFrames: 1000, maxBytes: 1e6, historyMs: 2500 });
  for (let i = 0; i < 25 * 6; i++) cache.push(videoFrame(i * 3600, i % 25 === 0));
  const newestKey = 5 * 90_000;
  assert.equal(cache.snapshot()[0]!.dts, newestKey, 'snapshot() still starts at the newest keyframe');
  assert.equal(cache.since(0)[0]!.dts, newestKey);
  const lastDts = 149 * 3600;
  assert.equal(cache.since(1000)[0]!.dts, 4 * 90_000, 'the newest keyframe at least 1 s before the newest frame');
  assert.equal(cache.since(2500)[0]!.dts, 3 * 90_000, 'the newest keyframe at least 2.5 s back');
  assert.ok(cache.since(2500)[0]!.dts <= lastDts - 2500 * 90);
  assert.equal(cache.since(10_000)[0]!.dts, 2 * 90_000, 'no further back than the history kept');
  assert.equal(cache.since(2500).length, 150 - 75, 'every frame from there on, in order');
});

test('history is bounded by frames and bytes: the oldest GOP goes first', () => {
  const cache = new GopCache({ maxGops: 1, maxFrames: 60, maxBytes: 1e6, historyMs: 10_000 });
  for (let i = 0; i < 25 * 6; i++) cache.push(videoFrame(i * 3600, i % 25 === 0));
  assert.ok(cache.frames <= 60, `${cache.frames} frames`);
  assert.equal(cache.since(10_000)[0]!.keyframe, true, 'what is left starts on a keyframe');
  const bytes = new GopCache({ maxGops: 1, maxFrames: 1000, maxBytes: 30 * 100, historyMs: 10_000 });
  for (let i = 0; i < 25 * 6; i++) bytes.push(videoFrame(i * 3600, i % 25 === 0, 100));
  assert.ok(bytes.bytes <= 3000);
  assert.equal(bytes.since(10_000)[0]!.dts, 5 * 90_000);
});
