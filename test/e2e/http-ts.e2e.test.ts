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
  gw = await startTestGateway({ GW_HUB_WAIT_FOR_PUBLISHER: '1' });
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
  const viewing = captureHttp(`${gw.httpUrl}/live/ts.ts`, file, 3000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const stream = (await (await fetch(`${gw.httpUrl}/api/streams/live/ts`, { headers: gw.authHeaders })).json()) as { readers: { byProtocol: Record<string, number> } };
  assert.equal(stream.readers.byProtocol['http-ts'], 1);
  const result = await viewing;
  assert.equal(result.status, 200);
  const decoded = await checkCapture(file);
  assert.ok(decoded.videoFrames >= 60 && decoded.videoFrames <= 110, `video frames in 3 s: ${decoded.videoFrames}`);
  assert.ok(decoded.audioFrames >= 100, `audio frames in 3 s: ${decoded.audioFrames}`);
});

test('two HTTP-TS viewers and a WebSocket-TS viewer share one TS mux', async () => {
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
