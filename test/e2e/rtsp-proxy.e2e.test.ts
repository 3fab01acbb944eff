import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { startRtspPublisher, startRtspServer, waitForPublishing, type RtspTestServer } from '../helpers/rtsp-server';
import type { ProxyDto } from '../../src/api/proxies';

/**
 * The RTSP pull proxy against real RTSP servers from npm that nobody here wrote, with ffmpeg
 * publishing into them (see test/helpers/rtsp-server-child.ts): rtsp-streaming-server serves
 * UDP (with Basic, and Digest through a test verifier), node-rtsp-rtmp-server serves TCP
 * interleaved. Every proxied stream is played over HTTP-FLV and decoded by ffmpeg/ffprobe.
 */

const dir = mkdtempSync(join(tmpdir(), 'gw-rtsp-'));
const CREDS = { username: 'viewer', password: 'p@ss:word' };

async function api<T>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** Decodes the capture with ffmpeg (no errors allowed) and counts frames with ffprobe. */
async function decode(file: string): Promise<{ video: number; audio: number; width?: number; durationS: number }> {
  const run = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr.trim(), '', `decoding printed errors: ${run.stderr}`);
  const probe = await ffprobeJson(file, ['-count_frames', '-show_packets']);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  const times = (probe.packets ?? []).filter((p) => p.stream_index === video?.index).map((p) => Number(p.dts_time ?? p.pts_time ?? 0));
  for (let i = 1; i < times.length; i++) assert.ok(times[i]! >= times[i - 1]!, `video dts goes back at packet ${i}: ${times[i - 1]} -> ${times[i]}`);
  return {
    video: Number(video?.nb_read_frames ?? 0),
    audio: Number(audio?.nb_read_frames ?? 0),
    ...(video?.width ? { width: video.width } : {}),
    durationS: times.length ? times[times.length - 1]! - times[0]! : 0,
  };
}

async function playAndDecode(gw: TestGateway, path: string, ms: number, name: string): Promise<Awaited<ReturnType<typeof decode>>> {
  const file = join(dir, `${name}.flv`);
  const result = await captureHttp(`${gw.httpUrl}/${path}.flv`, file, ms);
  assert.equal(result.status, 200, result.body);
  return decode(file);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('UDP from rtsp-streaming-server', () => {
  let server: RtspTestServer;
  let publisher: ReturnType<typeof startRtspPublisher>;
  let gw: TestGateway;
  before(async () => {
    server = await startRtspServer('rtsp-streaming-server');
    publisher = startRtspPublisher(server.publishUrl('live/cam1'), { transport: 'udp' });
    await waitForPublishing(publisher);
    gw = await startTestGateway({ GW_HUB_CLOSE_AFTER: '1' });
  });
  after(async () => {
    await gw?.stop();
    await publisher?.stop();
    await server?.stop();
  });

  test('an on-demand proxy added through the API plays over HTTP-FLV and stops after its viewer', { timeout: 60_000 }, async () => {
    const created = await api<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'cams/udp', url: server.playUrl('live/cam1'), transport: 'udp' });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.status.state, 'idle');
    const decoded = await playAndDecode(gw, 'cams/udp', 4000, 'udp');
    assert.equal(decoded.width, 320);
    assert.ok(decoded.video >= 40, `video frames in 4 s: ${decoded.video}`);
    assert.ok(decoded.audio >= 60, `audio frames in 4 s: ${decoded.audio}`);
    await waitFor(async () => (await api<ProxyDto>(gw, 'GET', `/api/proxies/${created.json.id}`)).json.status.state === 'stopped', 8000, 'TEARDOWN closeAfter the viewer left');
    assert.equal(gw.gateway.registry.get('cams/udp'), undefined);
  });

  test('while playing, the status shows transport, tracks and bitrate', { timeout: 60_000 }, async () => {
    const created = await api<ProxyDto>(gw, 'POST', '/api/proxies', { path: 'cams/status', url: server.playUrl('live/cam1'), transport: 'udp' });
    const capture = captureHttp(`${gw.httpUrl}/cams/status.flv`, join(dir, 'status.flv'), 5000);
    const playing = await waitFor(
      async () => {
        const { json } = await api<ProxyDto>(gw, 'GET', `/api/proxies/${created.json.id}`);
        return json.status.state === 'playing' && json.status.bitrateKbps > 0 && json.status.tracks.length === 2 ? json : undefined;
      },
      8000,
      'a playing status with a bitrate',
    );
    assert.equal(playing.status.transport, 'udp');
    assert.deepEqual(playing.status.tracks, ['h264 320x240', 'aac 44100Hz 1ch']);
    assert.equal((await capture).status, 200);
  });
});

