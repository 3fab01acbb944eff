import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS, startTestGateway, waitFor } from '../helpers/gateway';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { PS_FIXTURE_H264 } from '../helpers/gb-media-sender';
import { ffprobePath, runTool } from '../helpers/media-tools';
import { spawnGatewayChild } from '../helpers/gateway-child';

const DEVICE = '34020000001320000001';
const CHANNEL = makeChannels(DEVICE, 1)[0]!.id;

test('after a gateway crash (SIGKILL) the dialogs it left open get their BYE from the restarted gateway; a download it left running is failed, its file recovered', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-restart-'));
  const env = {
    GW_SIP_MEDIA_IP: '127.0.0.1',
    GW_STORAGE_DIR: dir,
    GW_LOG_PRETTY: 'no',
    GW_HUB_CLOSE_AFTER: '60',
    GW_AUTH_SECRET: TEST_SECRETS.secret,
    GW_SIP_PASSWORD: TEST_SECRETS.sipPassword,
  };
  const first = spawnGatewayChild(env);
  let sim: GbDeviceSimulator | undefined;
  try {
    const ports = await first.ports();
    sim = new GbDeviceSimulator({
      deviceId: DEVICE,
      serverPort: ports.sip,
      serverId: '34020000002000000001',
      domain: '3402000000',
      password: TEST_SECRETS.sipPassword,
      channels: makeChannels(DEVICE, 1),
      playbackFixture: PS_FIXTURE_H264,
      serveRange: true,
    });
    await sim.start();
    assert.equal((await sim.register())?.status, 200);
    const played = await fetch(`http://127.0.0.1:${ports.http}/api/play/${DEVICE}/${CHANNEL}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_SECRETS.secret}` } });
    assert.equal(played.status, 200, await played.text());
    const dialog = [...sim.dialogs.values()][0]!;
    assert.equal(dialog.mediaStarted, true);
    const start = Math.floor(Date.now() / 1000) - 3600;
    const download = await fetch(`http://127.0.0.1:${ports.http}/api/downloads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_SECRETS.secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: DEVICE, channelId: CHANNEL, start, end: start + 30, speed: 1 }),
    });
    assert.equal(download.status, 201, await download.clone().text());
    const downloadId = ((await download.json()) as { id: number }).id;
    // Long enough for the recorder to flush part of the clip (record.flushSeconds).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await first.kill();
    assert.equal(sim.byes, 0, 'a killed gateway sends no BYE');

    const gw = await startTestGateway({ GW_STORAGE_DIR: dir, GW_SIP_MEDIA_IP: '127.0.0.1' });
    try {
      await waitFor(() => [...sim!.dialogs.values()].every((d) => d.byeReceived) || undefined, 5000, 'the BYEs of the stale dialogs');
      const byes = sim.received.filter((r) => r.method === 'BYE').map((r) => r.headers.get('call-id')?.[0]);
      assert.deepEqual([...new Set(byes)].sort(), [...sim.dialogs.keys()].sort(), 'the live dialog and the download dialog (UDP may repeat a BYE)');
      const left = gw.gateway.db.prepare('SELECT COUNT(*) AS n FROM gb_dialogs').get() as { n: number };
      assert.equal(left.n, 0, 'the stale dialogs are forgotten');
      const failed = (await gw.api('GET', `/api/downloads/${downloadId}`)).json();
      assert.deepEqual([failed.state, failed.error], ['failed', 'the gateway stopped during the download']);
      const rows = (await gw.api('GET', `/api/recordings?path=${failed.path}&start=${start * 1000}&end=${(start + 30) * 1000}`)).json().recordings;
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, 'recovered');
      assert.equal(rows[0].startMs, start * 1000, 'still on the device clock');
      const probe = await runTool(ffprobePath, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', gw.gateway.recording.layout.inside(rows[0].file)]);
      assert.equal(probe.stderr.trim(), '', 'the recovered file decodes cleanly');
      assert.ok(Number(probe.stdout) > 0.5, `recovered ${probe.stdout.trim()} s`);
    } finally {
      await gw.stop();
    }
  } finally {
    await first.kill();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
