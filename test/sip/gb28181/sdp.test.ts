import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ParseError } from '../../../src/core/errors';
import { parseSdp } from '../../../src/formats/sdp/sdp';
import { answerVideo, buildInviteSdp } from '../../../sip/gb28181/sdp';

const HIK_ANSWER =
  'v=0\r\no=34020000001320000001 0 0 IN IP4 192.168.1.64\r\ns=Play\r\nc=IN IP4 192.168.1.64\r\nt=0 0\r\nm=video 15060 TCP/RTP/AVP 96\r\na=sendonly\r\na=rtpmap:96 PS/90000\r\na=setup:passive\r\na=connection:new\r\ny=0100000001\r\nf=\r\n';

test('the INVITE SDP is what wvp sends: PS first, TCP setup, y=', () => {
  const sdp = buildInviteSdp({ channelId: '34020000001310000001', mediaIp: '10.0.0.5', mediaPort: 30000, mode: 'tcp-passive', ssrc: '0200000001' }).toString();
  assert.equal(
    sdp,
    'v=0\r\no=34020000001310000001 0 0 IN IP4 10.0.0.5\r\ns=Play\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=video 30000 TCP/RTP/AVP 96 98 99\r\na=recvonly\r\na=rtpmap:96 PS/90000\r\na=rtpmap:98 H264/90000\r\na=rtpmap:99 H265/90000\r\na=setup:passive\r\na=connection:new\r\ny=0200000001\r\n',
  );
  assert.match(
    buildInviteSdp({ channelId: 'c', mediaIp: '1.2.3.4', mediaPort: 1, mode: 'udp', ssrc: '1' }).toString(),
    /m=video 1 RTP\/AVP 96 98 99\r\na=recvonly\r\na=rtpmap:96 PS\/90000/,
  );
  assert.match(buildInviteSdp({ channelId: 'c', mediaIp: '1.2.3.4', mediaPort: 1, mode: 'tcp-active', ssrc: '1' }).toString(), /a=setup:active/);
});

test('a device answer gives its media address, setup and own y=', () => {
  const sdp = parseSdp(Buffer.from(HIK_ANSWER));
  const video = answerVideo(sdp)!;
  assert.equal(video.address, '192.168.1.64');
  assert.equal(video.media.port, 15060);
  assert.equal(video.media.setup, 'passive');
  assert.equal(video.media.direction, 'sendonly');
  assert.deepEqual([...video.media.rtpmap], [[96, { encoding: 'PS', clockRate: 90000 }]]);
  assert.equal(sdp.ssrc, '0100000001');
  assert.equal(sdp.format, '');
  assert.equal(parseSdp(HIK_ANSWER.replace(/\r\n/g, '\n')).ssrc, '0100000001', 'bare LF line ends');
});

for (const bad of ['v=0\r\nm=video 99999 RTP/AVP', 'v=1', 'v=0\r\nm=video']) {
  test(`bad SDP ${JSON.stringify(bad.slice(0, 20))} throws ParseError`, () => assert.throws(() => parseSdp(bad), ParseError));
}

test('sloppy answers are read as far as they go: a broken c= or y= is left out, not fatal', () => {
  const sdp = parseSdp('v=0\r\nc=IN IP4\r\ny=abc\r\nxx\r\nm=video 1 RTP/AVP 96\r\n');
  assert.equal(sdp.connection, undefined);
  assert.equal(sdp.ssrc, undefined);
  assert.equal(answerVideo(sdp)?.media.port, 1);
  assert.equal(answerVideo(parseSdp('')), undefined, 'no media: the INVITE layer refuses the answer');
});

test('property: built offers parse back (port, proto, setup, ssrc, address)', () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  fc.assert(
    fc.property(
      ip,
      fc.integer({ min: 1, max: 65535 }),
      fc.constantFrom('udp' as const, 'tcp-passive' as const, 'tcp-active' as const),
      fc.stringMatching(/^\d{10}$/),
      (mediaIp, mediaPort, mode, ssrc) => {
        const sdp = parseSdp(buildInviteSdp({ channelId: '34020000001310000001', mediaIp, mediaPort, mode, ssrc }));
        const video = answerVideo(sdp)!;
        assert.equal(video.address, mediaIp);
        assert.equal(video.media.port, mediaPort);
        assert.equal(video.media.protocol, mode === 'udp' ? 'RTP/AVP' : 'TCP/RTP/AVP');
        assert.equal(video.media.setup, mode === 'udp' ? undefined : mode === 'tcp-active' ? 'active' : 'passive');
        assert.equal(video.media.rtpmap.get(96)!.encoding, 'PS');
        assert.equal(sdp.ssrc, ssrc);
      },
    ),
    { numRuns: 500 },
  );
});

test('property: random and mutated SDP only throw ParseError', () => {
  const check = (s: string): void => {
    try {
      parseSdp(s);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
    }
  };
  fc.assert(fc.property(fc.string({ maxLength: 500 }), check), { numRuns: 1000 });
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 3 }))), (edits) => {
      let s = HIK_ANSWER;
      for (const [at, piece] of edits) s = s.slice(0, at % s.length) + piece + s.slice((at % s.length) + 1);
      check(s);
    }),
    { numRuns: 2000 },
  );
});
