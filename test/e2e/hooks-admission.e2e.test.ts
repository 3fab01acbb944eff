import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { HookReceiver } from '../helpers/hook-receiver';
import { publishTestPattern, testPatternArgs } from '../helpers/publisher';
import { captureHttp } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { scrapeMetrics } from '../helpers/prometheus';
import { startRtspPublisher, startRtspServer, waitForPublishing, type RtspTestServer } from '../helpers/rtsp-server';
import { TestRtmpClient } from '../protocols/rtmp/test-client';

/**
 * on_publish / on_play through the hub's admission seam, against a hook receiver that denies,
 * answers late or is down; on_stream_not_found answered with the URL of a real RTSP server
 * (rtsp-streaming-server from npm, fed by ffmpeg).
 */
const dir = mkdtempSync(join(tmpdir(), 'gw-hook-adm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a hook receiver that denies, is slow, then is down', () => {
  let receiver: HookReceiver;
  let gw: TestGateway;
  before(async () => {
    receiver = await new HookReceiver().listen();
    receiver.respond('on_publish', (body) => (body.stream === 'blocked' ? { json: { code: 403, msg: 'camera not provisioned' } } : { json: { code: 0 } }));
    receiver.respond('on_play', (body) => {
      const params = body.params as Record<string, string>;
      if (params.ticket === 'slow') return { delayMs: 5000 };
      return params.ticket === 'ok' ? { json: { code: 0 } } : { json: { code: 1, msg: 'ticket expired' } };
    });
    gw = await startTestGateway({ GW_HOOKS_ON_PUBLISH: receiver.url('on_publish'), GW_HOOKS_ON_PLAY: receiver.url('on_play'), GW_HOOKS_TIMEOUT: '0.5' });
  });
  after(async () => {
    await gw.stop();
    await receiver.close();
  });

  test("on_publish denied: RTMP publish refused with the receiver's reason; ffmpeg fails", async () => {
    const ffmpeg = await runTool(ffmpegPath, testPatternArgs(gw.publishUrl('live/blocked'), { size: '160x120', rate: 10, audio: false, seconds: 2 }), 15_000);
    assert.notEqual(ffmpeg.code, 0);
    assert.equal(gw.gateway.registry.get('live/blocked'), undefined);
    const client = await TestRtmpClient.open(gw.ports.rtmp);
    try {
      const streamId = await client.connectAndCreateStream('live');
      client.command(streamId, 'publish', 0, null, `blocked?key=${gw.config.auth.publishKey}`, 'live');
      const status = await client.waitCommand('onStatus', 'NetStream.Publish.Unauthorized');
      assert.equal((status.args[0] as { description?: string }).description, 'camera not provisioned');
    } finally {
      await client.close();
    }
  });

  test('on_play denied: HTTP-FLV 403 and RTMP Play.Failed with the reason; a slow receiver costs the timeout, the live viewer keeps playing', async () => {
    const ffmpeg = await publishTestPattern(gw, 'live/cam', { size: '320x240' });
    try {
      const refused = await fetch(`${gw.httpUrl}/live/cam.flv?ticket=old`);
      assert.equal(refused.status, 403);
      assert.deepEqual(await refused.json(), { code: 'FORBIDDEN', message: 'ticket expired' });
      const client = await TestRtmpClient.open(gw.ports.rtmp);
      try {
        const streamId = await client.connectAndCreateStream('live');
        client.command(streamId, 'play', 0, null, 'cam?ticket=old');
        const status = await client.waitCommand('onStatus', 'NetStream.Play.Failed');
        assert.equal((status.args[0] as { description?: string }).description, 'ticket expired');
      } finally {
        await client.close();
      }
      const live = captureHttp(`${gw.httpUrl}/live/cam.flv?ticket=ok`, join(dir, 'live.flv'), 4000);
      await waitFor(() => gw.gateway.registry.get('live/cam')?.readers.total === 1, 5000, 'the live viewer');
      const bytesBefore = gw.gateway.registry.get('live/cam')?.bytesOut ?? 0;
      const started = Date.now();
      const slow = await Promise.all([1, 2, 3].map(() => fetch(`${gw.httpUrl}/live/cam.flv?ticket=slow`)));
      const waited = Date.now() - started;
      for (const response of slow) {
        assert.equal(response.status, 503);
        assert.match(((await response.json()) as { message: string }).message, /on_play hook failed: the hook receiver did not answer within 500 ms/);
      }
      assert.ok(waited < 4000, `the refusals came after the 0.5 s timeout, not the receiver's 5 s (${waited} ms)`);
      const result = await live;
      assert.equal(result.status, 200);
      assert.ok((gw.gateway.registry.get('live/cam')?.bytesOut ?? 0) > bytesBefore, 'the live viewer kept receiving while hooks timed out');
      const probe = await ffprobeJson(join(dir, 'live.flv'), ['-count_frames']);
      assert.ok(Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames) > 40, 'about 4 s of video at 25 fps');
      const metrics = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
      assert.equal(metrics.value('gateway_hook_calls_total', { hook: 'on_play', result: 'timeout' }), 3);
      assert.ok(metrics.value('gateway_hook_calls_total', { hook: 'on_play', result: 'ok' }) >= 3);
    } finally {
      await ffmpeg.stop();
    }
  });

  test('a receiver that is down: fail closed refuses with 503 at once, and says why', async () => {
    await receiver.close();
    const started = Date.now();
    const response = await fetch(`${gw.httpUrl}/live/any.flv?ticket=ok`);
    assert.equal(response.status, 503);
    assert.match(((await response.json()) as { message: string }).message, /could not be reached \(ECONNREFUSED\)/);
    assert.ok(Date.now() - started < 3000);
    receiver = await new HookReceiver().listen();
  });
});

