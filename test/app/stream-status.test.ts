import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gbEndParams, gbEndState, streamStatus, type StreamStatusSources } from '../../src/app/stream-status';
import type { InviteDto } from '../../src/api/play';
import type { ProxyDto } from '../../src/api/proxies';

const DEVICE = '34020000001320000001';
const PATH = `rtp/${DEVICE}_34020000001310000001`;

function invite(over: Partial<InviteDto>): InviteDto {
  return { path: PATH, deviceId: DEVICE, channelId: '34020000001310000001', state: 'ended', mode: 'udp', ssrc: '0100000001', startedAt: 0, localPort: 30002, ...over };
}

function sources(over: Partial<StreamStatusSources> = {}, invites: InviteDto[] = [], online = true): StreamStatusSources {
  return {
    registry: { get: () => undefined },
    gb: { invites: () => invites, device: (id) => (id === DEVICE ? { online, offlineReason: online ? null : 'keepalive timeout' } : undefined), mediaIp: '10.0.0.5' },
    ...over,
  };
}

test('the words a GB28181 pull ended with become a reason: refused, unanswered, no RTP, SSRC mismatch, other', () => {
  assert.equal(gbEndState(`device ${DEVICE} answered 486 Busy Here to INVITE`, undefined), 'invite-refused');
  assert.equal(gbEndState(`device ${DEVICE} did not answer INVITE within 8 s`, undefined), 'invite-timeout');
  assert.equal(gbEndState(`device ${DEVICE} did not answer INVITE (408 Request Timeout)`, undefined), 'invite-timeout');
  assert.equal(gbEndState(`device ${DEVICE} accepted the INVITE but sent no RTP to 10.0.0.5:30002 (udp) within 3 s`, { packets: 0, bytes: 0 }), 'no-rtp');
  assert.equal(gbEndState('whatever', { packets: 0, bytes: 0, ssrcMismatches: 40 }), 'ssrc-mismatch');
  assert.equal(gbEndState(`device ${DEVICE} answered INVITE with unreadable SDP: x`, undefined), 'source-error');
});

test('the parameters of an ended pull: the SIP answer and its phrase, the seconds waited', () => {
  assert.deepEqual(gbEndParams(`device ${DEVICE} answered 486 Rejected to the INVITE for channel 1 of device ${DEVICE}`), { params: { sipStatus: 486 }, detail: '486 Rejected' });
  assert.deepEqual(gbEndParams(`device ${DEVICE} answered 603 to the INVITE for channel 1`), { params: { sipStatus: 603 }, detail: '603' });
  assert.deepEqual(gbEndParams(`device ${DEVICE} did not answer the INVITE for channel 1 of device ${DEVICE} within 8 s`), { params: { seconds: 8 } });
  assert.deepEqual(gbEndParams(`device ${DEVICE} did not answer the INVITE (408 Request Timeout)`), { params: { sipStatus: 408 }, detail: '408 Request Timeout' });
  const noRtp = streamStatus(sources({}, [invite({ endReason: `device ${DEVICE} accepted the INVITE but sent no RTP to 10.0.0.5:30002 (udp) within 3 s: check` })]), PATH);
  assert.deepEqual([noRtp.state, noRtp.params?.address, noRtp.detail], ['no-rtp', '10.0.0.5:30002/udp', undefined], 'worded whole by the console: no English detail');
});

test('stream status: GB28181 device unknown, offline, refused with the media address; proxy auth; missing', () => {
  assert.equal(streamStatus(sources(), 'live/none').state, 'missing');
  assert.equal(streamStatus(sources(), 'rtp/34020000001320000009_34020000001310000001').state, 'device-unknown');
  const offline = streamStatus(sources({}, [], false), PATH);
  assert.equal(offline.state, 'device-offline');
  assert.match(offline.message, /keepalive timeout/);
  const refused = streamStatus(sources({}, [invite({ endReason: `device ${DEVICE} answered 486 Busy Here to INVITE` })]), PATH);
  assert.deepEqual([refused.state, refused.mediaAddress], ['invite-refused', '10.0.0.5:30002/udp']);
  // Structured for the console to word in its language; the device's own phrase is the detail.
  assert.deepEqual(refused.params, { deviceId: DEVICE, sipStatus: 486, address: '10.0.0.5:30002/udp' });
  assert.equal(refused.detail, '486 Busy Here');
  assert.equal(offline.detail, 'keepalive timeout');
  assert.deepEqual(offline.params, { deviceId: DEVICE });
  const waiting = streamStatus(sources({}, [invite({ state: 'waiting-media', media: { packets: 0, bytes: 0, ssrcMismatches: 3 } })]), PATH);
  assert.equal(waiting.state, 'ssrc-mismatch');
  assert.equal(streamStatus(sources({}, [invite({ state: 'inviting' })]), PATH).state, 'starting');
  const proxy = {
    path: 'cam/door',
    onDemand: true,
    status: { state: 'retrying', lastError: { kind: 'auth', message: 'auth failed: user "admin" was refused (401 Unauthorized)', at: 1 } },
  } as ProxyDto;
  const auth = streamStatus(sources({ proxies: { list: () => [proxy] } }), 'cam/door');
  assert.deepEqual([auth.state, auth.message], ['rtsp-auth', 'auth failed: user "admin" was refused (401 Unauthorized)']);
  assert.equal(streamStatus(sources({ receivers: { list: () => [{ path: 'rtp/own', packets: 0, port: 30010 }] } }), 'rtp/own').state, 'no-rtp');
});