test('H.265 + G.711A (ffmpeg x265 and pcm_alaw over RTSP): Enhanced FLV that ffprobe decodes', { timeout: 60_000 }, async () => {
  const server = await startRtspServer('rtsp-streaming-server');
  const publisher = startRtspPublisher(server.publishUrl('live/hevc'), { transport: 'udp', audio: 'pcma', video: 'h265' });
  const gw = await startTestGateway();
  try {
    await waitForPublishing(publisher);
    await api(gw, 'POST', '/api/proxies', { path: 'cams/hevc', url: server.playUrl('live/hevc'), transport: 'udp' });
    const file = join(dir, 'hevc.flv');
    assert.equal((await captureHttp(`${gw.httpUrl}/cams/hevc.flv`, file, 4000)).status, 200);
    // The project's ffmpeg (2018) predates Enhanced FLV; its ffprobe (2023) reads it.
    const probe = await ffprobeJson(file, ['-count_frames']);
    assert.equal(probe.stderr.trim(), '', probe.stderr);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    assert.deepEqual([video?.codec_name, video?.width, video?.height], ['hevc', 320, 240]);
    assert.ok(Number(video?.nb_read_frames) >= 30, `hevc frames: ${video?.nb_read_frames}`);
    assert.deepEqual([audio?.codec_name, audio?.sample_rate], ['pcm_alaw', '8000']);
    assert.ok(Number(audio?.nb_read_frames) >= 5, `G.711 frames: ${audio?.nb_read_frames}`);
  } finally {
    await gw.stop();
    await publisher.stop();
    await server.stop();
  }
});

describe('TCP interleaved from node-rtsp-rtmp-server, kill and restart', () => {
  let server: RtspTestServer;
  let publisher: ReturnType<typeof startRtspPublisher>;
  let gw: TestGateway;
  before(async () => {
    server = await startRtspServer('node-rtsp-rtmp-server');
    publisher = startRtspPublisher(server.publishUrl('live/cam2'), { transport: 'tcp' });
    await waitForPublishing(publisher);
    gw = await startTestGateway({
      GW_RTSP_RECONNECT_MIN: '0.5',
      GW_RTSP_RECONNECT_MAX: '2',
      GW_PROXIES: JSON.stringify([{ path: 'cams/tcp', url: server.playUrl('live/cam2'), transport: 'tcp', onDemand: false }]),
    });
  });
  after(async () => {
    await gw?.stop();
    await publisher?.stop();
    await server?.stop();
  });

  test('an always-on proxy from config connects before any viewer and plays over HTTP-FLV', { timeout: 60_000 }, async () => {
    const list = await waitFor(
      async () => {
        const { json } = await api<{ proxies: ProxyDto[] }>(gw, 'GET', '/api/proxies');
        return json.proxies[0]?.status.state === 'playing' ? json.proxies : undefined;
      },
      10_000,
      'the always-on proxy to play',
    );
    assert.equal(list[0]!.origin, 'config');
    assert.equal(list[0]!.status.transport, 'tcp');
    const decoded = await playAndDecode(gw, 'cams/tcp', 3000, 'tcp');
    assert.ok(decoded.video >= 30, `video frames in 3 s: ${decoded.video}`);
    assert.ok(decoded.audio >= 45, `audio frames in 3 s: ${decoded.audio}`);
  });

  test('the server is killed mid-stream and restarted: the proxy reconnects and a viewer that stayed keeps decoding', { timeout: 90_000 }, async () => {
    const file = join(dir, 'reconnect.flv');
    const capture = captureHttp(`${gw.httpUrl}/cams/tcp.flv`, file, 14_000);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await server.kill();
    await publisher.stop();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await server.restart();
    publisher = startRtspPublisher(server.publishUrl('live/cam2'), { transport: 'tcp' });
    await waitForPublishing(publisher);
    const back = await waitFor(
      async () => {
        const { json } = await api<{ proxies: ProxyDto[] }>(gw, 'GET', '/api/proxies');
        const proxy = json.proxies[0]!;
        return proxy.status.state === 'playing' && proxy.status.reconnects > 0 ? proxy : undefined;
      },
      10_000,
      'the proxy to reconnect',
    );
    // While the server is down the proxy sees it unreachable; a retry that lands after the restart
    // but before the new publisher's ANNOUNCE is answered 404 instead. Either is the last error.
    assert.ok(['unreachable', 'not-found'].includes(back.status.lastError?.kind ?? ''), JSON.stringify(back.status.lastError));
    const result = await capture;
    assert.equal(result.status, 200);
    const decoded = await decode(file);
    // 14 s of capture with a gap of a few seconds: frames from before and after the restart.
    assert.ok(decoded.durationS >= 8, `the viewer's timeline spans ${decoded.durationS} s`);
    assert.ok(decoded.video >= 100, `video frames across the restart: ${decoded.video}`);
  });
});