describe('on_stream_not_found answered with an RTSP URL', () => {
  let receiver: HookReceiver;
  let server: RtspTestServer;
  let camera: ReturnType<typeof startRtspPublisher>;
  let gw: TestGateway;
  before(async () => {
    server = await startRtspServer('rtsp-streaming-server');
    camera = startRtspPublisher(server.publishUrl('cams/door'), { transport: 'udp' });
    await waitForPublishing(camera);
    receiver = await new HookReceiver().listen();
    receiver.respond('on_stream_not_found', (body) =>
      body.app === 'pulled' ? { json: { code: 0, url: server.playUrl(`cams/${String(body.stream)}`) } } : { json: { code: 404 } },
    );
    gw = await startTestGateway({
      GW_HOOKS_ON_STREAM_NOT_FOUND: receiver.url('on_stream_not_found'),
      GW_HOOKS_ON_STREAM_NONE_READER: receiver.url('on_stream_none_reader'),
      GW_HOOKS_NONE_READER_DELAY: '0.5',
      GW_HUB_WAIT_FOR_PUBLISHER: '5',
    });
  });
  after(async () => {
    await gw.stop();
    await receiver.close();
    await camera.stop();
    await server.stop();
  });

  test('the viewer plays the pulled stream; the pull stops once nobody watches', async () => {
    const file = join(dir, 'pulled.flv');
    const result = await captureHttp(`${gw.httpUrl}/pulled/door.flv`, file, 4000);
    assert.equal(result.status, 200, result.body);
    const probe = await ffprobeJson(file, ['-count_frames']);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264');
    assert.ok(Number(video?.nb_read_frames) > 10, `frames: ${String(video?.nb_read_frames)}`);
    assert.equal(receiver.of('on_stream_not_found')[0]?.body.path, 'pulled/door');
    await waitFor(() => receiver.of('on_stream_none_reader').length >= 1, 5000, 'on_stream_none_reader');
    await waitFor(() => gw.gateway.proxies.list().length === 0 && !gw.gateway.registry.get('pulled/door'), 5000, 'the hook pull to stop');
    const missing = await fetch(`${gw.httpUrl}/other/none.flv`);
    assert.equal(missing.status, 404, 'a refused not_found leaves the usual 404');
  });
});
