import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInviteSdp } from '../../../sip/gb28181/sdp';
import type { Dialog } from '../../../sip/gb28181/invite';
import { header } from '../../helpers/gb-sip-text';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, SERVER_ID, startServer } from './gb-fixture';

const CHANNEL = '34020000001310000001';

function target(ssrc = '0200000001') {
  const sdp = buildInviteSdp({ channelId: CHANNEL, mediaIp: '127.0.0.1', mediaPort: 30000, mode: 'udp' as const, ssrc });
  return { deviceId: DEVICE_ID, channelId: CHANNEL, mediaIp: '127.0.0.1', mediaPort: 30000, mode: 'udp' as const, ssrc, sdp };
}

test('INVITE with Subject and the offer, 200 with the device SDP, ACK, then our BYE reaches the device', async () => {
  const f = await startServer();
  try {
    const sim = await f.simulator({ inviteAnswer: 'no-rtp' });
    assert.equal((await sim.register())?.status, 200);
    const dialog = await f.server.invite(target());
    const invite = sim.received.find((r) => r.method === 'INVITE')!;
    assert.equal(header(invite, 'subject'), `${CHANNEL}:0200000001,${SERVER_ID}:0`);
    assert.match(invite.uri!, new RegExp(`^sip:${CHANNEL}@127\\.0\\.0\\.1:${sim.localPort}$`));
    assert.match(invite.body.toString(), /a=rtpmap:96 PS\/90000/);
    assert.equal(dialog.answer.ssrc, '0200000001');
    await waitFor(() => sim.acks === 1, 2000, 'the ACK');
    assert.equal(f.server.dialogs().length, 1);
    await f.server.bye(dialog.callId, 'test done');
    assert.equal(sim.byes, 1);
    assert.equal(f.server.dialogs().length, 0);
  } finally {
    await f.close();
  }
});

test('a refusal says which status the device answered', async () => {
  const f = await startServer();
  try {
    const sim = await f.simulator({ inviteAnswer: 488 });
    assert.equal((await sim.register())?.status, 200);
    await assert.rejects(f.server.invite(target()), /device 34020000001320000001 answered 488 Not Acceptable Here to the INVITE for channel 34020000001310000001/);
    await waitFor(() => sim.acks === 1, 2000, 'the ACK of the 488 (transaction layer)');
  } finally {
    await f.close();
  }
});

test('no answer within inviteTimeout fails with why; an offline device fails at once', async () => {
  const f = await startServer({ inviteTimeoutMs: 800 });
  try {
    const sim = await f.simulator({ inviteAnswer: 'ignore' });
    assert.equal((await sim.register())?.status, 200);
    await assert.rejects(f.server.invite(target()), /did not answer the INVITE for channel .* within 1 s/);
    await assert.rejects(f.server.invite({ ...target(), deviceId: '34020000001320000099' }), /device 34020000001320000099 is not known/);
  } finally {
    await f.close();
  }
});

test('a BYE from the device ends the dialog with the reason', async () => {
  const f = await startServer();
  try {
    const ended: [Dialog, string][] = [];
    f.server.events.on('dialogEnded', (d, reason) => ended.push([d, reason]));
    const sim = await f.simulator({ inviteAnswer: 'no-rtp', ownSsrc: '0100000042' });
    assert.equal((await sim.register())?.status, 200);
    const dialog = await f.server.invite(target());
    assert.equal(dialog.answer.ssrc, '0100000042', 'the device answered its own y=');
    assert.equal((await sim.hangUp(dialog.callId))?.status, 200);
    assert.equal(ended.length, 1);
    assert.match(ended[0]![1], /device 34020000001320000001 sent BYE/);
    assert.equal(f.server.dialogs().length, 0);
  } finally {
    await f.close();
  }
});
