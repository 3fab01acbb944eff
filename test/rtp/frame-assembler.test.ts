import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitAnnexB } from '../../src/codecs/annexb';
import { splitAdts } from '../../src/codecs/aac/adts';
import type { H264Track } from '../../src/core/track';
import { FrameAssembler } from '../../rtp/frame-assembler';
import { FakePublisher, annexBAccessUnits, fixture } from './helpers';

const FRAMES = annexBAccessUnits(fixture('ps', 'es-h264-320x240-10f.h264'), 'h264');
const ADTS = splitAdts(fixture('ps', 'es-aac-8k-0.4s.adts'));

function video(fa: FrameAssembler, i: number, dts = 90_000 + i * 3600, pts = dts): void {
  fa.onAccessUnit({ kind: 'video', codec: 'h264', units: splitAnnexB(FRAMES[i]!), pts, dts });
}

test('declared tracks are announced pending, then ready from in-band SPS/PPS', () => {
  const pub = new FakePublisher();
  const fa = new FrameAssembler(pub);
  fa.onDeclared({ video: 'h264', audio: 'aac' });
  assert.deepEqual(
    pub.tracks.map((t) => [t.codec, t.ready]),
    [
      ['h264', false],
      ['aac', false],
    ],
  );
  video(fa, 0);
  const v = pub.tracks[0] as H264Track;
  assert.equal(v.ready, true);
  assert.deepEqual([v.width, v.height], [320, 240]);
  fa.onAccessUnit({ kind: 'audio', codec: 'aac', data: ADTS.frames[0]!, pts: 90_000, adts: ADTS.config! });
  assert.deepEqual(
    pub.tracks.map((t) => [t.codec, t.ready]),
    [
      ['h264', true],
      ['aac', true],
    ],
  );
});

test('video waits for the first keyframe; AUDs are dropped; keyframe flags follow IDR', () => {
  const pub = new FakePublisher();
  const fa = new FrameAssembler(pub);
  // frames 1..4 are P-frames without parameter sets: nothing can be published before frame 5
  for (let i = 1; i < 10; i++) video(fa, i);
  assert.equal(fa.stats.droppedBeforeKeyframe, 4);
  assert.equal(pub.count(0), 5);
  assert.deepEqual(
    pub.frames.map((f) => f.keyframe),
    [true, false, false, false, false],
  );
  assert.ok(pub.frames.every((f) => f.units.every((u) => (u[0]! & 0x1f) !== 9)));
});

test('timestamps: rebased on resumeDts, composition offset kept, small steps back clamped', () => {
  const pub = new FakePublisher(450_000);
  const fa = new FrameAssembler(pub);
  video(fa, 0, 1_000_000, 1_003_600);
  video(fa, 1, 1_003_600, 1_010_800);
  video(fa, 2, 1_000_000, 1_007_200); // a muxer's DTS went back: clamped, not re-anchored
  video(fa, 3, 1_010_800, 1_014_400);
  assert.deepEqual(
    pub.frames.map((f) => [f.dts, f.pts]),
    [
      [450_000, 453_600],
      [453_600, 460_800],
      [453_600, 457_200],
      [460_800, 464_400],
    ],
  );
  pub.assertTimestamps();
});

test('a new SPS makes a new Track value; late audio is added with setTracks', () => {
  const pub = new FakePublisher();
  const fa = new FrameAssembler(pub);
  video(fa, 0);
  const first = pub.tracks[0];
  video(fa, 5); // same SPS again: no new track
  assert.equal(pub.tracks[0], first);
  const units = splitAnnexB(FRAMES[0]!).map((u) => ((u[0]! & 0x1f) === 7 ? Buffer.concat([u, Buffer.from([0x80])]) : u));
  fa.onAccessUnit({ kind: 'video', codec: 'h264', units, pts: 200_000, dts: 200_000 });
  assert.notEqual(pub.tracks[0], first);
  fa.onAccessUnit({ kind: 'audio', codec: 'g711a', data: Buffer.alloc(160, 0xd5), pts: 200_000 });
  assert.deepEqual(
    pub.tracks.map((t) => t.codec),
    ['h264', 'g711a'],
  );
  assert.equal(pub.count(1), 1);
});
