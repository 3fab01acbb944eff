import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { randomOrMutatedText } from '../../helpers/fuzz-text';
import { ParseError } from '../../../src/core/errors';
import { MAX_SDP_BYTES, MAX_SDP_LINES, MAX_SDP_MEDIA, parseFmtp, parseSdp } from '../../../src/formats/sdp/sdp';

const RTSP = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtsp');

/** A Hikvision answer to a GB28181 INVITE (TCP passive). */
const GB_ANSWER =
  'v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\nm=video 15060 TCP/RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=setup:passive\r\na=connection:new\r\ny=0100000001\r\nf=\r\n';

test('one parser for both users: an RTSP camera DESCRIBE (controls, fmtp, per-media c=) and a GB28181 answer (setup, y=, f=)', () => {
  const camera = parseSdp(readFileSync(join(RTSP, 'camera-absolute-control.sdp')));
  assert.equal(camera.control, 'rtsp://192.168.1.64:554/Streaming/Channels/101/');
  assert.deepEqual(camera.origin, { username: '-', address: '192.168.1.64' });
  const [video, audio] = camera.media;
  assert.deepEqual([video?.type, video?.formats, video?.connection, video?.direction], ['video', [96], '0.0.0.0', 'recvonly']);
  assert.equal(video?.fmtp.get(96)?.['sprop-parameter-sets'], 'Z2QADayyAoP2AiAAAAMAIAAABkHihUk=,aOvDyyLA');
  assert.deepEqual(audio?.rtpmap.get(8), { encoding: 'PCMA', clockRate: 8000 });
  const gb = parseSdp(Buffer.from(GB_ANSWER));
  assert.deepEqual([gb.connection, gb.ssrc, gb.format, gb.sessionName], ['192.168.1.64', '0100000001', '', 'Play']);
  assert.deepEqual([gb.media[0]?.protocol, gb.media[0]?.setup, gb.media[0]?.direction, gb.media[0]?.port], ['TCP/RTP/AVP', 'passive', 'sendonly', 15060]);
  assert.equal(parseSdp(GB_ANSWER.replace(/\r\n/g, '\n')).ssrc, '0100000001', 'bare LF line ends');
});

test('fmtp: keys lower-cased, values kept, no prototype keys', () => {
  assert.deepEqual(
    { ...parseFmtp('Profile-Level-Id=42e01f; packetization-mode=1;config=AbC=;;junk') },
    { 'profile-level-id': '42e01f', 'packetization-mode': '1', config: 'AbC=' },
  );
  assert.equal(Object.getPrototypeOf(parseFmtp('__proto__=x')), Object.prototype);
});

test('caps and unusable lines are ParseErrors', () => {
  assert.throws(() => parseSdp('v=0\n' + 'm=video 0 RTP/AVP 96\n'.repeat(MAX_SDP_MEDIA + 1)), ParseError);
  assert.throws(() => parseSdp('a=x\n'.repeat(MAX_SDP_LINES + 1)), ParseError);
  assert.throws(() => parseSdp('s=' + 'x'.repeat(MAX_SDP_BYTES)), ParseError);
  assert.throws(() => parseSdp('m=video x RTP/AVP 96\n'), ParseError);
  assert.throws(() => parseSdp('v=1\n'), ParseError);
});

test('property: random and mutated SDP (RTSP and GB) only ever throw ParseError', () => {
  const valid = [GB_ANSWER, readFileSync(join(RTSP, 'camera-relative-control.sdp'), 'utf8')];
  fc.assert(
    fc.property(randomOrMutatedText(valid), (text) => {
      try {
        parseSdp(text);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    }),
    { numRuns: 2000 },
  );
});

/** An NVR's answer to a Download INVITE (GB/T 28181-2016 Annex F): a=filesize and a=downloadspeed after the m= line. */
const GB_DOWNLOAD_ANSWER =
  'v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Download\r\nc=IN IP4 192.168.1.64\r\nt=1764489600 1764489624\r\nm=video 15060 RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=downloadspeed:4\r\na=filesize:52428800\r\ny=1100000001\r\nf=\r\n';

test('GB28181 Download answer: a=filesize and a=downloadspeed at media or session level; other values are ignored', () => {
  const answer = parseSdp(GB_DOWNLOAD_ANSWER);
  assert.deepEqual([answer.sessionName, answer.fileSize, answer.downloadSpeed, answer.ssrc], ['Download', 52_428_800, 4, '1100000001']);
  assert.deepEqual(answer.media[0]?.rtpmap.get(96), { encoding: 'PS', clockRate: 90000 }, 'the media attributes around them still count');
  const sessionLevel = parseSdp('v=0\r\ns=Download\r\na=filesize:0\r\na=DownloadSpeed:16\r\nm=video 9 RTP/AVP 96\r\n');
  assert.deepEqual([sessionLevel.fileSize, sessionLevel.downloadSpeed], [0, 16]);
  for (const bad of ['-1', '1e9', '12.5', '', '0x10', '9999999999999999']) {
    const parsed = parseSdp(`v=0\r\nm=video 9 RTP/AVP 96\r\na=filesize:${bad}\r\na=downloadspeed:${bad}\r\n`);
    assert.deepEqual([parsed.fileSize, parsed.downloadSpeed], [undefined, undefined], bad);
  }
  assert.equal(parseSdp('v=0\r\na=downloadspeed:0\r\n').downloadSpeed, undefined, 'speed 0 is no speed');
});

test('property: any a=filesize / a=downloadspeed value is read only when it is a plain number in bounds, never throws', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 20 }), fc.nat().map(String), fc.bigInt({ min: 0n, max: 10n ** 18n }).map(String)), fc.boolean(), (value, mediaLevel) => {
      const text = `v=0\r\n${mediaLevel ? 'm=video 9 RTP/AVP 96\r\n' : ''}a=filesize:${value}\r\na=downloadspeed:${value}\r\n`;
      let parsed;
      try {
        parsed = parseSdp(text);
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
        return;
      }
      const trimmed = value.trim();
      assert.equal(parsed.fileSize, /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined);
      assert.equal(parsed.downloadSpeed, /^\d{1,3}$/.test(trimmed) && Number(trimmed) >= 1 ? Number(trimmed) : undefined);
    }),
    { numRuns: 2000 },
  );
});
