import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool, startTool } from '../helpers/media-tools';

let gw: TestGateway;
const dir = mkdtempSync(join(tmpdir(), 'gw-rtp-'));

before(async () => {
  gw = await startTestGateway();
});

after(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as T };
}

const VIDEO_SOURCE = ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25'];
const VIDEO_CODEC = ['-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-bf', '0'];
const AUDIO_SOURCE = ['-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100'];
const AUDIO_CODEC = ['-t', '8', '-c:a', 'aac', '-ac', '2'];

/** Opens a receiver, runs ffmpeg into it, captures 3 s of HTTP-FLV and probes it. */
async function sendAndPlay(stream: string, open: Record<string, unknown>, ffmpegArgs: (port: number) => string[]) {
  const opened = await api<{ port: number; code?: string; message?: string }>('POST', '/api/rtp/open', { stream, transport: 'udp', ...open });
  assert.equal(opened.status, 200, JSON.stringify(opened.json));
  const sender = startTool(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...ffmpegArgs(opened.json.port)]);
  try {
    await waitFor(() => gw.gateway.registry.get(stream)?.ready, 15_000, `${stream} ready (ffmpeg: ${sender.stderr()})`);
    const receivers = (await api<{ receivers: { path: string; packets: number; peer: string; framesOut: number }[] }>('GET', '/api/rtp')).json.receivers;
    const mine = receivers.find((r) => r.path === stream)!;
    assert.ok(mine.packets > 0 && mine.framesOut > 0, JSON.stringify(mine));
    assert.match(mine.peer, /^127\.0\.0\.1:\d+$/);
    const file = join(dir, `${stream.replace('/', '_')}.flv`);
    const captured = await captureHttp(`${gw.httpUrl}/${stream}.flv`, file, 3000);
    assert.equal(captured.status, 200);
    const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
    assert.equal(decode.stderr.trim(), '', `decoding printed errors: ${decode.stderr}`);
    return await ffprobeJson(file, ['-count_frames']);
  } finally {
    await sender.stop();
    await api('DELETE', `/api/rtp/${stream}`);
  }
}

test("ffmpeg's H.264 RTP (FU-A, in-band SPS/PPS) over UDP plays back over HTTP-FLV", async () => {
  const probe = await sendAndPlay(
    'rtp/ffmpeg-h264',
    { payloadTypes: { 96: { encoding: 'H264', clockRate: 90000, fmtp: { 'packetization-mode': '1' } } }, ssrcCheck: false },
    (port) => [...VIDEO_SOURCE, ...VIDEO_CODEC, '-f', 'rtp', `rtp://127.0.0.1:${port}`],
  );
  const video = probe.streams.find((s) => s.codec_type === 'video');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 320);
  assert.ok(Number(video?.nb_read_frames) >= 50, `${video?.nb_read_frames} frames in 3 s`);
});

test("ffmpeg's AAC RTP (RFC 3640 AU headers, config from its SDP) plays back over HTTP-FLV", async () => {
  const sdpFile = join(dir, 'aac.sdp');
  const dry = await runTool(ffmpegPath, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    '0.2',
    '-c:a',
    'aac',
    '-ac',
    '2',
    '-sdp_file',
    sdpFile,
    '-f',
    'rtp',
    'rtp://127.0.0.1:9',
  ]);
  assert.equal(dry.code, 0, dry.stderr);
  const fmtpLine = /a=fmtp:97 (.*)/.exec(readFileSync(sdpFile, 'utf8'))![1]!;
  const fmtp = Object.fromEntries(
    fmtpLine
      .split(';')
      .map((kv) => kv.trim().split('=') as [string, string])
      .filter(([k]) => k),
  );
  const probe = await sendAndPlay('rtp/ffmpeg-aac', { payloadTypes: { 97: { encoding: 'MPEG4-GENERIC', clockRate: 44100, channels: 2, fmtp } }, ssrcCheck: false }, (port) => [
    ...AUDIO_SOURCE,
    ...AUDIO_CODEC,
    '-f',
    'rtp',
    `rtp://127.0.0.1:${port}`,
  ]);
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(audio?.codec_name, 'aac');
  assert.equal(audio?.sample_rate, '44100');
  assert.ok(Number(audio?.nb_read_frames) >= 100, `${audio?.nb_read_frames} audio frames in 3 s`);
});

test("ffmpeg's -f rtp_mpegts (H.264 + AAC in TS over RTP) is detected and plays back over HTTP-FLV", async () => {
  const probe = await sendAndPlay('rtp/ffmpeg-ts', { ssrcCheck: false }, (port) => [
    ...VIDEO_SOURCE,
    ...AUDIO_SOURCE,
    '-map',
    '0:v',
    '-map',
    '1:a',
    ...VIDEO_CODEC,
    ...AUDIO_CODEC,
    '-f',
    'rtp_mpegts',
    `rtp://127.0.0.1:${port}`,
  ]);
  assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  assert.ok(Number(video?.nb_read_frames) >= 50);
});

test('the receiver API refuses bad requests and a busy path, and closes what it opened', async () => {
  const bad = await api<{ code: string }>('POST', '/api/rtp/open', { stream: '../x', transport: 'udp' });
  assert.equal(bad.status, 400);
  const active = await api<{ code: string; message: string }>('POST', '/api/rtp/open', { stream: 'rtp/a', transport: 'tcp-active' });
  assert.equal(active.status, 400);
  assert.match(active.json.message, /peer/);
  const first = await api<{ port: number }>('POST', '/api/rtp/open', { stream: 'rtp/busy', transport: 'tcp-passive' });
  assert.equal(first.status, 200);
  const second = await api<{ code: string }>('POST', '/api/rtp/open', { stream: 'rtp/busy', transport: 'udp' });
  assert.equal(second.status, 409);
  assert.equal(second.json.code, 'STREAM_BUSY');
  assert.equal((await api('DELETE', '/api/rtp/rtp/busy')).status, 200);
  assert.equal((await api('DELETE', '/api/rtp/rtp/busy')).status, 404);
  const list = await api<{ receivers: unknown[] }>('GET', '/api/rtp');
  assert.deepEqual(list.json.receivers, []);
});

test('a viewer that asks before the first RTP packet of an API receiver at rtp/cam7 waits and plays (the GB28181 factory of rtp/* does not take it)', async () => {
  const stream = 'rtp/cam7';
  const opened = await api<{ port: number }>('POST', '/api/rtp/open', {
    stream,
    transport: 'udp',
    payloadTypes: { 96: { encoding: 'H264', clockRate: 90000, fmtp: { 'packetization-mode': '1' } } },
    ssrcCheck: false,
  });
  assert.equal(opened.status, 200, JSON.stringify(opened.json));
  const file = join(dir, 'cam7.flv');
  const viewer = captureHttp(`${gw.httpUrl}/${stream}.flv`, file, 6000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(gw.gateway.registry.get(stream), undefined, 'no publisher yet: the viewer is waiting');
  const sender = startTool(ffmpegPath, ['-hide_banner', '-loglevel', 'error', ...VIDEO_SOURCE, ...VIDEO_CODEC, '-f', 'rtp', `rtp://127.0.0.1:${opened.json.port}`]);
  try {
    const captured = await viewer;
    assert.equal(captured.status, 200, captured.body);
    const probe = await ffprobeJson(file, ['-count_frames']);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.equal(video?.codec_name, 'h264');
    assert.ok(Number(video?.nb_read_frames) >= 25, `${video?.nb_read_frames} frames`);
  } finally {
    await sender.stop();
    await api('DELETE', `/api/rtp/${stream}`);
  }
});
