import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';
import { GbDeviceSimulator, type SimulatorOptions } from '../helpers/gb-device-simulator';
import { PS_FIXTURE_H264, PS_FIXTURE_H264_AAC } from '../helpers/gb-media-sender';
import { makeChannels } from '../helpers/gb-sim-manscdp';

const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 4);
const CHANNEL = CHANNELS[0]!.id;
const PATH = `rtp/${DEVICE}_${CHANNEL}`;

async function withGateway(run: (gw: TestGateway, dir: string, device: (o?: Partial<SimulatorOptions>) => Promise<GbDeviceSimulator>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-gb-e2e-'));
  const gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1', GW_SIP_MEDIA_TIMEOUT: '3' });
  const sims: GbDeviceSimulator[] = [];
  try {
    await run(gw, dir, async (options = {}) => {
      const sim = new GbDeviceSimulator({
        deviceId: DEVICE,
        ...gbServerOf(gw),
        channels: CHANNELS,
        catalogChunk: 3,
        ...options,
      });
      sims.push(sim);
      await sim.start();
      return sim;
    });
  } finally {
    await Promise.all(sims.map((s) => s.close()));
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const api = (gw: TestGateway, method: 'GET' | 'POST', url: string, payload?: object) => gw.api(method, url, payload);

const MODES: { mode: 'udp' | 'tcp-passive' | 'tcp-active'; sip: 'udp' | 'tcp'; fixture: string; audio: boolean }[] = [
  { mode: 'udp', sip: 'udp', fixture: PS_FIXTURE_H264, audio: false },
  { mode: 'tcp-passive', sip: 'udp', fixture: PS_FIXTURE_H264_AAC, audio: true },
  { mode: 'tcp-active', sip: 'tcp', fixture: PS_FIXTURE_H264, audio: false },
];

for (const { mode, sip, fixture, audio } of MODES) {
  test(`GB28181 ${mode} (SIP over ${sip}): register, catalog in SQLite, HTTP-FLV of ${PATH} decodes, BYE after the last viewer`, async () => {
    await withGateway(async (gw, dir, device) => {
      const created = await api(gw, 'POST', '/api/devices', { id: DEVICE, streamMode: mode });
      assert.equal(created.statusCode, 201);
      const sim = await device({ transport: sip, fixture });
      assert.equal((await sim.register())?.status, 200);
      await waitFor(() => gw.gateway.gb28181!.channels.list({ deviceId: DEVICE }).total === CHANNELS.length || undefined, 5000, 'the catalog in SQLite');
      const row = gw.gateway.db.prepare('SELECT name, status FROM gb_channels WHERE device_id = ? AND id = ?').get(DEVICE, CHANNEL) as { name: string };
      assert.equal(row.name, '摄像机1号 东门');

      const file = join(dir, 'view.flv');
      const capture = await captureHttp(`${gw.httpUrl}/${PATH}.flv`, file, 4500);
      assert.equal(capture.status, 200, capture.body);
      assert.equal(sim.invites, 1);
      const offer = sim.received.find((r) => r.method === 'INVITE')!.body.toString();
      assert.match(offer, mode === 'udp' ? /m=video \d+ RTP\/AVP 96/ : /m=video \d+ TCP\/RTP\/AVP 96/);
      const probe = await ffprobeJson(file, ['-count_frames']);
      const video = probe.streams.find((s) => s.codec_type === 'video');
      assert.equal(video?.codec_name, 'h264', probe.stderr);
      assert.equal(video?.width, audio ? 1280 : 640);
      assert.ok(Number(video?.nb_read_frames) >= 30, `decoded ${video?.nb_read_frames} frames`);
      if (audio) assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      assert.equal(probe.stderr.trim(), '');

      await waitFor(() => sim.byes === 1 || undefined, 5000, 'the BYE at the device after closeAfter');
      const invites = (await api(gw, 'GET', '/api/invites')).json().invites;
      assert.equal(invites[0].state, 'ended');
      assert.equal(invites[0].mode, mode);
      assert.ok(invites[0].media.packets > 50, `packets ${invites[0].media.packets}`);
      assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0);
      await waitFor(() => gw.gateway.registry.list().length === 0 || undefined, 3000, 'the stream to end');
    });
  });
}

test('GB28181 play API: URLs of every protocol once it plays; a device that never sends RTP fails viewers with why', async () => {
  await withGateway(async (gw, dir, device) => {
    const sim = await device({ transport: 'udp' });
    assert.equal((await sim.register())?.status, 200);
    const played = await api(gw, 'POST', `/api/play/${DEVICE}/${CHANNEL}`);
    assert.equal(played.statusCode, 200, played.body);
    const info = played.json();
    assert.equal(info.flv, `http://localhost:${gw.ports.http}/${PATH}.flv`);
    assert.equal(info.rtmp, `rtmp://localhost:${gw.ports.rtmp}/${PATH}`);
    assert.equal(info.hls, `http://localhost:${gw.ports.http}/${PATH}/index.m3u8`);
    assert.equal(info.tracks[0].codec, 'h264');
    await waitFor(() => sim.byes === 1 || undefined, 5000, 'BYE when nobody watched');

    sim.options.inviteAnswer = 'no-rtp';
    const capture = await captureHttp(`${gw.httpUrl}/rtp/${DEVICE}_${CHANNELS[1]!.id}.flv`, join(dir, 'none.flv'), 8000);
    assert.equal(capture.status, 504, 'a device that accepts but stays silent is a timeout');
    assert.match(capture.body, /accepted the INVITE but sent no RTP to 127\.0\.0\.1:\d+ \(tcp-passive\) within 3 s/);
    await waitFor(() => sim.byes === 2 || undefined, 3000, 'BYE for the silent dialog');
    assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0);
  });
});

test('GB28181 sub-stream: rtp/{dev}_{ch}_sub INVITEs with a=streamnumber:1 and the vendor forms, and decodes; the main path sends none', async () => {
  await withGateway(async (gw, dir, device) => {
    const created = await api(gw, 'POST', '/api/devices', { id: DEVICE, streamMode: 'udp' });
    assert.equal(created.statusCode, 201, created.body);
    const sim = await device({ transport: 'udp' });
    assert.equal((await sim.register())?.status, 200);
    const file = join(dir, 'sub.flv');
    const capture = await captureHttp(`${gw.httpUrl}/${PATH}_sub.flv`, file, 3000);
    assert.equal(capture.status, 200, capture.body);
    const offers = sim.received.filter((r) => r.method === 'INVITE').map((r) => r.body.toString());
    assert.equal(offers.length, 1);
    const sub = offers[0]!;
    assert.match(sub, /^s=Play$/m);
    assert.match(sub, /^a=streamnumber:1$/m);
    assert.match(sub, /^a=stream:1$/m);
    assert.match(sub, /^a=streamprofile:1$/m);
    assert.match(sub, /^a=streamMode:SUB$/m);
    const video = (await ffprobeJson(file)).streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264');
    await waitFor(() => sim.byes === 1 || undefined, 5000, 'the BYE of the sub-stream dialog');

    const main = await captureHttp(`${gw.httpUrl}/${PATH}.flv`, join(dir, 'main.flv'), 1500);
    assert.equal(main.status, 200, main.body);
    const mainOffer = sim.received.filter((r) => r.method === 'INVITE').map((r) => r.body.toString())[1]!;
    assert.doesNotMatch(mainOffer, /^a=stream(number|profile|Mode)?:/m);
  });
});
