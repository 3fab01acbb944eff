import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';
import { NginxRtmp, waitForPort } from '../helpers/nginx-rtmp';
import { NodeMediaServer } from '../helpers/node-media-server';
import type { ProxyDto } from '../../src/api/proxies';

/**
 * Pull proxies of rtmp:// (from nginx-rtmp) and http://...flv (from node-media-server), both
 * fed by ffmpeg, both on demand: nothing is pulled until the first viewer, the first viewer
 * starts the pull and gets the stream as published, and the last one leaving releases it.
 */

const dir = mkdtempSync(join(tmpdir(), 'gw-pull-'));

async function api<T>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

function publishTo(url: string): ReturnType<typeof startTool> {
  return startTool(ffmpegPath, testPatternArgs(url, { size: '320x240', gop: 25, zeroLatency: true, audioBitrate: '64k' }));
}

/** Until the server plays the stream back (ffprobe reads a video stream from it). */
async function waitServing(url: string): Promise<void> {
  await waitFor(async () => (await ffprobeJson(url, ['-rw_timeout', '3000000'], 8000)).streams.some((s) => s.codec_type === 'video'), 20_000, `${url} to be served`);
}

async function proxyState(gw: TestGateway, id: string): Promise<ProxyDto['status']> {
  return (await api<ProxyDto>(gw, 'GET', `/api/proxies/${id}`)).json.status;
}

/** One on-demand round: idle, a viewer starts it and decodes it, leaving releases it. */
async function onDemandRound(gw: TestGateway, id: string, path: string, name: string): Promise<void> {
  assert.equal((await proxyState(gw, id)).state, 'idle');
  const file = join(dir, `${name}.flv`);
  const viewer = captureHttp(`${gw.httpUrl}/${path}.flv`, file, 4000);
  await waitFor(async () => (await proxyState(gw, id)).state === 'playing', 10_000, 'the pull to start for the first viewer');
  assert.equal((await viewer).status, 200);
  const playing = await proxyState(gw, id);
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', decode.stderr);
  const probe = await ffprobeJson(file, ['-count_frames']);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  assert.deepEqual([video?.codec_name, video?.width, video?.height, video?.r_frame_rate], ['h264', 320, 240, '25/1']);
  assert.ok(Number(video?.nb_read_frames) >= 50, `frames: ${video?.nb_read_frames}`);
  assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  assert.ok(
    playing.tracks.some((t) => t.startsWith('h264 320x240')),
    JSON.stringify(playing),
  );
  await waitFor(async () => (await proxyState(gw, id)).state === 'stopped', 10_000, 'the last viewer leaving to release the pull');
  assert.equal(gw.gateway.registry.get(path), undefined);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('pull proxies of RTMP and HTTP-FLV servers', () => {
  let nginx: NginxRtmp;
  let nms: NodeMediaServer;
  let gw: TestGateway;
  const publishers: ReturnType<typeof startTool>[] = [];
  before(async () => {
    nginx = await NginxRtmp.start();
    nms = await NodeMediaServer.start();
    publishers.push(publishTo(nginx.url('src')), publishTo(nms.rtmpUrl('live/src')));
    await waitForPort(nms.httpPort);
    await Promise.all([waitServing(nginx.url('src')), waitServing(nms.flvUrl('live/src'))]);
    gw = await startTestGateway({ GW_HUB_CLOSE_AFTER: '1' });
  });
  after(async () => {
    await Promise.all(publishers.map((p) => p.stop()));
    await gw?.stop();
    await nginx?.stop();
    await nms?.stop();
  });

  test('rtmp:// from nginx-rtmp, on demand', async () => {
    const created = await api<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'relay/nginx', url: nginx.url('src'), onDemand: true });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await onDemandRound(gw, created.json.id, 'relay/nginx', 'nginx');
  });

  test('http://...flv from node-media-server, on demand', async () => {
    const created = await api<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'relay/nms', url: nms.flvUrl('live/src'), onDemand: true });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    await onDemandRound(gw, created.json.id, 'relay/nms', 'nms');
  });

  test('a pull of a stream the server does not have fails the viewer with the reason', async () => {
    const created = await api<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'relay/missing', url: nginx.url('nothing-here'), onDemand: true });
    const res = await fetch(`${gw.httpUrl}/relay/missing.flv`);
    const body = (await res.json()) as { code: string; message: string };
    assert.notEqual(res.status, 200);
    assert.match(body.message, /nothing-here|timed out|no play start|stream/i);
    const status = await proxyState(gw, created.json.id);
    assert.ok(status.lastError, JSON.stringify(status));
  });
});
