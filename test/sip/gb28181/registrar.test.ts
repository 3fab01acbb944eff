import { test } from 'node:test';
import assert from 'node:assert/strict';
import { header } from '../../helpers/gb-sip-text';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, startServer } from './gb-fixture';

test('digest REGISTER: 401 then 200 with a GB Date, Expires honoured, device stored online', async () => {
  const f = await startServer();
  try {
    const online: string[] = [];
    f.server.events.on('online', (id) => online.push(id));
    const sim = await f.simulator({ expires: 1800 });
    const answer = await sim.register();
    assert.equal(answer?.status, 200);
    assert.equal(sim.challenges, 1);
    assert.match(header(answer!, 'date') ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/);
    assert.equal(header(answer!, 'expires'), '1800');
    assert.match(header(answer!, 'via') ?? '', new RegExp(`rport=${sim.localPort}`));
    const record = f.devices.get(DEVICE_ID)!;
    assert.equal(record.online, true);
    assert.equal(record.address, `127.0.0.1:${sim.localPort}`);
    assert.equal(record.expires, 1800);
    assert.deepEqual(online, [DEVICE_ID]);
  } finally {
    await f.close();
  }
});

test('a refresh with the same Call-ID from the same address needs no new challenge; Expires 0 unregisters', async () => {
  const f = await startServer();
  try {
    const offline: string[] = [];
    f.server.events.on('offline', (id, reason) => offline.push(`${id} ${reason}`));
    const sim = await f.simulator();
    assert.equal((await sim.register())?.status, 200);
    assert.equal((await sim.register())?.status, 200);
    assert.equal(sim.challenges, 1, 'the refresh was not challenged');
    assert.equal((await sim.unregister())?.status, 200);
    assert.equal(f.devices.get(DEVICE_ID)?.online, false);
    assert.match(f.devices.get(DEVICE_ID)?.offlineReason ?? '', /Expires: 0/);
    assert.equal(f.server.session(DEVICE_ID), undefined);
    assert.match(offline[0]!, /unregistered/);
  } finally {
    await f.close();
  }
});

test('a wrong password gets 403; repeated failures ban the id even with the right password', async () => {
  const f = await startServer({ authFailLimit: 3, banMs: 60_000 });
  try {
    const sim = await f.simulator();
    for (let i = 0; i < 3; i++) assert.equal((await sim.register({ password: 'wrong' }))?.status, 403);
    const banned = await sim.register();
    assert.equal(banned?.status, 403);
    assert.match(banned?.reason ?? '', /banned/);
    assert.equal(f.devices.get(DEVICE_ID), undefined, 'never stored');
    assert.ok(
      f.server.sipLogOf(DEVICE_ID).some((e) => e.summary.startsWith('403')),
      'the SIP log shows why',
    );
  } finally {
    await f.close();
  }
});

test('a replayed Authorization and a nonce issued to another device do not register', async () => {
  const f = await startServer();
  try {
    const a = await f.simulator();
    assert.equal((await a.register())?.status, 200);
    assert.equal((await a.replayRegister())?.status, 401, 'same nonce and nonce-count again');
    const b = await f.simulator({ deviceId: '34020000001320000002' });
    assert.equal((await b.registerWithChallenge(a.lastChallenge!))?.status, 401, 'a nonce issued to another device');
    assert.equal(f.devices.get('34020000001320000002'), undefined);
  } finally {
    await f.close();
  }
});

test('with an empty global password only provisioned devices register (own password or no auth)', async () => {
  const f = await startServer({ password: '' });
  try {
    const unknown = await f.simulator({ deviceId: '34020000001320000009' });
    assert.equal((await unknown.register())?.status, 403);
    f.devices.create('34020000001320000010', { password: 'own-secret', provisioned: true });
    const own = await f.simulator({ deviceId: '34020000001320000010', password: 'own-secret' });
    assert.equal((await own.register())?.status, 200);
    f.devices.create('34020000001320000011', { noAuth: true, provisioned: true });
    const open = await f.simulator({ deviceId: '34020000001320000011', password: 'anything' });
    assert.equal((await open.register())?.status, 200);
    assert.equal(open.challenges, 0);
  } finally {
    await f.close();
  }
});

test('missing Expires is refused with 400; a REGISTER over TCP works the same', async () => {
  const f = await startServer();
  try {
    const udp = await f.simulator();
    assert.equal((await udp.register({ omitExpires: true }))?.status, 400);
    const tcp = await f.simulator({ transport: 'tcp', deviceId: '34020000001320000003' });
    assert.equal((await tcp.register())?.status, 200);
    assert.equal(f.devices.get('34020000001320000003')?.transport, 'tcp');
  } finally {
    await f.close();
  }
});

test('a registration that is not refreshed expires: offline with the reason', async () => {
  const f = await startServer();
  try {
    const sim = await f.simulator({ expires: 1, heartbeatInterval: 60 });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => f.devices.get(DEVICE_ID)?.online === false, 4000, 'the device to expire');
    assert.match(f.devices.get(DEVICE_ID)?.offlineReason ?? '', /registration expired/);
  } finally {
    await f.close();
  }
});
