import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { publishTestPattern } from '../helpers/publisher';
import { NginxRtmp } from '../helpers/nginx-rtmp';
import type { PushDto, PushStatusDto } from '../../src/api/pushes';

/**
 * Pushes to nginx-rtmp (Debian's nginx + libnginx-mod-rtmp, started here on loopback), read
 * back from nginx by ffmpeg/ffprobe: codecs, size and frame rate as published, decoded with
 * no errors. nginx is then killed and started again mid-push: the push reconnects within its
 * backoff and nginx serves the stream again, while the gateway's own viewer reads on.
 */

const dir = mkdtempSync(join(tmpdir(), 'gw-push-'));

async function api<T>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function pushStatus(gw: TestGateway, id: string, path: string): Promise<PushStatusDto | undefined> {
  const { json } = await api<PushDto>(gw, 'GET', `/api/pushes/${id}`);
  return json.pushes.find((p) => p.path === path);
}

/** Reads `url` for `seconds` with ffmpeg into an FLV file: decode errors fail the test. */
async function readBack(
  url: string,
  seconds: number,
  name: string,
): Promise<{ file: string; video?: { codec?: string; width?: number; height?: number; rate?: string }; audio?: string }> {
  const file = join(dir, `${name}.flv`);
  const copy = await runTool(ffmpegPath, ['-v', 'error', '-rw_timeout', '5000000', '-i', url, '-t', String(seconds), '-c', 'copy', '-y', file], 30_000);
  assert.equal(copy.code, 0, copy.stderr);
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `decoding printed errors: ${decode.stderr}`);
  const probe = await ffprobeJson(file);
  const v = probe.streams.find((s) => s.codec_type === 'video');
  const a = probe.streams.find((s) => s.codec_type === 'audio');
  return {
    file,
    ...(v ? { video: { codec: v.codec_name, width: v.width, height: v.height, rate: v.r_frame_rate } } : {}),
    ...(a?.codec_name ? { audio: a.codec_name } : {}),
  };
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('push to nginx-rtmp', () => {
  let nginx: NginxRtmp;
  let gw: TestGateway;
  let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
  let pushId = '';
  before(async () => {
    nginx = await NginxRtmp.start();
    gw = await startTestGateway({ GW_RELAY_RECONNECT_MIN: '0.5', GW_RELAY_RECONNECT_MAX: '2' });
    publisher = await publishTestPattern(gw, 'live/cam1', { size: '640x360', rate: 25, gop: 25 });
  });
  after(async () => {
    await publisher?.stop();
    await gw?.stop();
    await nginx?.stop();
  });

  test('a pattern push sends an ffmpeg-published stream that nginx serves as published', async () => {
    const created = await api<PushDto>(gw, 'POST', '/api/pushes', { path: 'live/*', url: `rtmp://127.0.0.1:${nginx.port}/live/{stream}?key=secret123` });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    pushId = created.json.id;
    assert.ok(!created.json.url.includes('secret123'), `the key is masked: ${created.json.url}`);
    const status = await waitFor(
      async () => {
        const s = await pushStatus(gw, pushId, 'live/cam1');
        return s?.state === 'pushing' && s.framesOut > 0 ? s : undefined;
      },
      15_000,
      'the push to be pushing',
    );
    assert.ok(!status.target.includes('secret123'), status.target);
    const flowing = await waitFor(
      async () => {
        const s = await pushStatus(gw, pushId, 'live/cam1');
        return s && s.bitrateKbps > 100 ? s : undefined;
      },
      5000,
      'a bit rate in the status',
    );
    assert.ok(flowing.bytesOut > 0 && flowing.uptimeMs > 0, JSON.stringify(flowing));
    const back = await readBack(nginx.url('cam1'), 3, 'first');
    assert.deepEqual(back.video, { codec: 'h264', width: 640, height: 360, rate: '25/1' });
    assert.equal(back.audio, 'aac');
  });

  test('nginx killed mid-push and started again: the push reconnects, nginx plays again, our viewer never notices', async () => {
    const viewer = captureHttp(`${gw.httpUrl}/live/cam1.flv`, join(dir, 'viewer.flv'), 9000);
    await new Promise((r) => setTimeout(r, 1000));
    await nginx.kill();
    const retrying = await waitFor(
      async () => {
        const s = await pushStatus(gw, pushId, 'live/cam1');
        return s && s.state !== 'pushing' && s.lastError ? s : undefined;
      },
      15_000,
      'the push to notice nginx is gone',
    );
    assert.match(retrying.lastError!.message, /refused|reset|closed/);
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    await nginx.restart();
    const back = await waitFor(
      async () => {
        const s = await pushStatus(gw, pushId, 'live/cam1');
        return s?.state === 'pushing' && s.reconnects >= 1 ? s : undefined;
      },
      10_000,
      'the push to reconnect',
    );
    // Backoff is 0.5 s doubling up to 2 s: nginx back after ~1 s, so within 2 s plus a connect.
    assert.ok(Date.now() - down < 8000, `reconnected ${Date.now() - down} ms after nginx went down`);
    assert.ok(back.reconnects >= 1);
    const again = await readBack(nginx.url('cam1'), 2, 'again');
    assert.deepEqual(again.video, { codec: 'h264', width: 640, height: 360, rate: '25/1' });
    const seen = await viewer;
    assert.equal(seen.status, 200);
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', join(dir, 'viewer.flv'), '-f', 'null', '-']);
    assert.equal(decode.stderr.trim(), '', decode.stderr);
    const probe = await ffprobeJson(join(dir, 'viewer.flv'), ['-count_frames']);
    const frames = Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames ?? 0);
    // 9 s at 25 fps read live from the start of a GOP: a viewer that stalled would have far fewer.
    assert.ok(frames >= 25 * 7, `the gateway viewer got ${frames} frames in 9 s`);
  });

  test('the source reconnects within the hub grace: the CDN stream goes on, its timestamps never go back', async () => {
    const before = await pushStatus(gw, pushId, 'live/cam1');
    const file = join(dir, 'across.flv');
    const reading = runTool(ffmpegPath, ['-v', 'error', '-rw_timeout', '8000000', '-i', nginx.url('cam1'), '-t', '7', '-c', 'copy', '-y', file], 40_000);
    await new Promise((r) => setTimeout(r, 1500));
    await publisher.stop();
    publisher = await publishTestPattern(gw, 'live/cam1', { size: '640x360', rate: 25, gop: 25 });
    const copied = await reading;
    assert.equal(copied.code, 0, copied.stderr);
    const after = await pushStatus(gw, pushId, 'live/cam1');
    assert.equal(after?.state, 'pushing');
    assert.equal(after?.reconnects, before?.reconnects, 'the CDN connection was kept');
    const probe = await ffprobeJson(file, ['-show_packets']);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const dts = (probe.packets ?? []).filter((p) => p.stream_index === video?.index).map((p) => Number(p.dts_time));
    assert.ok(dts.length > 50, `packets: ${dts.length}`);
    for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! >= dts[i - 1]!, `dts goes back at packet ${i}: ${dts[i - 1]} -> ${dts[i]}`);
  });
});
