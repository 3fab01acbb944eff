import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { buildAvcDecoderConfigurationRecord } from '../../../src/codecs/h264/avc-config';
import { h264Track } from '../../../src/codecs/h264/track';
import { ParseError } from '../../../src/core/errors';
import { makeFrame } from '../../../src/core/frame';
import type { AacTrack, H264Track, H265Track } from '../../../src/core/track';
import { videoFrameBody, videoSequenceHeaderBody, type HevcMode } from '../../../src/formats/flv/bodies';
import { FlvBodyDecoder } from '../../../src/formats/flv/body-decoder';
import { FlvDemuxer } from '../../../src/formats/flv/demuxer';
import { h264ParameterSets } from '../../codecs/fixture-units';
import { ffprobeJson } from '../../helpers/media-tools';
import { fixturePath, mutated, onlyParseError, readFixture } from '../../codecs/helpers';
import { decodeFlv, h265Frames } from './helpers';

describe('FlvBodyDecoder on ffmpeg files', () => {
  it('decodes H.264 + AAC with the timestamps ffprobe reports', async () => {
    const { tracks, frames } = decodeFlv(readFixture('flv', 'ffmpeg-h264-aac.flv'));
    assert.deepEqual(
      tracks.map((t) => [t.id, t.codec, t.ready]),
      [
        [0, 'h264', true],
        [1, 'aac', true],
      ],
    );
    const video = tracks[0] as H264Track;
    assert.deepEqual([video.width, video.height, video.profile], [320, 240, 100]);
    const audio = tracks[1] as AacTrack;
    assert.deepEqual([audio.sampleRate, audio.channels], [44100, 2]);
    const videoFrames = frames.filter((f) => f.trackId === 0);
    const audioFrames = frames.filter((f) => f.trackId === 1);
    assert.equal(videoFrames.length, 50);
    assert.equal(audioFrames.length, 88);
    assert.equal(videoFrames.filter((f) => f.keyframe).length, 2);
    assert.ok(frames.every((f) => f.pts >= f.dts && f.units.length > 0));
    assert.ok(audioFrames.every((f) => f.codec === 'aac' && f.keyframe && f.units.length === 1));

    const probe = await ffprobeJson(fixturePath('flv', 'ffmpeg-h264-aac.flv'), ['-show_packets']);
    const probed = probe.packets!.filter((p) => p.stream_index === 0);
    assert.deepEqual(
      videoFrames.map((f) => [f.dts / 90, f.pts / 90, f.keyframe, f.byteLength + 4 * f.units.length]),
      probed.map((p) => [p.dts, p.pts, p.flags.startsWith('K'), Number(p.size)]),
    );
  });

  it('decodes H.264 + G.711 A-law and G.711 µ-law alone', () => {
    const alaw = decodeFlv(readFixture('flv', 'ffmpeg-h264-g711a.flv'));
    assert.deepEqual(
      alaw.tracks.map((t) => t.codec),
      ['h264', 'g711a'],
    );
    assert.equal(alaw.frames.filter((f) => f.codec === 'g711a').length, 16);
    const mulaw = decodeFlv(readFixture('flv', 'ffmpeg-g711u-audio-only.flv'));
    assert.deepEqual(mulaw.tracks, [{ id: 1, codec: 'g711u', ready: true, sampleRate: 8000, channels: 1 }]);
    assert.equal(mulaw.frames.length, 8);
    assert.equal(
      mulaw.frames.reduce((sum, f) => sum + f.byteLength, 0),
      8000,
    );
  });

  it('keeps subarrays of the tag body', () => {
    const file = readFixture('flv', 'ffmpeg-g711u-audio-only.flv');
    const { frames } = decodeFlv(file);
    assert.equal(frames[0]!.units[0]!.buffer, file.buffer);
  });
});

