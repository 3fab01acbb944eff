import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { startTestGateway, waitFor, TEST_SECRETS, type TestGateway, gbServerOf } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { ffmpegPath, ffprobeJson, runTool } from '../helpers/media-tools';
import { startRtspPublisher, waitForPublishing } from '../helpers/rtsp-server';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { RtspServer } from '../../src/protocols/rtsp/server';
import pino from 'pino';

/**
 * The RTSP server against third-party clients on one gateway: ffmpeg/ffprobe and GStreamer
 * play (TCP and UDP), ffmpeg publishes (ANNOUNCE/RECORD over TCP and UDP, Digest), a GB28181
 * channel starts on demand for an RTSP viewer, and the raw protocol answers (461, 401, 404).
 */

let gw: TestGateway;
let rtmp: Awaited<ReturnType<typeof publishTestPattern>>;
/** A small RTP port range of this test's own (the shared pool the RTSP server takes UDP ports from). */
const PORT_MIN = 41_000 + 2 * Math.floor(Math.random() * 4000);
const PORT_MAX = PORT_MIN + 39;
const DEVICE = '34020000001320000009';
const CHANNELS = makeChannels(DEVICE, 1);

before(async () => {
  gw = await startTestGateway({
    GW_HUB_WAIT_FOR_PUBLISHER: '2',
    GW_HUB_CLOSE_AFTER: '1',
    GW_SIP_MEDIA_IP: '127.0.0.1',
    GW_RTP_PORT_MIN: String(PORT_MIN),
    GW_RTP_PORT_MAX: String(PORT_MAX),
    GW_RTSP_SESSION_TIMEOUT: '5',
  });
  rtmp = await publishTestPattern(gw, 'live/cam');
});

after(async () => {
  await rtmp?.stop();
  await gw?.stop();
});

const rtspUrl = (path: string, auth = ''): string => `rtsp://${auth}127.0.0.1:${gw.ports.rtsp}/${path}`;

/**
 * ffmpeg decodes `seconds` of the URL; stderr must stay empty at `-v error`. `-vsync cfr`: ffmpeg
 * 4.1's RTP demuxer gives the first H.264/H.265 access unit of every RTSP session no pts (its
 * parser cannot place the first chunk of an input without byte positions; node-rtsp-rtmp-server
 * shows the same), so the null muxer is told to keep a constant frame rate, as a file output
 * would, instead of passing the guessed timestamp through.
 */
async function decodeSilently(url: string, transport: 'tcp' | 'udp', seconds = 2): Promise<void> {
  const decode = await runTool(ffmpegPath, ['-v', 'error', '-rtsp_transport', transport, '-i', url, '-t', String(seconds), '-vsync', 'cfr', '-f', 'null', '-'], 20_000);
  assert.equal(decode.code, 0, decode.stderr);
  assert.equal(decode.stderr.trim(), '', `ffmpeg over ${transport} printed: ${decode.stderr}`);
}

