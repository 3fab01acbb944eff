import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInviteSdp } from '../../../sip/gb28181/sdp';
import { maskDigestResponse } from '../../../sip/gb28181/sip-log';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, PASSWORD, startServer } from './gb-fixture';

/** On loopback, 127.0.0.2 is "another host" than the device's 127.0.0.1. */
const STRANGER = '127.0.0.2';
const CHANNEL = '34020000001310000001';

function target() {
  const ssrc = '0200000001';
  const sdp = buildInviteSdp({ channelId: CHANNEL, mediaIp: '127.0.0.1', mediaPort: 30000, mode: 'udp' as const, ssrc });
  return { deviceId: DEVICE_ID, channelId: CHANNEL, mediaIp: '127.0.0.1', mediaPort: 30000, mode: 'udp' as const, ssrc, sdp };
}

test('three wrong passwords from another address ban that address, never the real device', async () => {
  const f = await startServer({ authFailLimit: 3, banMs: 60_000 });
  try {
    const stranger = await f.simulator({ localHost: STRANGER });
    for (let i = 0; i < 3; i++) assert.equal((await stranger.register({ password: 'guess' }))?.status, 403);
    const strangerAgain = await stranger.register({ password: PASSWORD });
    assert.equal(strangerAgain?.status, 403, 'the stranger is banned even with the right password');
    assert.match(strangerAgain?.reason ?? '', /banned/);
    const camera = await f.simulator();
    assert.equal((await camera.register())?.status, 200, 'the real camera registers from its own address');
    assert.equal(f.server.session(DEVICE_ID)?.remote.address, '127.0.0.1');
  } finally {
    await f.close();
  }
});

test('a spoofed keepalive from another address neither moves the device nor counts as liveness', async () => {
  const f = await startServer();
  try {
    const moves: string[] = [];
    f.server.events.on('addressChanged', (_id, from, to) => moves.push(`${from} -> ${to}`));
    const camera = await f.simulator();
    assert.equal((await camera.register())?.status, 200);
    const before = { ...f.server.session(DEVICE_ID)! };
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stranger = await f.simulator({ localHost: STRANGER });
    const spoofed = await stranger.keepalive();
    assert.equal(spoofed?.status, 403);
    const after = f.server.session(DEVICE_ID)!;
    assert.equal(after.remote.address, '127.0.0.1');
    assert.equal(after.remote.port, before.remote.port);
    assert.equal(after.lastKeepaliveAt, before.lastKeepaliveAt, 'no liveness from a stranger');
    assert.equal(f.devices.get(DEVICE_ID)?.address, `127.0.0.1:${camera.localPort}`);
    assert.deepEqual(moves, []);
    const status = await f.server.deviceStatus(DEVICE_ID);
    assert.equal(status.online, true, 'requests still reach the real camera');
  } finally {
    await f.close();
  }
});

test('a device that really moved to another IP is followed after its fresh REGISTER', async () => {
  const f = await startServer();
  try {
    const camera = await f.simulator();
    assert.equal((await camera.register())?.status, 200);
    const moved = await f.simulator({ localHost: STRANGER });
    assert.equal((await moved.keepalive())?.status, 403);
    assert.equal((await moved.register())?.status, 200);
    assert.equal(f.server.session(DEVICE_ID)?.remote.address, STRANGER);
    assert.equal((await moved.keepalive())?.status, 200);
  } finally {
    await f.close();
  }
});

test('sip.autoRegister off: an unknown id is refused even with the global password; a provisioned one registers', async () => {
  const f = await startServer({ autoRegister: false });
  try {
    const unknown = await f.simulator({ deviceId: '34020000001320000077' });
    const refused = await unknown.register();
    assert.equal(refused?.status, 403);
    assert.match(refused?.reason ?? '', /unknown device/);
    assert.equal(f.devices.get('34020000001320000077'), undefined);
    f.devices.create(DEVICE_ID, { password: 'own-secret', provisioned: true });
    const known = await f.simulator({ password: 'own-secret' });
    assert.equal((await known.register())?.status, 200);
  } finally {
    await f.close();
  }
});

