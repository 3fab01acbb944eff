import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';

let gw: TestGateway;
let publisher: Awaited<ReturnType<typeof publishTestPattern>>;
const dir = mkdtempSync(join(tmpdir(), 'gw-rtsp-'));

before(async () => {
  gw = await startTestGateway({ GW_HUB_WAIT_FOR_PUBLISHER: '1' });
  publisher = await publishTestPattern(gw, 'live/cam');
});

after(async () => {
  await publisher?.stop();
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('RTSP play over TCP: ffmpeg decodes H.264+AAC from an RTMP publish silently, starting on a keyframe', async () => {
  await new Promise((resolve) => setTimeout(resolve, 1500)); // join mid-stream
  const url = `rtsp://127.0.0.1:${gw.ports.rtsp}/live/cam`;
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-rtsp_transport', 'tcp', '-i', url, '-t', '2', '-f', 'null', '-'], 20_000);
  assert.equal(decode.code, 0, decode.stderr);
  // Known defect (reported): ffmpeg's RTSP demuxer leaves the first video frame without a pts,
  // so its null muxer warns about the dts it guesses; everything else must be silent.
  const other = decode.stderr.split('\n').filter((line) => line.trim() !== '' && !/non monotonically increasing dts to muxer in stream 0/.test(line));
  assert.deepEqual(other, [], `decoding printed: ${decode.stderr}`);
  const probe = await ffprobeJson(url, ['-rtsp_transport', 'tcp', '-read_intervals', '%+1', '-show_packets'], 20_000);
  assert.equal(probe.stderr.trim(), '');
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  const audio = probe.streams.find((s) => s.codec_type === 'audio')!;
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.width, 640);
  assert.equal(audio.codec_name, 'aac');
  const firstVideo = probe.packets!.find((p) => p.stream_index === video.index)!;
  assert.ok(firstVideo.flags.startsWith('K'), 'the first video packet is a keyframe');
});

/** One raw request on a fresh connection; resolves with the response head. */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.ports.rtsp, '127.0.0.1', () => socket.write(text));
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
  });
}

test('RTSP: UDP transport answers 461, a missing stream 404, garbage 400', async () => {
  const base = `rtsp://127.0.0.1:${gw.ports.rtsp}/live/cam`;
  const describe = await rawRequest(`DESCRIBE ${base} RTSP/1.0\r\nCSeq: 1\r\n\r\n`);
  assert.match(describe, /^RTSP\/1\.0 200 OK/);
  assert.match(describe, /sprop-parameter-sets=/);
  const udp = await new Promise<string>((resolve, reject) => {
    const socket = connect(gw.ports.rtsp, '127.0.0.1', () => {
      socket.write(`DESCRIBE ${base} RTSP/1.0\r\nCSeq: 1\r\n\r\nSETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`);
    });
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      if (/CSeq: 2/.test(got)) {
        socket.destroy();
        resolve(got.slice(got.lastIndexOf('RTSP/1.0 ')));
      }
    });
    socket.on('error', reject);
  });
  assert.match(udp, /^RTSP\/1\.0 461 /);
  const missing = await rawRequest(`DESCRIBE rtsp://127.0.0.1/live/none RTSP/1.0\r\nCSeq: 3\r\n\r\n`);
  assert.match(missing, /^RTSP\/1\.0 404 /);
  const garbage = await rawRequest('\x00\x01 not rtsp\r\n\r\n');
  assert.match(garbage, /^RTSP\/1\.0 400 /);
});
