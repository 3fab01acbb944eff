import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlvDemuxer, FlvBodyDecoder, FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO } from '../../../src/formats/flv';
import { FlvTagCache, FlvViewerMuxer, flvTimestampMs } from '../../../src/formats/flv/viewer-muxer';
import { h264Track } from '../../../src/codecs/h264/track';
import { aacTrack } from '../../../src/codecs/aac/track';
import type { Frame } from '../../../src/core/frame';

// Parameter sets of the x264 320x240 stream in test/fixtures/ps/es-h264-320x240-10f.h264 (ffmpeg).
const SPS = Buffer.from('6764000dacb20283f60220000003002000000641e28549', 'hex');
const PPS = Buffer.from('68ebc3cb22c0', 'hex');

function frame(trackId: number, dts: number, keyframe: boolean): Frame {
  const unit = Buffer.from(trackId === 0 ? [keyframe ? 0x65 : 0x41, 0x88, 0x84] : [0x21, 0x10, 0x04]);
  return { trackId, codec: trackId === 0 ? 'h264' : 'aac', dts, pts: dts, keyframe, units: [unit], byteLength: unit.length, receivedAt: 0 };
}

test('every viewer writes the same shared tag Buffer; sequence headers precede the first frame at its time', () => {
  const tracks = [h264Track(0, SPS, PPS), aacTrack(1, Buffer.from([0x12, 0x10]))];
  assert.ok(tracks.every((t) => t.ready));
  const cache = new FlvTagCache('enhanced');
  const a = new FlvViewerMuxer(cache);
  const b = new FlvViewerMuxer(cache);
  const startA = a.start({ path: 'live/x', tracks });
  b.start({ path: 'live/x', tracks });
  const key = frame(0, 900_000, true);
  const outA = a.frame(key);
  const outB = b.frame(key);
  assert.equal(outA.at(-1), outB.at(-1), 'the same Buffer object, not a copy');
  assert.equal(outA.length, 2, 'the video and audio sequence header tags (one Buffer), then the shared frame tag');
  assert.equal(outA[0], outB[0], 'the sequence headers of a GOP are built once for its joiners');
  assert.equal(startA[0], b.start({ path: 'live/x', tracks: [...tracks] })[0], 'so is the start (file header, onMetaData) for the same tracks');
  const audio = frame(1, 901_800, true);
  assert.equal(a.frame(audio)[0], b.frame(audio)[0]);

  const demuxer = new FlvDemuxer();
  const tags = demuxer.feed(Buffer.concat([...startA, ...outA, ...a.frame(frame(0, 903_600, false))]));
  assert.deepEqual(
    tags.map((t) => t.type),
    [FLV_TAG_SCRIPT, FLV_TAG_VIDEO, FLV_TAG_AUDIO, FLV_TAG_VIDEO, FLV_TAG_VIDEO],
  );
  assert.deepEqual(
    tags.map((t) => t.timestampMs),
    [0, 10_000, 10_000, 10_000, 10_040],
  );
  const decoder = new FlvBodyDecoder();
  const decoded = tags.slice(1).map((t) => (t.type === FLV_TAG_VIDEO ? decoder.video(t.timestampMs, t.body) : decoder.audio(t.timestampMs, t.body)));
  assert.equal(decoded[0]!.track?.codec, 'h264');
  assert.equal(decoded[1]!.track?.codec, 'aac');
  assert.equal(decoded[2]!.frame?.keyframe, true);
  assert.equal(decoded[2]!.frame?.dts, 900_000);
  assert.deepEqual(decoded[3]!.frame?.units[0], Buffer.from([0x41, 0x88, 0x84]));
});

test('a track change mid-stream emits new sequence headers at the current time', () => {
  const cache = new FlvTagCache('enhanced');
  const muxer = new FlvViewerMuxer(cache);
  const tracks = [h264Track(0, SPS, PPS)];
  muxer.start({ path: 'live/x', tracks });
  assert.deepEqual(muxer.tracks(tracks), [], 'nothing before the first frame: headers come with it');
  muxer.frame(frame(0, 90_000, true));
  const again = muxer.tracks(tracks);
  assert.equal(again.length, 1, 'one video sequence header tag');
  const changed = [h264Track(0, SPS, PPS)];
  assert.notEqual(cache.start(changed), cache.start(tracks), 'a new Track value (a new config) is a new start');
  assert.equal(flvTimestampMs(90_000), 1000);
  assert.equal(flvTimestampMs(2 ** 32 * 90 + 900), 10, 'the 32-bit ms clock wraps');
});

test('the tags of a GOP are built once for every joiner, not only the latest frame', () => {
  const tracks = [h264Track(0, SPS, PPS), aacTrack(1, Buffer.from([0x12, 0x10]))];
  const cache = new FlvTagCache('enhanced');
  const gop = [frame(0, 90_000, true), frame(1, 91_800, true), frame(0, 93_600, false)];
  const replay = (): Buffer[] => {
    const muxer = new FlvViewerMuxer(cache);
    muxer.start({ path: 'live/x', tracks });
    return gop.map((f) => muxer.frame(f).at(-1)!);
  };
  const first = replay();
  const liveViewer = new FlvViewerMuxer(cache);
  liveViewer.start({ path: 'live/x', tracks });
  liveViewer.frame(frame(0, 97_200, false)); // a live frame between the two joins
  const second = replay();
  second.forEach((tag, i) => assert.equal(tag, first[i], `frame ${i}: the same Buffer object`));
});

test('sharedTag: the fan-out path gives the tag another viewer built, never before a viewer sent its sequence headers, and keeps the time for later headers', () => {
  const tracks = [h264Track(0, SPS, PPS)];
  const cache = new FlvTagCache('enhanced');
  const first = new FlvViewerMuxer(cache);
  const joiner = new FlvViewerMuxer(cache);
  first.start({ path: 'live/x', tracks });
  joiner.start({ path: 'live/x', tracks });
  const key = frame(0, 90_000, true);
  assert.equal(first.sharedTag(key), undefined, 'headers still due: frame() sends them first');
  const [, keyTag] = first.frame(key);
  assert.equal(joiner.sharedTag(key), undefined, 'the joiner too has headers due, though the tag is built');
  assert.equal(joiner.frame(key).at(-1), keyTag);
  const next = frame(0, 93_600, false);
  assert.equal(first.sharedTag(next), undefined, 'not built yet: nobody asked for this frame');
  const nextTag = first.frame(next)[0];
  assert.equal(joiner.sharedTag(next), nextTag, 'the same Buffer the first viewer got');
  const [headers] = joiner.tracks(tracks);
  const demuxed = new FlvDemuxer().feed(Buffer.concat([cache.start(tracks), headers!]));
  assert.equal(demuxed.at(-1)?.timestampMs, flvTimestampMs(93_600), 'new headers at the time of the last frame sent, shared or not');
});
