import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { randomOrMutatedText } from '../../helpers/fuzz-text';
import { ParseError } from '../../../src/core/errors';
import { parseH264Sps } from '../../../src/codecs/h264/sps';
import { parseH265Sps } from '../../../src/codecs/h265/sps';
import { parseAudioSpecificConfig } from '../../../src/codecs/aac/asc';
import { MAX_SDP_MEDIA, parseSdp } from '../../../src/formats/sdp/sdp';
import { describeSelection, selectTracks } from '../../../src/protocols/rtsp/sdp-tracks';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtsp');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const ALL = [
  'ffmpeg-h264-aac.sdp',
  'ffmpeg-h264-sprop.sdp',
  'ffmpeg-h265-pcma.sdp',
  'ffmpeg-h265-sprop.sdp',
  'ffmpeg-pcmu.sdp',
  'ffmpeg-latm.sdp',
  'camera-absolute-control.sdp',
  'camera-relative-control.sdp',
];

test('ffmpeg H.264 + AAC: no sprop (in-band parameter sets), AAC config in fmtp', () => {
  const sdp = parseSdp(fixture('ffmpeg-h264-aac.sdp'));
  assert.equal(sdp.media.length, 2);
  const { tracks, skipped } = selectTracks(sdp, 'rtsp://127.0.0.1:8554/live/cam');
  assert.deepEqual(skipped, []);
  const [video, audio] = tracks;
  assert.deepEqual([video?.kind, video?.codec, video?.payloadType, video?.clockRate], ['video', 'h264', 96, 90000]);
  assert.equal(video?.rtpMap.fmtp?.['sprop-parameter-sets'], undefined);
  // No a=control: the media's URL is the base.
  assert.equal(video?.control, 'rtsp://127.0.0.1:8554/live/cam');
  assert.deepEqual([audio?.kind, audio?.codec, audio?.clockRate, audio?.rtpMap.channels], ['audio', 'aac', 44100, 1]);
  const asc = parseAudioSpecificConfig(Buffer.from(audio!.rtpMap.fmtp!['config']!, 'hex'));
  assert.deepEqual([asc.sampleRate, asc.channels], [44100, 1]);
});

test('sprop parameter sets reach the depacketizer parameters (H.264 SPS/PPS, H.265 VPS/SPS/PPS)', () => {
  const h264 = selectTracks(parseSdp(fixture('ffmpeg-h264-sprop.sdp')), 'rtsp://x/').tracks[0]!;
  const [sps] = h264.rtpMap.fmtp!['sprop-parameter-sets']!.split(',').map((b) => Buffer.from(b, 'base64'));
  const info = parseH264Sps(sps!);
  assert.deepEqual([info.width, info.height], [320, 240]);
  const h265 = selectTracks(parseSdp(fixture('ffmpeg-h265-sprop.sdp')), 'rtsp://x/').tracks[0]!;
  assert.equal(h265.codec, 'h265');
  const hsps = parseH265Sps(Buffer.from(h265.rtpMap.fmtp!['sprop-sps']!, 'base64'));
  assert.deepEqual([hsps.width, hsps.height], [320, 240]);
});

test('static payload types without rtpmap: PCMA (8) and PCMU (0)', () => {
  const pcma = selectTracks(parseSdp(fixture('ffmpeg-h265-pcma.sdp')), 'rtsp://x/').tracks;
  assert.deepEqual(
    pcma.map((t) => [t.kind, t.codec, t.clockRate]),
    [
      ['video', 'h265', 90000],
      ['audio', 'g711a', 8000],
    ],
  );
  const pcmu = selectTracks(parseSdp(fixture('ffmpeg-pcmu.sdp')), 'rtsp://x/').tracks;
  assert.deepEqual(
    pcmu.map((t) => t.codec),
    ['g711u'],
  );
});

test('MP4A-LATM keeps its StreamMuxConfig', () => {
  const [latm] = selectTracks(parseSdp(fixture('ffmpeg-latm.sdp')), 'rtsp://x/').tracks;
  assert.equal(latm?.codec, 'aac');
  assert.equal(latm?.rtpMap.encoding, 'MP4A-LATM');
  assert.equal(latm?.rtpMap.fmtp?.['config'], '400024103fc0');
  assert.equal(latm?.rtpMap.fmtp?.['cpresent'], '0');
});

test('camera SDP with absolute controls', () => {
  const sdp = parseSdp(fixture('camera-absolute-control.sdp'));
  assert.equal(sdp.control, 'rtsp://192.168.1.64:554/Streaming/Channels/101/');
  const { tracks } = selectTracks(sdp, 'rtsp://192.168.1.64:554/Streaming/Channels/101');
  assert.deepEqual(
    tracks.map((t) => t.control),
    ['rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1', 'rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2'],
  );
  assert.equal(sdp.media[0]?.direction, 'recvonly');
});

test('camera SDP with relative controls, H.265 + AAC, an ONVIF metadata track skipped', () => {
  const selection = selectTracks(parseSdp(fixture('camera-relative-control.sdp')), 'rtsp://10.1.1.5/live/main/');
  assert.deepEqual(
    selection.tracks.map((t) => [t.codec, t.control]),
    [
      ['h265', 'rtsp://10.1.1.5/live/main/trackID=0'],
      ['aac', 'rtsp://10.1.1.5/live/main/trackID=1'],
    ],
  );
  assert.equal(selection.skipped.length, 1);
  assert.match(describeSelection(selection), /vnd\.onvif\.metadata skipped/);
  assert.equal(selection.tracks[1]!.rtpMap.fmtp?.['config'], '1408');
  assert.equal(selection.tracks[1]!.rtpMap.fmtp?.['sizelength'], '13');
});

test('unsupported codecs are skipped with a reason, one track per kind', () => {
  const text =
    'v=0\r\nm=video 0 RTP/AVP 26\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\nm=video 0 RTP/AVP 97\r\na=rtpmap:97 H265/90000\r\nm=audio 0 RTP/AVP 98\r\na=rtpmap:98 opus/48000/2\r\nm=audio 0 RTP/AVP 99\r\na=rtpmap:99 MPEG4-GENERIC/48000/2\r\na=fmtp:99 mode=AAC-hbr\r\n';
  const selection = selectTracks(parseSdp(text), 'rtsp://x/y');
  assert.deepEqual(
    selection.tracks.map((t) => t.codec),
    ['h264'],
  );
  assert.deepEqual(
    selection.skipped.map((s) => s.reason.split(' ')[0]),
    ['payload', 'a', 'codec', 'unusable'],
  );
});

test('caps: too many media or lines', () => {
  assert.throws(() => parseSdp('v=0\n' + 'm=video 0 RTP/AVP 96\n'.repeat(MAX_SDP_MEDIA + 1)), ParseError);
  assert.throws(() => parseSdp('a=x\n'.repeat(3000)), ParseError);
  assert.throws(() => parseSdp('m=video x RTP/AVP 96\n'), ParseError);
});

test('property: random and mutated SDP only ever throw ParseError', () => {
  const valid = ALL.map(fixture);
  fc.assert(
    fc.property(randomOrMutatedText(valid), (text) => {
      try {
        const sdp = parseSdp(text);
        selectTracks(sdp, 'rtsp://cam/live');
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});