describe('FlvBodyDecoder on our own bodies', () => {
  for (const mode of ['enhanced', 'legacy'] as HevcMode[]) {
    it(`round-trips H.265 (${mode}) with and without composition times`, () => {
      const { track, frames } = h265Frames('h265-temporal-layers-320x240.h265', (i) => (i % 3) * 3600);
      const decoder = new FlvBodyDecoder(() => 7);
      const header = decoder.video(0, videoSequenceHeaderBody(track, mode));
      const decodedTrack = header.track as H265Track;
      assert.deepEqual([decodedTrack.codec, decodedTrack.ready, decodedTrack.width, decodedTrack.height], ['h265', true, 320, 240]);
      assert.deepEqual([decodedTrack.vps, decodedTrack.sps, decodedTrack.pps], [track.vps, track.sps, track.pps]);
      assert.deepEqual(decoder.video(0, videoSequenceHeaderBody(track, mode)), {}, 'the same header again is no new track');
      for (const frame of frames) {
        const out = decoder.video(frame.dts / 90, Buffer.concat(videoFrameBody(frame, mode)));
        assert.deepEqual(out.frame, { ...frame, receivedAt: 7 });
      }
    });
  }

  it('reads Enhanced RTMP avc1 and 2-byte NAL lengths from the record', () => {
    const { sps, pps } = h264ParameterSets('h264-baseline-320x240.h264');
    const record = Buffer.from(buildAvcDecoderConfigurationRecord(sps, pps));
    record[4] = 0xfd; // lengthSizeMinusOne = 1
    const decoder = new FlvBodyDecoder();
    const start = decoder.video(0, Buffer.concat([Buffer.from('9061766331', 'hex'), record]));
    assert.equal(start.track?.codec, 'h264');
    const coded = Buffer.from('a161766331' + '000028' + '0003419a01' + '00024180', 'hex');
    const out = decoder.video(40, coded);
    assert.deepEqual(
      out.frame?.units.map((u) => u.toString('hex')),
      ['419a01', '4180'],
    );
    assert.deepEqual([out.frame?.dts, out.frame?.pts, out.frame?.keyframe], [3600, 7200, false]);
  });

  it('announces a new track when the SPS changes', () => {
    const decoder = new FlvBodyDecoder();
    const a = h264ParameterSets('h264-baseline-320x240.h264');
    const b = h264ParameterSets('h264-main-352x288-bframes.h264');
    assert.equal((decoder.video(0, videoSequenceHeaderBody(h264Track(0, a.sps, a.pps), 'enhanced')).track as H264Track).width, 320);
    assert.equal((decoder.video(0, videoSequenceHeaderBody(h264Track(0, b.sps, b.pps), 'enhanced')).track as H264Track).width, 352);
    assert.deepEqual(
      decoder.tracks.map((t) => t.codec),
      ['h264'],
    );
  });

  it('marks IDR frames as keyframes even when the frame type says inter, and clamps negative cts', () => {
    const decoder = new FlvBodyDecoder();
    const idr = makeFrame({ trackId: 0, codec: 'h264', dts: 900, pts: 900, keyframe: false, units: [Buffer.from('6588', 'hex')], receivedAt: 0 });
    assert.equal(decoder.video(10, Buffer.concat(videoFrameBody(idr, 'enhanced'))).frame?.keyframe, true);
    const negative = decoder.video(100, Buffer.from('2701ffffd8' + '000000024101', 'hex')).frame!;
    assert.equal(negative.pts, negative.dts);
  });

  it('ignores command frames, end of sequence and empty payloads', () => {
    const decoder = new FlvBodyDecoder();
    assert.deepEqual(decoder.video(0, Buffer.from('5700', 'hex')), {});
    assert.deepEqual(decoder.video(0, Buffer.from('1702000000', 'hex')), {});
    assert.deepEqual(decoder.video(0, Buffer.from('9268766331', 'hex')), {});
    assert.deepEqual(decoder.video(0, Buffer.from('2701000000', 'hex')), {});
    assert.deepEqual(decoder.audio(0, Buffer.from('af01', 'hex')), {});
  });

  it('reads Enhanced RTMP mp4a audio', () => {
    const decoder = new FlvBodyDecoder();
    assert.equal((decoder.audio(0, Buffer.from('906d7034611210', 'hex')).track as AacTrack).sampleRate, 44100);
    assert.deepEqual(decoder.audio(23, Buffer.from('916d703461aabb', 'hex')).frame?.units, [Buffer.from('aabb', 'hex')]);
  });

  it('throws a clear ParseError for codecs the hub does not carry', () => {
    const decoder = new FlvBodyDecoder();
    assert.throws(() => decoder.video(0, Buffer.from('2200', 'hex')), /codec id 2 \(Sorenson H.263\)/);
    assert.throws(() => decoder.video(0, Buffer.from('9061763031', 'hex')), /FourCC 'av01'/);
    assert.throws(() => decoder.audio(0, Buffer.from('2fff', 'hex')), /sound format 2 \(MP3\)/);
    assert.throws(() => decoder.audio(0, Buffer.from('914f707573', 'hex')), /FourCC 'Opus'/);
    assert.throws(() => decoder.video(0, Buffer.alloc(0)), ParseError);
    assert.throws(() => decoder.audio(0, Buffer.from('af00', 'hex')), ParseError);
  });

  it('only throws ParseError on random and mutated bodies', () => {
    const tags = new FlvDemuxer().feed(readFixture('flv', 'ffmpeg-h264-aac.flv'));
    const samples = tags
      .filter((t) => t.type !== 18)
      .slice(0, 12)
      .map((t) => t.body.subarray(0, 400));
    const { track } = h265Frames('h265-main-320x240.h265');
    samples.push(videoSequenceHeaderBody(track, 'enhanced'), videoSequenceHeaderBody(track, 'legacy'));
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      ...samples.map((s) => mutated(s)),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), body), { minLength: 1, maxLength: 5 }), (bodies) => {
        const decoder = new FlvBodyDecoder();
        for (const [isVideo, b] of bodies) onlyParseError(() => (isVideo ? decoder.video(40, b) : decoder.audio(40, b)));
      }),
      { numRuns: 1000 },
    );
  });
});
