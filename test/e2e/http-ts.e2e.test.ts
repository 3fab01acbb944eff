import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { captureHttp, captureWs } from '../helpers/capture';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { H264_TEST_TRACK, TestSource, videoFrame } from '../helpers/hub-fixtures';
import { tsIntegrity } from '../formats/mpegts/helpers';

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
const dir = mkdtempSync(join(tmpdir(), 'gw-httpts-'));

before(async () => {
  // A 3 s burst is every viewer's default here; the first test asks for none (?burst=0), the shipped default.
  gw = await startTestGateway({ GW_HUB_WAIT_FOR_PUBLISHER: '1', GW_HTTP_TS_BURST_SECONDS: '3' });
  publisher = await publishTestPattern(gw, 'live/ts');
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** ffmpeg decodes it without a word, ffprobe sees what ffmpeg published, our strict demuxer finds no gap. */
async function checkCapture(file: string): Promise<{ videoFrames: number; audioFrames: number }> {
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `decoding printed: ${decode.stderr}`);
  const probe = await ffprobeJson(file, ['-count_frames', '-show_packets']);
  assert.equal(probe.stderr.trim(), '');
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.width, 640);
  assert.equal(video.height, 360);
  assert.equal(video.r_frame_rate, '25/1');
  assert.equal(audio.codec_name, 'aac');
  assert.equal(audio.sample_rate, '44100');
  assert.equal(audio.channels, 2);
  const firstVideo = probe.packets!.find((p) => p.stream_index === video.index)!;
  assert.ok(firstVideo.flags.startsWith('K'), 'starts on a keyframe');
  const integrity = tsIntegrity(readFileSync(file));
  assert.equal(integrity.continuityErrors, 0);
  assert.equal(integrity.dtsBackwards, 0);
  assert.equal(integrity.firstVideoRandomAccess, true);
  return { videoFrames: Number(video.nb_read_frames), audioFrames: Number(audio.nb_read_frames) };
}