/** GStreamer's rtspsrc plays the URL: `buffers` decoded video frames reach the sink, no error. */
async function gstreamerPlays(url: string, protocol: 'tcp' | 'udp'): Promise<void> {
  const args = [
    '-q',
    'rtspsrc',
    `location=${url}`,
    `protocols=${protocol}`,
    'latency=0',
    '!',
    'rtph264depay',
    '!',
    'h264parse',
    '!',
    'avdec_h264',
    '!',
    'fakesink',
    'num-buffers=25',
  ];
  const run = await runTool('gst-launch-1.0', args, 20_000);
  assert.equal(run.code, 0, `gst-launch over ${protocol}: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /ERROR/, run.stderr);
}

test('play from an RTMP publish (H.264+AAC): ffmpeg and GStreamer over TCP and UDP, joining mid-stream on a keyframe', async () => {
  await new Promise((resolve) => setTimeout(resolve, 1200)); // join mid-GOP
  const url = rtspUrl('live/cam');
  const probe = await ffprobeJson(url, ['-rtsp_transport', 'tcp', '-read_intervals', '%+1', '-show_packets'], 20_000);
  assert.equal(probe.stderr.trim(), '');
  const video = probe.streams.find((s) => s.codec_type === 'video')!;
  assert.equal(video.codec_name, 'h264');
  assert.equal(video.width, 640);
  assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  const videoPackets = probe.packets!.filter((p) => p.stream_index === video.index);
  assert.ok(videoPackets[0]!.flags.startsWith('K'), 'the first video packet is a keyframe');
  const pts = videoPackets.slice(1).map((p) => Number(p.pts));
  assert.ok(pts.length > 5 && pts.every((t, i) => i === 0 || t > pts[i - 1]!), `video pts after the first rise: ${pts.join(',')}`);
  await decodeSilently(url, 'tcp');
  await decodeSilently(url, 'udp');
  await gstreamerPlays(url, 'tcp');
  await gstreamerPlays(url, 'udp');
});

test('ffmpeg publishes over RTSP (TCP with Digest, UDP with ?key=) and the stream plays over HTTP-FLV; a wrong password gets 401', async () => {
  const targets = [
    { path: 'live/in-tcp', url: rtspUrl('live/in-tcp', `anyone:${TEST_SECRETS.publishKey}@`), transport: 'tcp' as const },
    { path: 'live/in-udp', url: `${rtspUrl('live/in-udp')}?key=${TEST_SECRETS.publishKey}`, transport: 'udp' as const },
  ];
  for (const target of targets) {
    const publisher = startRtspPublisher(target.url, { transport: target.transport });
    try {
      await waitForPublishing(publisher);
      await waitFor(() => gw.gateway.registry.get(target.path)?.ready, 10_000, `${target.path} ready`);
      assert.equal(gw.gateway.registry.get(target.path)?.publisher?.kind, 'rtsp');
      const flv = await runTool(ffmpegPath, ['-v', 'error', '-i', `${gw.httpUrl}/${target.path}.flv`, '-t', '1.5', '-f', 'null', '-'], 20_000);
      assert.equal(flv.code, 0, flv.stderr);
      assert.equal(flv.stderr.trim(), '', `HTTP-FLV of an RTSP ${target.transport} publish: ${flv.stderr}`);
      const probe = await ffprobeJson(`${gw.httpUrl}/${target.path}.flv`, ['-read_intervals', '%+1']);
      assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    } finally {
      await publisher.stop();
    }
  }
  const refused = startRtspPublisher(rtspUrl('live/in-bad', 'anyone:not-the-key@'), { transport: 'tcp' });
  await waitFor(() => refused.child.exitCode !== null || undefined, 10_000, 'ffmpeg to give up');
  assert.match(refused.stderr(), /401 Unauthorized/);
  assert.equal(gw.gateway.registry.get('live/in-bad'), undefined);
});

test('H.265 and G.711 published over RTSP play back over RTSP (ffmpeg silent, ffprobe sees hevc and pcm_alaw)', async () => {
  const publisher = startRtspPublisher(`${rtspUrl('live/hevc')}?key=${TEST_SECRETS.publishKey}`, { transport: 'udp', video: 'h265', audio: 'pcma' });
  try {
    await waitForPublishing(publisher);
    await waitFor(() => gw.gateway.registry.get('live/hevc')?.ready, 10_000, 'live/hevc ready');
    const probe = await ffprobeJson(rtspUrl('live/hevc'), ['-rtsp_transport', 'tcp'], 20_000);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['hevc', 'pcm_alaw']);
    await decodeSilently(rtspUrl('live/hevc'), 'tcp', 1.5);
  } finally {
    await publisher.stop();
  }
});

test('an RTSP viewer of a GB28181 channel starts its INVITE on demand and the BYE follows the last viewer', async () => {
  const sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels: CHANNELS,
  });
  await sim.start();
  try {
    assert.equal((await sim.register())?.status, 200);
    await waitFor(() => gw.gateway.gb28181!.channels.list({ deviceId: DEVICE }).total === 1 || undefined, 5000, 'the catalog');
    const path = `rtp/${DEVICE}_${CHANNELS[0]!.id}`;
    const probe = await ffprobeJson(rtspUrl(path), ['-rtsp_transport', 'tcp', '-count_frames', '-read_intervals', '%+1.5'], 20_000);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.ok(Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames) > 5, JSON.stringify(probe.streams));
    assert.equal(sim.invites, 1);
    await waitFor(() => sim.byes === 1 || undefined, 6000, 'the BYE after the RTSP viewer left');
  } finally {
    await sim.close();
  }
});

/** Requests on one connection; resolves with each response head once all are answered. */
function exchange(requests: string[], port = gw.ports.rtsp): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(requests.join('')));
    let got = '';
    socket.on('data', (chunk) => {
      got += chunk.toString('latin1');
      const heads = got.split(/(?=RTSP\/1\.0 \d{3})/).filter((h) => h.startsWith('RTSP/1.0'));
      if (heads.length === requests.length && got.endsWith('\r\n\r\n')) {
        socket.destroy();
        resolve(heads);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(got.split(/(?=RTSP\/1\.0 \d{3})/).filter((h) => h.startsWith('RTSP/1.0'))));
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

test('raw: UDP ports from the pool and freed by the session timeout; multicast 461; ANNOUNCE without key 401 with Digest; missing 404; garbage 400', async () => {
  const base = rtspUrl('live/cam');
  const [describe, setup, multicast] = await exchange([
    `DESCRIBE ${base} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
    `SETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`,
    `SETUP ${base}/trackID=1 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;multicast;port=5002-5003\r\n\r\n`,
  ]);
  assert.match(describe!, /^RTSP\/1\.0 200 OK/);
  assert.match(setup!, /^RTSP\/1\.0 200 OK/);
  const serverPort = Number(/server_port=(\d+)-/.exec(setup!)?.[1]);
  assert.ok(serverPort >= PORT_MIN && serverPort <= PORT_MAX, `server_port ${serverPort} in ${PORT_MIN}-${PORT_MAX}`);
  assert.match(multicast!, /^RTSP\/1\.0 461 /);
  // The exchange closed the connection: the ports are free again.
  await waitFor(async () => (await portIsFree(serverPort)) || undefined, 3000, 'the UDP port back in the pool');

  // A silent session (socket left open) ends at rtsp.sessionTimeout and frees its ports.
  const held = connect(gw.ports.rtsp, '127.0.0.1');
  let heldReply = '';
  held.on('data', (chunk) => (heldReply += chunk.toString('latin1')));
  const closed = new Promise<void>((resolve) => held.on('close', () => resolve()));
  held.write(`DESCRIBE ${base} RTSP/1.0\r\nCSeq: 1\r\n\r\nSETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5004-5005\r\n\r\n`);
  await waitFor(() => /server_port=(\d+)/.exec(heldReply)?.[1], 5000, 'the UDP SETUP answer');
  const heldPort = Number(/server_port=(\d+)/.exec(heldReply)![1]);
  assert.equal(await portIsFree(heldPort), false, 'in use while the session lives');
  await closed;
  assert.equal(await portIsFree(heldPort), true, 'freed by the session timeout');

  const [announce] = await exchange([`ANNOUNCE ${rtspUrl('live/raw')} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n`]);
  assert.match(announce!, /^RTSP\/1\.0 401 /);
  assert.match(announce!, /WWW-Authenticate: Digest realm="[^"]+", nonce="[0-9a-f]{32}"/);
  const [missing] = await exchange([`DESCRIBE ${rtspUrl('live/none')} RTSP/1.0\r\nCSeq: 3\r\n\r\n`]);
  assert.match(missing!, /^RTSP\/1\.0 404 /);
  const [garbage] = await exchange(['\x00\x01 not rtsp\r\n\r\n']);
  assert.match(garbage!, /^RTSP\/1\.0 400 /);
});

test('an interleaved-only server (what RTSPS runs) answers UDP with 461 and TCP with 200', async () => {
  const server = new RtspServer({ host: '127.0.0.1', port: 0, registry: gw.gateway.registry, logger: pino({ level: 'silent' }), interleavedOnly: true });
  const { port } = await server.listen();
  try {
    const base = `rtsp://127.0.0.1:${port}/live/cam`;
    const [, udp, tcp] = await exchange(
      [
        `DESCRIBE ${base} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
        `SETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n`,
        `SETUP ${base}/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001,RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n`,
      ],
      port,
    );
    assert.match(udp!, /^RTSP\/1\.0 461 /);
    assert.match(tcp!, /^RTSP\/1\.0 200 OK[\s\S]*Transport: RTP\/AVP\/TCP;unicast;interleaved=0-1/);
  } finally {
    await server.close();
  }
});
