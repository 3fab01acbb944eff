import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../src/core/log';
import { GbServer } from '../../../sip/gb28181/server';
import { waitFor } from '../../helpers/gateway';
import { DEVICE_ID, startServer } from './gb-fixture';

test('the heartbeat interval and count come from ConfigDownload; silence past interval x count is offline', async () => {
  const f = await startServer({ heartbeatInterval: 60, heartbeatCount: 3 });
  try {
    const sim = await f.simulator({ heartbeatInterval: 1, heartbeatCount: 2 });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => f.devices.get(DEVICE_ID)?.heartbeatInterval === 1, 3000, 'BasicParam to be learned');
    assert.equal(f.server.session(DEVICE_ID)?.heartbeatCount, 2);
    await waitFor(() => f.devices.get(DEVICE_ID)?.online === false, 5000, 'offline after 2 s of silence');
    assert.match(f.devices.get(DEVICE_ID)?.offlineReason ?? '', /no keepalive for 2 s/);
  } finally {
    await f.close();
  }
});

test('keepalives keep a device online and are answered 200; an unregistered device gets 403', async () => {
  const f = await startServer();
  try {
    const stranger = await f.simulator({ deviceId: '34020000001320000077' });
    assert.equal((await stranger.keepalive())?.status, 403);
    const sim = await f.simulator({ heartbeatInterval: 1, heartbeatCount: 2 });
    assert.equal((await sim.register())?.status, 200);
    sim.startKeepalives(400);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(f.devices.get(DEVICE_ID)?.online, true);
    assert.equal((await sim.keepalive())?.status, 200);
    sim.stopKeepalives();
  } finally {
    await f.close();
  }
});

test('a keepalive from a new address (NAT rebinding) moves the device: requests go there', async () => {
  const f = await startServer();
  try {
    const moves: string[] = [];
    f.server.events.on('addressChanged', (_id, from, to) => moves.push(`${from} -> ${to}`));
    const sim = await f.simulator();
    assert.equal((await sim.register())?.status, 200);
    const oldPort = sim.localPort;
    await sim.rebind();
    assert.notEqual(sim.localPort, oldPort);
    assert.equal((await sim.keepalive())?.status, 200);
    assert.deepEqual(moves, [`127.0.0.1:${oldPort} -> 127.0.0.1:${sim.localPort}`]);
    assert.equal(f.devices.get(DEVICE_ID)?.address, `127.0.0.1:${sim.localPort}`);
    const status = await f.server.deviceStatus(DEVICE_ID);
    assert.equal(status.online, true, 'the query reached the device at its new port');
  } finally {
    await f.close();
  }
});

test('devices registered before a restart stay online and keep sending keepalives', async () => {
  const f = await startServer();
  try {
    const sim = await f.simulator();
    assert.equal((await sim.register())?.status, 200);
    await f.server.close();
    const again = new GbServer({
      host: '127.0.0.1',
      port: f.port,
      advertisedHost: '127.0.0.1',
      config: f.server.config,
      devices: f.devices,
      channels: f.channels,
      log: silentLogger(),
    });
    await again.listen();
    try {
      assert.ok(again.session(DEVICE_ID), 'restored from SQLite');
      assert.equal((await sim.keepalive())?.status, 200);
    } finally {
      await again.close();
    }
  } finally {
    await f.close();
  }
});

test('a device that never refreshes its REGISTER but keeps sending keepalives stays online past Expires; silence then ends it', async () => {
  const f = await startServer();
  try {
    const sim = await f.simulator({ expires: 1, heartbeatInterval: 1, heartbeatCount: 2 });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => f.devices.get(DEVICE_ID)?.heartbeatInterval === 1, 3000, 'BasicParam to be learned');
    sim.startKeepalives(300);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(f.devices.get(DEVICE_ID)?.online, true, 'online 2.5 s after a 1 s registration, on keepalives alone');
    sim.stopKeepalives();
    const stopped = Date.now();
    await waitFor(() => f.devices.get(DEVICE_ID)?.online === false, 5000, 'offline once the keepalives stop');
    assert.ok(Date.now() - stopped >= 1000, 'not before interval x count of silence');
    assert.match(f.devices.get(DEVICE_ID)?.offlineReason ?? '', /no keepalive for 2 s/);
  } finally {
    await f.close();
  }
});