test('HTTP-TS: a viewer joining mid-stream gets a continuous TS from a keyframe that ffmpeg decodes cleanly', async () => {
  const file = join(dir, 'http.ts');
  const viewing = captureHttp(`${gw.httpUrl}/live/ts.ts?burst=0`, file, 3000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const stream = (await (await fetch(`${gw.httpUrl}/api/streams/live/ts`, { headers: gw.authHeaders })).json()) as { readers: { byProtocol: Record<string, number> } };
  assert.equal(stream.readers.byProtocol['http-ts'], 1);
  const result = await viewing;
  assert.equal(result.status, 200);
  const decoded = await checkCapture(file);
  assert.ok(decoded.videoFrames >= 60 && decoded.videoFrames <= 110, `video frames in 3 s: ${decoded.videoFrames}`);
  assert.ok(decoded.audioFrames >= 100, `audio frames in 3 s: ${decoded.audioFrames}`);
});

test('two HTTP-TS viewers and a WebSocket-TS viewer share one TS mux (each with the 3 s burst: one continuous TS into live)', async () => {
  const files = [join(dir, 'a.ts'), join(dir, 'b.ts'), join(dir, 'ws.ts')];
  const a = captureHttp(`${gw.httpUrl}/live/ts.ts`, files[0]!, 2500);
  const b = captureHttp(`${gw.httpUrl}/live/ts.ts`, files[1]!, 2500);
  const ws = captureWs(`${gw.httpUrl.replace('http', 'ws')}/live/ts.ts`, files[2]!, 2500);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const stream = gw.gateway.registry.get('live/ts')!;
  assert.deepEqual(stream.readers.byProtocol, { 'http-ts': 2, 'ws-ts': 1 });
  const [ra, rb, rws] = await Promise.all([a, b, ws]);
  assert.equal(ra.status, 200);
  assert.equal(rb.status, 200);
  assert.ok(rws.messages > 50 && rws.bytes % 188 === 0, `${rws.messages} messages of whole packets`);
  for (const file of files) await checkCapture(file);
  await waitFor(() => gw.gateway.registry.get('live/ts')!.readers.total === 0, 3000, 'the mux to close with its last viewer');
});

test('burst: ?burst=3 hands over 3 s of older GOPs at once (what ffprobe reads before its first frame), ?burst=0 the newest GOP; a bad value is a 400', async () => {
  await waitFor(() => gw.gateway.registry.get('live/ts')!.uptimeMs > 5000 || undefined, 10_000, 'the stream to have 4 s of history');
  const probeFrames = async (query: string): Promise<{ video: number; keyframes: number }> => {
    const file = join(dir, `burst${query.replace(/\W/g, '')}.ts`);
    const result = await captureHttp(`${gw.httpUrl}/live/ts.ts${query}`, file, 800);
    assert.equal(result.status, 200);
    const probe = await ffprobeJson(file, ['-show_packets', '-select_streams', 'v']);
    const packets = probe.packets ?? [];
    return { video: packets.length, keyframes: packets.filter((p) => p.flags.startsWith('K')).length };
  };
  const burst = await probeFrames('?burst=3');
  // 0.8 s of wall time: live alone gives at most the newest GOP (25 frames) and 20 more.
  assert.ok(burst.video >= 75, `${burst.video} video frames in 0.8 s with a 3 s burst`);
  assert.ok(burst.keyframes >= 3, `${burst.keyframes} keyframes in the burst (GOP 1 s)`);
  const edge = await probeFrames('?burst=0');
  assert.ok(edge.video < 60, `${edge.video} video frames in 0.8 s without a burst`);
  assert.ok(edge.keyframes <= 2, `${edge.keyframes} keyframes without a burst`);
  const bad = await captureHttp(`${gw.httpUrl}/live/ts.ts?burst=lots`, join(dir, 'bad.ts'), 1000);
  assert.equal(bad.status, 400);
  assert.equal((JSON.parse(bad.body.slice(bad.body.indexOf('{'))) as { code: string }).code, 'BAD_REQUEST');
});

test('an unknown stream is a 404 {code, message} over HTTP and close code 4404 over WebSocket', async () => {
  const result = await captureHttp(`${gw.httpUrl}/live/none.ts`, join(dir, 'none.ts'), 10_000);
  assert.equal(result.status, 404);
  assert.equal((JSON.parse(result.body.slice(result.body.indexOf('{'))) as { code: string }).code, 'STREAM_NOT_FOUND');
  const ws = await captureWs(`${gw.httpUrl.replace('http', 'ws')}/live/none.ts`, join(dir, 'none-ws.ts'), 10_000);
  assert.equal(ws.closeCode, 4404);
});

test('a TS viewer that stops reading is cut off without stalling a reading one', async () => {
  const slowGw = await startTestGateway({ GW_HUB_VIEWER_MAX_LAG: '2', GW_HUB_VIEWER_MAX_PENDING_BYTES: '1048576' });
  const pub = slowGw.gateway.registry.publish('live/slow', new TestSource());
  pub.setTracks([H264_TEST_TRACK]);
  let n = 0;
  const timer = setInterval(() => pub.write(videoFrame(n * 3600, n++ % 25 === 0, 100_000)), 40); // 20 Mbit/s
  try {
    await waitFor(() => slowGw.gateway.registry.get('live/slow')?.ready, 5000, 'stream ready');
    const slow = connect(slowGw.ports.http, '127.0.0.1');
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));
    slow.on('error', () => (slowClosed = true));
    slow.on('connect', () => {
      slow.write('GET /live/slow.ts HTTP/1.1\r\nHost: x\r\n\r\n');
      slow.pause();
    });
    const fast = captureHttp(`${slowGw.httpUrl}/live/slow.ts`, join(dir, 'fast.ts'), 6000);
    await waitFor(() => slowGw.gateway.registry.get('live/slow')!.readers.byProtocol['http-ts'] === 2, 5000, 'both viewers');
    await waitFor(() => slowGw.gateway.registry.get('live/slow')!.readers.byProtocol['http-ts'] === 1, 15_000, 'the gateway to drop the viewer that never reads');
    slow.resume();
    await waitFor(() => slowClosed, 10_000, 'the slow connection to be closed');
    const result = await fast;
    assert.ok(result.bytes > 6 * 2_000_000, `the reading viewer kept receiving (${result.bytes} bytes in 6 s)`);
    assert.equal(tsIntegrity(readFileSync(join(dir, 'fast.ts'))).continuityErrors, 0);
  } finally {
    clearInterval(timer);
    pub.end('test done');
    await slowGw.stop();
  }
});