describe('credentials', () => {
  test('Basic: the right user plays, a wrong password is refused with "auth failed"', { timeout: 60_000 }, async () => {
    const server = await startRtspServer('rtsp-streaming-server', { auth: { ...CREDS, scheme: 'basic' } });
    const publisher = startRtspPublisher(server.publishUrl('live/basic'), { transport: 'udp' });
    const gw = await startTestGateway();
    try {
      await waitForPublishing(publisher);
      await api(gw, 'POST', '/api/proxies', { path: 'cams/basic', url: server.playUrl('live/basic', CREDS), transport: 'udp' });
      // The on-demand start, then the first keyframe (GOP 1 s): frames arrive from about 1 s on.
      const decoded = await playAndDecode(gw, 'cams/basic', 3000, 'basic');
      assert.ok(decoded.video >= 20, `video frames: ${decoded.video}`);
      const bad = await api<ProxyDto>(gw, 'POST', '/api/proxies', {
        path: 'cams/badpass',
        url: server.playUrl('live/basic', { username: CREDS.username, password: 'nope' }),
        transport: 'udp',
      });
      assert.equal(bad.json.url, `rtsp://${CREDS.username}:***@127.0.0.1:${server.playPort}/live/basic`);
      const refused = await captureHttp(`${gw.httpUrl}/cams/badpass.flv`, join(dir, 'bad.flv'), 5000);
      assert.equal(refused.status, 502);
      assert.match(refused.body, /SOURCE_START_FAILED/);
      assert.match(refused.body, /auth failed/);
      const status = (await api<ProxyDto>(gw, 'GET', `/api/proxies/${bad.json.id}`)).json.status;
      assert.equal(status.lastError?.kind, 'auth');
    } finally {
      await gw.stop();
      await publisher.stop();
      await server.stop();
    }
  });

  for (const digest of [
    { algorithm: undefined, qop: false },
    { algorithm: 'SHA-256' as const, qop: true },
  ]) {
    test(`Digest ${digest.algorithm ?? 'MD5'}${digest.qop ? ' qop=auth' : ''}: plays with the credentials`, { timeout: 60_000 }, async () => {
      const server = await startRtspServer('rtsp-streaming-server', {
        auth: { ...CREDS, scheme: 'digest', ...(digest.algorithm ? { algorithm: digest.algorithm } : {}), qop: digest.qop },
      });
      const publisher = startRtspPublisher(server.publishUrl('live/digest'), { transport: 'udp', audio: 'none' });
      const gw = await startTestGateway();
      try {
        await waitForPublishing(publisher);
        await api(gw, 'POST', '/api/proxies', { path: 'cams/digest', url: server.playUrl('live/digest', CREDS), transport: 'udp' });
        const decoded = await playAndDecode(gw, 'cams/digest', 3000, 'digest');
        assert.ok(decoded.video >= 20, `video frames: ${decoded.video}`);
      } finally {
        await gw.stop();
        await publisher.stop();
        await server.stop();
      }
    });
  }
});