test('BYE and INFO are honoured only with the dialog Call-ID, both tags and from the device address', async () => {
  const f = await startServer();
  try {
    const camera = await f.simulator({ inviteAnswer: 'no-rtp' });
    assert.equal((await camera.register())?.status, 200);
    const dialog = await f.server.invite(target());
    const simDialog = camera.dialogs.get(dialog.callId)!;
    const ourTag = /;tag=([^;>\s]+)/.exec(simDialog.remoteFrom)?.[1] ?? '';
    assert.equal((await camera.inDialog('BYE', dialog.callId, { from: 'forged', to: ourTag }))?.status, 481, 'wrong device tag');
    assert.equal((await camera.inDialog('BYE', dialog.callId, { from: simDialog.localTag, to: 'forged' }))?.status, 481, 'wrong platform tag');
    assert.equal((await camera.inDialog('INFO', dialog.callId, { from: 'forged', to: ourTag }))?.status, 481, 'INFO outside the dialog');
    assert.equal((await camera.inDialog('INVITE', dialog.callId, { from: 'forged', to: ourTag }))?.status, 481, 're-INVITE outside the dialog');
    const stranger = await f.simulator({ localHost: STRANGER });
    assert.equal((await stranger.inDialog('BYE', dialog.callId, { from: simDialog.localTag, to: ourTag }))?.status, 481, 'right ids from another host');
    assert.equal(f.server.dialogs().length, 1, 'the dialog survived every forged request');
    assert.equal((await camera.inDialog('INFO', dialog.callId))?.status, 200, 'INFO inside the dialog');
    assert.equal((await camera.hangUp(dialog.callId))?.status, 200);
    await waitFor(() => f.server.dialogs().length === 0, 2000, 'the real BYE to end the dialog');
  } finally {
    await f.close();
  }
});

test('the SIP log never shows a digest response: it would let the password be cracked offline', async () => {
  const f = await startServer();
  try {
    const camera = await f.simulator();
    assert.equal((await camera.register())?.status, 200);
    const texts = f.server.sipLogOf(DEVICE_ID).map((entry) => entry.text);
    const authorized = texts.find((text) => /^Authorization:/im.test(text));
    assert.ok(authorized, 'the REGISTER with credentials is in the log');
    assert.match(authorized, /response="\*\*\*"/);
    assert.doesNotMatch(authorized, /response="?[0-9a-f]{32}/i);
    assert.equal(maskDigestResponse('Digest username="a", response=0123abcd, nc=00000001'), 'Digest username="a", response="***", nc=00000001');
  } finally {
    await f.close();
  }
});

test('sip.sourceFailLimit: 200 rotating device ids with wrong passwords from one address are cut off per address; a real device elsewhere registers; strangers leave no rows', async () => {
  const f = await startServer({ authFailLimit: 3, banMs: 60_000, sourceFailLimit: 10 });
  try {
    const reasons: string[] = [];
    for (let i = 0; i < 200; i++) {
      const guesser = await f.simulator({ localHost: STRANGER, deviceId: `3402000000132${String(1_000_000 + i).slice(1)}1` });
      const answer = await guesser.register({ password: `guess-${i}` });
      assert.equal(answer?.status, 403);
      reasons.push(answer?.reason ?? '');
      await guesser.close();
    }
    assert.equal(reasons.filter((r) => /wrong password/.test(r)).length, 11, 'only sourceFailLimit + 1 guesses get checked');
    assert.equal(reasons.filter((r) => /banned/.test(r)).length, 189, 'the rest are refused without a challenge');
    const withRightPassword = await f.simulator({ localHost: STRANGER, deviceId: '34020000001320000099' });
    assert.match((await withRightPassword.register())?.reason ?? '', /banned/, 'the banned address is refused even with the right password');
    const camera = await f.simulator();
    assert.equal((await camera.register())?.status, 200, 'the real camera registers from its own address');
    f.devices.flush();
    assert.deepEqual(
      f.devices.list().items.map((d) => d.id),
      [DEVICE_ID],
      'no row for any stranger',
    );
  } finally {
    await f.close();
  }
});
