/**
 * RTMP end to end: ffmpeg publishes H.264+AAC to our RtmpServer, ffprobe/ffmpeg play it back
 * over RTMP; a late viewer starts on a keyframe; garbage and half handshakes from other
 * clients do not disturb the running stream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../src/hub/registry';
import { RtmpServer } from '../../src/protocols/rtmp/server';
import { ffmpegPath, ffprobeJson, runTool, startTool } from '../helpers/media-tools';
import { testPatternArgs } from '../helpers/publisher';

let registry: Registry;
let server: RtmpServer;
let url: string;
let publisher: ReturnType<typeof startTool>;
const dir = mkdtempSync(join(tmpdir(), 'gw-rtmp-'));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, waitForPublisherMs: 3000 }, silentLogger());
  server = new RtmpServer({ host: '127.0.0.1', port: 0, registry, logger: silentLogger(), idleTimeoutMs: 10_000, handshakeTimeoutMs: 2000 });
  const { port } = await server.listen();
  url = `rtmp://127.0.0.1:${port}`;
  publisher = startTool(ffmpegPath, testPatternArgs(`${url}/live/test`, { size: '640x360', gop: 25 }));
  await waitFor(() => registry.get('live/test')?.ready === true, 20_000, `the stream to be ready (ffmpeg: ${publisher.stderr()})`);
});

after(async () => {
  await publisher?.stop();
  await server?.close();
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('ffprobe plays the stream back over RTMP with the published codecs, size and rate', async () => {
  const probe = await ffprobeJson(`${url}/live/test`, [], 20_000);
  assert.equal(probe.code, 0, probe.stderr);
  assert.equal(probe.streams.length, 2, `only audio and video: ${JSON.stringify(probe.streams.map((s) => s.codec_type))}`);
  const video = probe.streams.find((s) => s.codec_type === 'video');
  const audio = probe.streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 640);
  assert.equal(video?.height, 360);
  assert.equal(video?.r_frame_rate, '25/1');
  assert.equal(audio?.codec_name, 'aac');
  assert.equal(audio?.sample_rate, '44100');
  assert.equal(audio?.channels, 2);
});

test('a viewer joining mid-stream gets a keyframe first and decodes cleanly', async () => {
  const file = join(dir, 'late.flv');
  const copy = await runTool(ffmpegPath, ['-v', 'error', '-i', `${url}/live/test`, '-t', '2', '-c', 'copy', '-f', 'flv', file], 20_000);
  assert.equal(copy.code, 0, copy.stderr);
  const probe = await ffprobeJson(file, ['-show_packets']);
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  const packets = probe.packets!.filter((p) => p.stream_index === video.index);
  assert.ok(packets.length >= 40, `video packets in 2 s: ${packets.length}`);
  assert.ok(packets[0]!.flags.startsWith('K'), 'the first video packet is a keyframe');
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-i', file, '-f', 'null', '-']);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `decoding printed errors: ${decode.stderr}`);
});

test('garbage and half handshakes do not disturb the running stream', async () => {
  const framesBefore = registry.get('live/test')!.framesIn;
  const sockets: Socket[] = [];
  const open = (bytes: Buffer): Promise<Socket> =>
    new Promise((resolve) => {
      const s = connect(Number(new URL(url).port), '127.0.0.1', () => {
        s.write(bytes);
        resolve(s);
      });
      s.on('error', () => undefined);
      sockets.push(s);
    });
  // Garbage, an HTTP request, a half C1 that stalls, a full C0+C1 that never sends C2 and
  // never reads, and a valid handshake followed by junk chunks.
  await open(Buffer.from('\x00\xff garbage'));
  await open(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await open(Buffer.concat([Buffer.from([3]), Buffer.alloc(700, 1)]));
  const stalled = await open(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 2)]));
  stalled.pause();
  const junk = await open(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536, 3)]));
  await new Promise((resolve) => setTimeout(resolve, 200));
  junk.write(Buffer.concat([Buffer.alloc(1536, 4), Buffer.from('c3ffffff', 'hex'), Buffer.alloc(64, 0xee)]));
  try {
    // The stream keeps flowing and a new viewer still plays it.
    const probe = await ffprobeJson(`${url}/live/test`, [], 20_000);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264', probe.stderr);
    const framesAfter = registry.get('live/test')!.framesIn;
    assert.ok(framesAfter > framesBefore + 25, `frames kept coming: ${framesBefore} -> ${framesAfter}`);
    // The stalled handshakes are closed by the handshake timeout (2 s here).
    await waitFor(() => server.sessions().every((s) => s.state === 'connected'), 5000, 'stalled sessions to be closed');
  } finally {
    for (const s of sockets) s.destroy();
  }
});

test('a second publisher on the same path is refused; an unknown path is not found', async () => {
  const second = await runTool(ffmpegPath, testPatternArgs(`${url}/live/test`, { size: '160x120', rate: 10, audio: false, seconds: 2 }), 15_000);
  assert.notEqual(second.code, 0, 'ffmpeg must fail to publish on a busy path');
  assert.ok(registry.get('live/test')?.publisher?.kind === 'rtmp', 'the first publisher is still there');
  const missing = await ffprobeJson(`${url}/live/nothing`, [], 15_000);
  assert.notEqual(missing.code, 0);
  assert.equal(missing.streams.length, 0);
});
