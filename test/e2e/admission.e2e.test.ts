import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmissionRequest, AdmissionResult } from '../../src/core/admission';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp, captureWs } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';
import { TestRtmpClient } from '../protocols/rtmp/test-client';

/**
 * One admission check refuses every protocol with its own error: HTTP 401/403/503 with
 * {code, message}, WebSocket close 4401/4403/1013, RTMP onStatus with the reason. Publish
 * needs `key=pub`; play needs `token=good` (`bad` is forbidden, `slow` answers after 300 ms,
 * `boom` throws).
 */
let gw: TestGateway;
let publisher: ReturnType<typeof startTool>;
const asked: AdmissionRequest[] = [];
const dir = mkdtempSync(join(tmpdir(), 'gw-admission-'));

async function check(request: AdmissionRequest): Promise<AdmissionResult> {
  asked.push(request);
  if (request.internal) return request.path === 'rtp/denied' ? { allow: false, status: 'forbidden', reason: 'no RTP here' } : { allow: true };
  if (request.action === 'publish')
    return request.query.key === 'pub-key-of-this-test' && request.query.camera !== 'no'
      ? { allow: true }
      : { allow: false, status: 'unauthorized', reason: 'publish key missing' };
  const token = request.query.token;
  if (token === 'boom') throw new Error('token service down');
  if (token === 'slow') await new Promise((resolve) => setTimeout(resolve, 300));
  if (token === 'good' || token === 'slow') return { allow: true, user: 'viewer' };
  if (token === undefined) return { allow: false, status: 'unauthorized', reason: 'token missing' };
  return { allow: false, status: 'forbidden', reason: `token ${token} refused` };
}

