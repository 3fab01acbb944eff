import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { silentLogger } from '../../../src/core/log';
import type { Frame } from '../../../src/core/frame';
import type { Track } from '../../../src/core/track';
import { RtspMediaReceiver } from '../../../src/protocols/rtsp/media';
import { parseSdp } from '../../../src/formats/sdp/sdp';
import { selectTracks } from '../../../src/protocols/rtsp/sdp-tracks';
import { fixtureRtp } from '../../helpers/rtsp-script-camera';

const SDP = 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n';

function receiver(reorderDelayMs: number, clock: { now: number }): { media: RtspMediaReceiver; frames: Frame[]; tracks: Track[][] } {
  const frames: Frame[] = [];
  const tracks: Track[][] = [];
  const media = new RtspMediaReceiver({
    tracks: selectTracks(parseSdp(SDP), 'rtsp://cam/x').tracks,
    publisher: { resumeDts: 0, setTracks: (t) => void tracks.push([...t]), write: (f) => void frames.push(f) },
    reorderDelayMs,
    log: silentLogger(),
    now: () => clock.now,
  });
  return { media, frames, tracks };
}

test('in-order packets give one frame per access unit, 3600 ticks apart, keyframe first', () => {
  const clock = { now: 0 };
  const { media, frames, tracks } = receiver(0, clock);
  for (const p of fixtureRtp(20)) media.onPacket(0, 'rtp', p);
  assert.equal(frames.length, 20, 'the marker closes every access unit');
  assert.ok(tracks.at(-1)![0]!.ready);
  frames.forEach((f, i) => assert.equal(f.dts, i * 3600));
  assert.equal(media.trackStats[0]!.lost, 0);
});

test('UDP: reordered packets within the delay come out in order; a lost one costs its frame only', () => {
  const clock = { now: 0 };
  const { media, frames } = receiver(200, clock);
  const packets = fixtureRtp(20);
  const swapped = [...packets];
  [swapped[10], swapped[11]] = [swapped[11]!, swapped[10]!];
  swapped.splice(30, 1);
  for (const p of swapped) {
    clock.now += 5;
    media.onPacket(0, 'rtp', p);
  }
  clock.now += 500;
  media.poll();
  const stats = media.trackStats[0]!;
  assert.equal(stats.lost, 1);
  assert.equal(stats.reordered, 1);
  assert.equal(frames.length, 19, 'the frame with the lost packet is dropped, the others pass');
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.dts > frames[i - 1]!.dts);
});

test('a new SSRC (camera restart) starts the track over and the timeline goes on', () => {
  const clock = { now: 0 };
  const { media, frames } = receiver(0, clock);
  for (const p of fixtureRtp(10)) media.onPacket(0, 'rtp', p);
  const before = frames.length;
  clock.now += 1000;
  for (const p of fixtureRtp(10, 0x5555, 7, 42)) media.onPacket(0, 'rtp', p);
  assert.equal(media.trackStats[0]!.ssrcChanges, 1);
  assert.ok(frames.length > before + 5);
  for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.dts >= frames[i - 1]!.dts);
});

test('property: shuffled, dropped, duplicated and corrupted packets never throw and never send time back', () => {
  const packets = fixtureRtp(30);
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(packets.length - 1), fc.integer({ min: 0, max: 3 }), fc.nat(255)), { maxLength: 60 }), (edits) => {
      const clock = { now: 0 };
      const { media, frames } = receiver(100, clock);
      const list = packets.map((p) => Buffer.from(p));
      for (const [at, op, byte] of edits) {
        if (op === 0) list.splice(at % list.length, 1);
        else if (op === 1) list.push(list[at % list.length]!);
        else if (op === 2) list[at % list.length]![Math.min(byte, list[at % list.length]!.length - 1)] = byte;
        else [list[0], list[at % list.length]] = [list[at % list.length]!, list[0]!];
      }
      for (const p of list) {
        clock.now += 3;
        media.onPacket(0, byte0(p) ? 'rtp' : 'rtcp', p);
      }
      clock.now += 1000;
      media.poll();
      for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.dts >= frames[i - 1]!.dts);
    }),
    { numRuns: 200 },
  );
});

function byte0(p: Buffer): boolean {
  return p.length > 0 && p[0] !== 0xff;
}
