import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureHttp } from '../helpers/capture';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { PS_FIXTURE_H264 } from '../helpers/gb-media-sender';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { NginxRtmp } from '../helpers/nginx-rtmp';
import type { PushDto } from '../../src/api/pushes';

/**
 * A GB28181 camera (the test device simulator sending PS over RTP) pushed to nginx-rtmp with
 * no viewer at all: keepSource makes the push pull the camera (INVITE), nginx plays it back
 * as the camera sends it, and deleting the push releases the camera (BYE).
 */

const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 2);
const PATH = `rtp/${DEVICE}_${CHANNELS[0]!.id}`;

const dir = mkdtempSync(join(tmpdir(), 'gw-gb-push-'));
let nginx: NginxRtmp;
let gw: TestGateway;
let sim: GbDeviceSimulator;
before(async () => {
  nginx = await NginxRtmp.start();
  gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_HUB_CLOSE_AFTER: '1' });
  sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels: CHANNELS,
    fixture: PS_FIXTURE_H264,
  });
  await sim.start();
});
after(async () => {
  await sim?.close();
  await gw?.stop();
  await nginx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('keepSource pushes a GB28181 channel with no viewer to nginx-rtmp, which plays it as sent', async () => {
  const created = await gw.api('POST', '/api/devices', { id: DEVICE, streamMode: 'udp' });
  assert.equal(created.statusCode, 201);
  assert.equal((await sim.register())?.status, 200);
  await waitFor(() => gw.gateway.gb28181!.channels.list({ deviceId: DEVICE }).total === CHANNELS.length || undefined, 5000, 'the catalog');
  const push = await gw.api('POST', '/api/pushes', { path: PATH, url: nginx.url('gbcam'), keepSource: true });
  assert.equal(push.statusCode, 201, push.body);
  const id = (push.json() as PushDto).id;
  await waitFor(
    async () => {
      const s = ((await gw.api('GET', `/api/pushes/${id}`)).json() as PushDto).pushes[0];
      return s?.state === 'pushing' && s.framesOut > 10;
    },
    20_000,
    'the push of the camera',
  );
  assert.equal(sim.invites, 1, 'the push alone invited the camera');
  const viewers = gw.gateway.registry.sessions().filter((s) => s.role === 'subscriber' && s.path === PATH);
  assert.deepEqual(
    viewers.map((v) => v.protocol),
    ['relay'],
    'no reader but the push',
  );

  const probed = await ffprobeJson(nginx.url('gbcam'), ['-rw_timeout', '5000000', '-count_frames', '-read_intervals', '%+3'], 30_000);
  const video = probed.streams.find((s) => s.codec_type === 'video');
  // The fixture (sb-im/sbgb28181's device, test/fixtures/rtp/README.md) is H.264 640x480; the
  // frame rate is compared with what the gateway's own HTTP-FLV viewers get of the camera.
  const own = join(dir, 'own.flv');
  assert.equal((await captureHttp(`${gw.httpUrl}/${PATH}.flv`, own, 3000)).status, 200);
  const ownVideo = (await ffprobeJson(own)).streams.find((s) => s.codec_type === 'video');
  assert.deepEqual([video?.codec_name, video?.width, video?.height, video?.r_frame_rate], ['h264', 640, 480, ownVideo?.r_frame_rate], probed.stderr);
  assert.ok(Number(video?.nb_read_frames) >= 20, `frames read back: ${video?.nb_read_frames}`);
  console.log(`# GB28181 push read back from nginx: ${video?.codec_name} ${video?.width}x${video?.height} ${video?.r_frame_rate} (gateway viewer ${ownVideo?.r_frame_rate})`);
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-rw_timeout', '5000000', '-i', nginx.url('gbcam'), '-t', '2', '-f', 'null', '-'], 30_000);
  assert.equal(decode.stderr.trim(), '', decode.stderr);

  const removed = await gw.api('DELETE', `/api/pushes/${id}`);
  assert.equal(removed.statusCode, 200);
  await waitFor(() => sim.byes === 1 || undefined, 8000, 'the BYE once the push is gone');
});
