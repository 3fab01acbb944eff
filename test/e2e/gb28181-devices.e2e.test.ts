import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';
import { GbDeviceSimulator, type SimulatorOptions } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';

const DEVICE = '34020000001320000001';

async function withGateway(
  env: Record<string, string>,
  run: (gw: TestGateway, device: (o?: Partial<SimulatorOptions>) => Promise<GbDeviceSimulator>) => Promise<void>,
): Promise<void> {
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1', ...env });
  const sims: GbDeviceSimulator[] = [];
  try {
    await run(gw, async (options = {}) => {
      const sim = new GbDeviceSimulator({
        deviceId: DEVICE,
        ...gbServerOf(gw),
        ...options,
      });
      sims.push(sim);
      await sim.start();
      return sim;
    });
  } finally {
    await Promise.all(sims.map((s) => s.close()));
    await gw.stop();
  }
}

const getDevice = async (gw: TestGateway, id = DEVICE) => (await gw.api('GET', `/api/devices/${id}`)).json();

test('wrong password: 403, the device never appears, and its SIP log says why', async () => {
  await withGateway({}, async (gw, device) => {
    const sim = await device();
    const answer = await sim.register({ password: 'not-the-password' });
    assert.equal(answer?.status, 403);
    assert.equal((await gw.api('GET', `/api/devices/${DEVICE}`)).statusCode, 404);
    const log = (await gw.api('GET', `/api/devices/${DEVICE}/sip-log`)).json();
    assert.deepEqual(
      log.entries.map((e: { summary: string }) => e.summary.split(' ')[0]),
      ['REGISTER', '401', 'REGISTER', '403'],
    );
  });
});

test('offline detection: expiry and missed keepalives show in the API with the reason', async () => {
  await withGateway({}, async (gw, device) => {
    const expiring = await device({ deviceId: '34020000001320000010', expires: 1 });
    const silent = await device({ deviceId: '34020000001320000011', heartbeatInterval: 1, heartbeatCount: 2 });
    assert.equal((await expiring.register())?.status, 200);
    assert.equal((await silent.register())?.status, 200);
    assert.equal((await getDevice(gw, expiring.id)).online, true);
    await waitFor(async () => (await getDevice(gw, expiring.id)).online === false || undefined, 4000, 'expiry');
    assert.match((await getDevice(gw, expiring.id)).offlineReason, /registration expired/);
    await waitFor(async () => (await getDevice(gw, silent.id)).online === false || undefined, 6000, 'missed keepalives');
    const gone = await getDevice(gw, silent.id);
    assert.match(gone.offlineReason, /no keepalive for 2 s/);
    assert.equal(gone.session, null);
    const play = await gw.api('POST', `/api/play/${silent.id}/34020000001310000001`);
    assert.equal(play.statusCode, 409);
    assert.equal(play.json().code, 'DEVICE_OFFLINE');
    assert.match(play.json().message, /is offline \(no keepalive/);
  });
});

test('NAT rebinding: after a keepalive from a new port the INVITE goes there and the video plays', async () => {
  await withGateway({}, async (gw, device) => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-gb-nat-'));
    try {
      const sim = await device({ channels: makeChannels(DEVICE, 2) });
      assert.equal((await sim.register())?.status, 200);
      const before = sim.localPort;
      await sim.rebind();
      assert.equal((await sim.keepalive())?.status, 200);
      assert.equal((await getDevice(gw)).address, `127.0.0.1:${sim.localPort}`);
      assert.notEqual(before, sim.localPort);
      const file = join(dir, 'nat.flv');
      const capture = await captureHttp(`${gw.httpUrl}/rtp/${DEVICE}_34020000001310000001.flv`, file, 3000);
      assert.equal(capture.status, 200, capture.body);
      assert.equal(sim.invites, 1, 'the INVITE reached the new port');
      const probe = await ffprobeJson(file, ['-count_frames']);
      assert.ok(Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames) >= 20);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a catalog of 800 channels over 40 GB2312 messages, queried again through the API', async () => {
  await withGateway({}, async (gw, device) => {
    const sim = await device({ channels: makeChannels(DEVICE, 800), catalogChunk: 20 });
    assert.equal((await sim.register())?.status, 200);
    await waitFor(async () => (await getDevice(gw)).channelCount === 800 || undefined, 15_000, '800 channels');
    const refreshed = await gw.api('POST', `/api/devices/${DEVICE}/catalog`);
    assert.deepEqual(refreshed.json(), { deviceId: DEVICE, sumNum: 800, received: 800, messages: 40, complete: true, channelCount: 800 });
    const page = (await gw.api('GET', `/api/devices/${DEVICE}/channels?q=${encodeURIComponent('摄像机800号')}`)).json();
    assert.equal(page.total, 1);
    assert.equal(page.items[0].name, '摄像机800号 东门');
  });
});
