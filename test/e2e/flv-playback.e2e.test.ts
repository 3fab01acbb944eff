import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { captureHttp, captureWs } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
const dir = mkdtempSync(join(tmpdir(), 'gw-flv-'));

before(async () => {
  gw = await startTestGateway();
  publisher = await publishTestPattern(gw, 'live/e2e');
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function expectH264Aac(streams: Awaited<ReturnType<typeof ffprobeJson>>['streams']): void {
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 640);
  assert.equal(video?.height, 360);
  assert.equal(video?.r_frame_rate, '25/1');
  assert.equal(audio?.codec_name, 'aac');
  assert.equal(audio?.sample_rate, '44100');
  assert.equal(audio?.channels, 2);
}

/** Decodes a captured file fully: errors would be printed with -v error. */
async function decodeFile(file: string): Promise<{ videoFrames: number; audioFrames: number; firstVideoKey: boolean }> {
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `decoding printed errors: ${decode.stderr}`);
  const probe = await ffprobeJson(file, ['-count_frames', '-show_packets']);
  expectH264Aac(probe.streams);
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
  const firstVideo = probe.packets?.find((p) => p.stream_index === video.index);
  return { videoFrames: Number(video.nb_read_frames), audioFrames: Number(audio.nb_read_frames), firstVideoKey: Boolean(firstVideo?.flags.startsWith('K')) };
}

test('HTTP-FLV: a viewer joining mid-stream decodes H.264+AAC from a keyframe, at 25 fps', async () => {
  const file = join(dir, 'http.flv');
  const result = await captureHttp(`${gw.httpUrl}/live/e2e.flv`, file, 3000);
  assert.equal(result.status, 200);
  const decoded = await decodeFile(file);
  assert.ok(decoded.firstVideoKey, 'the first video frame is a keyframe');
  assert.ok(decoded.videoFrames >= 60 && decoded.videoFrames <= 110, `video frames in 3 s: ${decoded.videoFrames}`);
  assert.ok(decoded.audioFrames >= 100, `audio frames in 3 s: ${decoded.audioFrames}`);
});

test('WebSocket-FLV: the same path over WebSocket decodes the same way', async () => {
  const file = join(dir, 'ws.flv');
  const result = await captureWs(`${gw.httpUrl.replace('http', 'ws')}/live/e2e.flv`, file, 3000);
  assert.ok(result.bytes > 100_000, `received ${result.bytes} bytes`);
  const decoded = await decodeFile(file);
  assert.ok(decoded.firstVideoKey);
  assert.ok(decoded.videoFrames >= 60, `video frames in 3 s: ${decoded.videoFrames}`);
});

test('RTMP play: ffprobe reads codec, resolution and frame rate and ffmpeg decodes it', async () => {
  const probe = await ffprobeJson(`${gw.rtmpUrl}/live/e2e`, [], 20_000);
  expectH264Aac(probe.streams);
  const file = join(dir, 'rtmp.flv');
  const copy = await runTool(ffmpegPath, ['-v', 'error', '-i', `${gw.rtmpUrl}/live/e2e`, '-t', '3', '-c', 'copy', '-y', file], 20_000);
  assert.equal(copy.code, 0, copy.stderr);
  const decoded = await decodeFile(file);
  assert.ok(decoded.firstVideoKey);
  assert.ok(decoded.videoFrames >= 60);
});

test('the API shows the stream with tracks, publisher and readers per protocol', async () => {
  const viewing = captureHttp(`${gw.httpUrl}/live/e2e.flv`, join(dir, 'api.flv'), 1500);
  await new Promise((resolve) => setTimeout(resolve, 700));
  const res = await fetch(`${gw.httpUrl}/api/streams/live/e2e`, { headers: gw.authHeaders });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), null, 'no CORS unless http.cors.origins names the origin');
  const stream = (await res.json()) as {
    path: string;
    tracks: { codec: string; width?: number; height?: number; sampleRate?: number; channels?: number }[];
    publisher: { kind: string; remote: string };
    readers: { total: number; byProtocol: Record<string, number> };
    bytesIn: number;
    bitrateInKbps: number;
  };
  assert.equal(stream.path, 'live/e2e');
  assert.deepEqual(
    stream.tracks.map((t) => t.codec),
    ['h264', 'aac'],
  );
  assert.equal(stream.tracks[0]!.width, 640);
  assert.equal(stream.tracks[1]!.sampleRate, 44100);
  assert.equal(stream.publisher.kind, 'rtmp');
  assert.match(stream.publisher.remote, /^127\.0\.0\.1:/);
  assert.equal(stream.readers.byProtocol['http-flv'], 1);
  assert.ok(stream.bytesIn > 0);
  await viewing;
  const list = (await (await fetch(`${gw.httpUrl}/api/streams`, { headers: gw.authHeaders })).json()) as { streams: { path: string }[] };
  assert.deepEqual(
    list.streams.map((s) => s.path),
    ['live/e2e'],
  );
  const sessions = (await (await fetch(`${gw.httpUrl}/api/sessions`, { headers: gw.authHeaders })).json()) as { sessions: { role: string; protocol: string }[] };
  assert.ok(sessions.sessions.some((s) => s.role === 'publisher' && s.protocol === 'rtmp'));
});

test('an unknown stream gets a 404 {code, message} after the bounded wait, over HTTP and WebSocket', async () => {
  const started = Date.now();
  const result = await captureHttp(`${gw.httpUrl}/live/nothing.flv?x=1`, join(dir, 'none.flv'), 15_000);
  assert.equal(result.status, 404);
  assert.ok(Date.now() - started >= gw.config.hub.waitForPublisher * 1000 - 100);
  const body = JSON.parse(result.body.slice(result.body.indexOf('{'))) as { code: string; message: string };
  assert.equal(body.code, 'STREAM_NOT_FOUND');
  const ws = await captureWs(`${gw.httpUrl.replace('http', 'ws')}/live/nothing.flv`, join(dir, 'none-ws.flv'), 15_000);
  assert.equal(ws.closeCode, 4404);
  assert.match(ws.closeReason ?? '', /not found/);
  const bad = await fetch(`${gw.httpUrl}/api/streams/live/..%2F..`, { headers: gw.authHeaders });
  assert.equal(bad.status, 400);
});
