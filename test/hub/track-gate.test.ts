import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrackGate } from '../../src/hub/track-gate';
import { pendingTrack } from '../../src/core/track';
import { AAC_TEST_TRACK, H264_TEST_TRACK } from '../helpers/hub-fixtures';

test('opens when every declared track is ready and has sent a frame', () => {
  const gate = new TrackGate({ waitMs: 1000 });
  gate.setTracks([H264_TEST_TRACK, AAC_TEST_TRACK]);
  assert.equal(gate.decide(0).open, false);
  gate.frameSeen(0, 0);
  assert.equal(gate.decide(10).open, false);
  gate.frameSeen(1, 20);
  const decision = gate.decide(20);
  assert.ok(decision.open);
  assert.equal(decision.tracks.length, 2);
});

test('audio announced but never sent is dropped after the wait', () => {
  const gate = new TrackGate({ waitMs: 1000 });
  gate.setTracks([H264_TEST_TRACK, pendingTrack(1, 'aac')]);
  gate.frameSeen(0, 100);
  assert.equal(gate.decide(1099).open, false);
  assert.equal(gate.remainingMs(600), 500);
  const decision = gate.decide(1100);
  assert.ok(decision.open);
  assert.deepEqual(
    decision.tracks.map((t) => t.codec),
    ['h264'],
  );
  assert.deepEqual(
    decision.dropped.map((t) => t.codec),
    ['aac'],
  );
});

test('never opens without a usable track', () => {
  const gate = new TrackGate({ waitMs: 10 });
  gate.setTracks([pendingTrack(0, 'h264')]);
  gate.frameSeen(0, 0);
  assert.equal(gate.decide(1e6).open, false);
});