before(async () => {
  // The gateway's own access check (auth.publishKey) runs first in the chain: give it the key this test's check wants.
  gw = await startTestGateway({ GW_HUB_WAIT_FOR_PUBLISHER: '1', GW_AUTH_PUBLISH_KEY: 'pub-key-of-this-test' });
  gw.gateway.registry.admission.add('test', check);
  publisher = startTool(ffmpegPath, testPatternArgs(`${gw.rtmpUrl}/live/ok?key=pub-key-of-this-test`, { size: '320x180', gop: 25, audio: false, zeroLatency: true }));
  await waitFor(() => gw.gateway.registry.get('live/ok')?.ready, 20_000, `live/ok to be ready (ffmpeg: ${publisher.stderr()})`);
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('RTMP: a publish without its key is refused with NetStream.Publish.Unauthorized and the reason', async () => {
  const ffmpeg = await runTool(
    ffmpegPath,
    testPatternArgs(`${gw.rtmpUrl}/live/nokey?key=pub-key-of-this-test&camera=no`, { size: '160x120', rate: 10, audio: false, seconds: 2 }),
    15_000,
  );
  assert.notEqual(ffmpeg.code, 0, 'ffmpeg must fail to publish');
  assert.equal(gw.gateway.registry.get('live/nokey'), undefined);
  const client = await TestRtmpClient.open(gw.ports.rtmp);
  try {
    const streamId = await client.connectAndCreateStream('live');
    client.command(streamId, 'publish', 0, null, 'nokey?key=pub-key-of-this-test&camera=no', 'live');
    const status = await client.waitCommand('onStatus', 'NetStream.Publish.Unauthorized');
    assert.equal((status.args[0] as { description?: string }).description, 'publish key missing');
    await client.closed;
  } finally {
    await client.close();
  }
  const seen = asked.find((r) => r.path === 'live/nokey');
  assert.equal(seen?.protocol, 'rtmp');
  assert.ok(seen?.remote?.startsWith('127.0.0.1:'));
});

test('RTMP: play is refused with NetStream.Play.Failed and the reason; ffprobe with the token plays', async () => {
  const client = await TestRtmpClient.open(gw.ports.rtmp);
  try {
    const streamId = await client.connectAndCreateStream('live');
    client.command(streamId, 'play', 0, null, 'ok?token=bad');
    const status = await client.waitCommand('onStatus', 'NetStream.Play.Failed');
    assert.equal((status.args[0] as { description?: string }).description, 'token bad refused');
  } finally {
    await client.close();
  }
  const refused = await ffprobeJson(`${gw.rtmpUrl}/live/ok`, [], 15_000);
  assert.notEqual(refused.code, 0);
  const played = await ffprobeJson(`${gw.rtmpUrl}/live/ok?token=good`, [], 15_000);
  assert.equal(played.code, 0, played.stderr);
  assert.equal(played.streams[0]?.codec_name, 'h264');
});

const HTTP_CASES = [
  { token: undefined, status: 401, code: 'UNAUTHORIZED', ws: 4401 },
  { token: 'bad', status: 403, code: 'FORBIDDEN', ws: 4403 },
  { token: 'boom', status: 503, code: 'UNAVAILABLE', ws: 1013 },
] as const;

for (const { token, status, code, ws } of HTTP_CASES) {
  test(`HTTP-FLV, HTTP-TS, HLS answer ${status} ${code}; WS-FLV and WS-TS close ${ws}`, async () => {
    const query = token ? `?token=${token}` : '';
    for (const url of ['/live/ok.flv', '/live/ok.ts', '/live/ok/index.m3u8', '/live/ok/index.m3u8?session=abcdefgh1234&']) {
      const full = url.includes('?') ? `${url}${query.slice(1)}` : `${url}${query}`;
      const response = await fetch(`${gw.httpUrl}${full}`);
      const text = await response.text();
      assert.equal(response.status, status, `${full}: ${text}`);
      const body = JSON.parse(text) as { code: string; message: string };
      assert.equal(body.code, code, full);
      assert.ok(body.message.length > 0);
    }
    for (const url of ['/live/ok.flv', '/live/ok.ts']) {
      const result = await captureWs(`${gw.httpUrl.replace('http', 'ws')}${url}${query}`, join(dir, 'refused-ws'), 10_000);
      assert.equal(result.closeCode, ws, url);
      assert.equal(result.bytes, 0);
    }
    assert.equal(gw.gateway.registry.get('live/ok')?.readers.total, 0, 'a refused viewer is never a reader');
  });
}

test('an asynchronous check lets the viewer in once it answers, on every protocol', async () => {
  const query = '?token=slow';
  const flv = await captureHttp(`${gw.httpUrl}/live/ok.flv${query}`, join(dir, 'ok.flv'), 1500);
  assert.equal(flv.status, 200);
  assert.ok(flv.bytes > 0);
  const ts = await captureHttp(`${gw.httpUrl}/live/ok.ts${query}`, join(dir, 'ok.ts'), 1500);
  assert.equal(ts.status, 200);
  assert.ok(ts.bytes > 0);
  const hls = await fetch(`${gw.httpUrl}/live/ok/index.m3u8${query}`);
  assert.equal(hls.status, 200);
  assert.match(await hls.text(), /^#EXTM3U/);
  for (const url of ['/live/ok.flv', '/live/ok.ts']) {
    const ws = await captureWs(`${gw.httpUrl.replace('http', 'ws')}${url}${query}`, join(dir, 'ok-ws'), 1500);
    assert.ok(ws.messages > 0, url);
  }
  const viewer = asked.find((r) => r.protocol === 'ws-ts' && r.query.token === 'slow');
  assert.equal(viewer?.action, 'play');
  assert.equal(viewer?.path, 'live/ok');
});

test('internal publishers ask too: an RTP receiver the check refuses is a 403 FORBIDDEN', async () => {
  const open = async (stream: string): Promise<{ status: number; body: { code?: string; message?: string } }> => {
    const response = await fetch(`${gw.httpUrl}/api/rtp/open`, {
      method: 'POST',
      headers: { ...gw.authHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ stream, transport: 'udp' }),
    });
    return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
  };
  const denied = await open('rtp/denied');
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.body, { code: 'FORBIDDEN', message: 'no RTP here' });
  const allowed = await open('rtp/allowed');
  assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
  const request = asked.find((r) => r.path === 'rtp/allowed');
  assert.deepEqual(request, { action: 'publish', path: 'rtp/allowed', protocol: 'rtp', query: {}, internal: true });
  await fetch(`${gw.httpUrl}/api/rtp/rtp/allowed`, { method: 'DELETE', headers: gw.authHeaders });
});
