import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { ParseError } from '../../../src/core/errors';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { RtspRecord, uriPath } from '../../../src/protocols/rtsp/server-record';
import { osPortAllocator } from '../../../src/protocols/rtsp/udp';

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'rtsp');
const log = pino({ level: 'silent' });
const host = { registry: new Registry(DEFAULT_REGISTRY_OPTIONS, log), log, remote: '127.0.0.1:1', udpPorts: osPortAllocator, onKicked: () => {} };
const announce = (sdp: string, base = 'rtsp://127.0.0.1:8554/live/cam') => new RtspRecord(host, 'live/cam', Buffer.from(sdp), base);

test('ANNOUNCE: ffmpeg SDP becomes tracks whose controls SETUP finds', () => {
  const h264 = announce(`${readFileSync(join(FIXTURES, 'ffmpeg-h264-aac.sdp'), 'utf8')}`);
  assert.deepEqual(
    h264.tracks.map((t) => t.codec),
    ['h264', 'aac'],
  );
  const h265 = announce(
    readFileSync(join(FIXTURES, 'ffmpeg-h265-pcma.sdp'), 'utf8')
      .replace(/(m=audio[^\n]*\n)/, '$1a=control:streamid=1\n')
      .replace(/(m=video[^\n]*\n)/, '$1a=control:streamid=0\n'),
  );
  assert.deepEqual(
    h265.tracks.map((t) => t.codec),
    ['h265', 'g711a'],
  );
  assert.equal(h265.trackOf('rtsp://127.0.0.1:8554/live/cam/streamid=1'), 1);
  assert.equal(h265.trackOf('rtsp://127.0.0.1:8554/live/cam/streamid=0?key=x'), 0);
  assert.equal(h265.trackOf('rtsp://127.0.0.1:8554/live/cam/streamid=7'), undefined);
  assert.equal(uriPath('rtsp://h:1/a/b/streamid=0/?q=1'), '/a/b/streamid=0');
  // ffmpeg appends the control after a query the URL had.
  assert.equal(h265.trackOf('rtsp://127.0.0.1:8554/live/cam?key=k/streamid=1'), 1);
});

test('ANNOUNCE: an SDP without a carried track is a ParseError', () => {
  assert.throws(() => announce('v=0\r\no=- 0 0 IN IP4 1.2.3.4\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 26\r\n'), ParseError);
  assert.throws(() => announce(''), ParseError);
});

test('fuzz: ANNOUNCE bodies (ffmpeg SDP cut, spliced and mutated, or junk) make tracks or a ParseError, nothing else', () => {
  const bases = [
    'ffmpeg-h264-aac.sdp',
    'ffmpeg-h264-sprop.sdp',
    'ffmpeg-h265-pcma.sdp',
    'ffmpeg-h265-sprop.sdp',
    'ffmpeg-pcmu.sdp',
    'ffmpeg-latm.sdp',
    'camera-absolute-control.sdp',
    'camera-relative-control.sdp',
  ].map((f) => readFileSync(join(FIXTURES, f), 'utf8'));
  const mutated = fc.tuple(fc.constantFrom(...bases), fc.nat(), fc.nat(), fc.string({ maxLength: 40 })).map(([sdp, at, cut, insert]) => {
    const i = at % (sdp.length + 1);
    return sdp.slice(0, i) + insert + sdp.slice(Math.min(sdp.length, i + (cut % 20)));
  });
  const lines = fc
    .array(
      fc.constantFrom(
        'm=video 0 RTP/AVP 96',
        'm=audio 0 RTP/AVP 97',
        'a=rtpmap:96 H264/90000',
        'a=rtpmap:97 MPEG4-GENERIC/0/9',
        'a=fmtp:96 sprop-parameter-sets=AAAA,',
        'a=fmtp:97 mode=AAC-hbr;config=zz',
        'a=control:',
        'c=IN IP4 x',
        'v=0',
      ),
      { maxLength: 12 },
    )
    .map((l) => l.join('\r\n'));
  fc.assert(
    fc.property(fc.oneof(mutated, lines, fc.string({ maxLength: 300 })), (body) => {
      try {
        const record = announce(body);
        assert.ok(record.tracks.length > 0);
        for (const t of record.tracks) assert.ok(['h264', 'h265', 'aac', 'g711a', 'g711u'].includes(t.codec));
      } catch (err) {
        assert.ok(err instanceof ParseError, `${String(err)} for ${JSON.stringify(body.slice(0, 200))}`);
      }
    }),
    { numRuns: 3000 },
  );
});
