import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS, waitFor } from '../helpers/gateway';
import { ffmpegPath, startTool } from '../helpers/media-tools';
import { probeSegment, type RecordingJson } from '../helpers/recordings';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';
import { startRtspPublisher, startRtspServer, waitForPublishing, type RtspTestServer } from '../helpers/rtsp-server';
import { openViewer, type Protocol, type Viewer, type ViewerContext } from '../bench/viewers';
import type { ClusterDto } from '../../src/api/cluster';
import type { StreamDto } from '../../src/api/streams';
import { spawnGatewayChild } from '../helpers/gateway-child';

const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 1);
const GB_PATH = `rtp/${DEVICE}_${CHANNELS[0]!.id}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ports {
  http: number;
  rtmp: number;
  sip: number;
}

/** The gateway as a child process with two workers (what SIGKILL hits is one of its workers). */
function runCluster(dir: string) {
  const gw = spawnGatewayChild({
    GW_CLUSTER_WORKERS: '2',
    GW_SIP_MEDIA_IP: '127.0.0.1',
    GW_SIP_MEDIA_TIMEOUT: '3',
    GW_SIP_PASSWORD: TEST_SECRETS.sipPassword,
    GW_AUTH_SECRET: TEST_SECRETS.secret,
    GW_AUTH_PUBLISH_KEY: TEST_SECRETS.publishKey,
    GW_AUTH_PLAY: 'open',
    GW_HUB_CLOSE_AFTER: '1',
    GW_STORAGE_DIR: dir,
    GW_LOG_PRETTY: 'no',
    GW_RECORD_FLUSH_SECONDS: '1',
  });
  const ports = () => gw.ports<Ports>({ match: (line) => line.includes('"component":"cluster"'), timeoutMs: 60_000 });
  return { ports, stop: () => gw.stop(), out: gw.out };
}

test('cluster.workers 2: viewers on both workers play one publish, the API counts them all, a SIGKILLed worker comes back without stopping the other, GB28181 and an RTSP proxy start and stop on demand, a recording is whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  const gw = runCluster(dir);
  const viewers: Viewer[] = [];
  let publisher: ReturnType<typeof startTool> | undefined;
  let rtspServer: RtspTestServer | undefined;
  let rtspPublisher: ReturnType<typeof startTool> | undefined;
  let sim: GbDeviceSimulator | undefined;
  try {
    const ports = await gw.ports();
    const base = `http://127.0.0.1:${ports.http}`;
    const api = async <T>(method: string, url: string, body?: object): Promise<T> => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: { authorization: `Bearer ${TEST_SECRETS.secret}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const stream = async (path: string) => (await api<{ streams: StreamDto[] }>('GET', '/api/streams')).streams.find((s) => s.path === path);
    const open = (protocol: Protocol, path: string): Viewer => {
      const [app = '', name = ''] = path.split('/');
      const context: ViewerContext = {
        target: { host: '127.0.0.1', httpPort: ports.http, rtmpPort: ports.rtmp, app, stream: name },
        gapLimitMs: 3000,
        readBuffer: Buffer.allocUnsafe(64 * 1024),
      };
      const viewer = openViewer(protocol, context);
      viewers.push(viewer);
      return viewer;
    };

    publisher = startTool(ffmpegPath, [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=44100'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${ports.rtmp}/live/cam?key=${TEST_SECRETS.publishKey}`],
    ]);
    await waitFor(async () => (await stream('live/cam'))?.ready, 20_000, 'the publish');

    // 20 viewers over three protocols, spread by the kernel over both workers.
    const protocols: Protocol[] = [...Array<Protocol>(7).fill('flv'), ...Array<Protocol>(7).fill('ws'), ...Array<Protocol>(6).fill('rtmp')];
    const twenty = protocols.map((p) => open(p, 'live/cam'));
    await waitFor(() => twenty.every((v) => v.stats.firstKeyAt !== undefined), 30_000, 'a keyframe at every viewer');
    const counted = await waitFor(
      async () => {
        const s = await stream('live/cam');
        return s?.readers.total === 20 && s;
      },
      10_000,
      '/api/streams counting 20 readers',
    );
    assert.deepEqual(counted.readers.byProtocol, { 'http-flv': 7, 'ws-flv': 7, rtmp: 6 });
    const owner = Number(/^w(\d+)\./.exec(counted.publisher!.id)![1]);
    const onOwner = counted.subscribers.filter((s) => s.id.startsWith(`w${owner}.`)).length;
    assert.ok(onOwner > 0 && onOwner < 20, `viewers on both workers (${onOwner} on the owner, worker ${owner})`);
    const cluster = await api<ClusterDto>('GET', '/api/cluster');
    assert.deepEqual(
      cluster.directory.filter((e) => e.path === 'live/cam').map((e) => [e.owner, e.state]),
      [[owner, 'live']],
    );

    // A recording while viewers sit on both workers (made by whichever worker takes the request).
    const recordFrom = Date.now();
    await api('POST', '/api/record/start', { path: 'live/cam', formats: ['flv'] });
    await sleep(5000);
    await api('POST', '/api/record/stop', { path: 'live/cam' });
    const recordSeconds = (Date.now() - recordFrom) / 1000;
    const rows = await waitFor(
      async () => {
        const list = (await api<{ recordings: RecordingJson[] }>('GET', '/api/recordings?path=live/cam&start=0')).recordings;
        return list.length > 0 && list.every((r) => r.status === 'complete') && list;
      },
      10_000,
      'the recording rows',
    );
    const recordDir = join(dir, 'record');
    const probe = await probeSegment(join(recordDir, rows[0]!.file));
    assert.equal(probe.decodeErrors, '');
    // Whole: the file decodes, its media time is what the index says, and no frame is missing. Its
    // length is only bounded loosely: on this loaded machine a starved publisher catches up in
    // bursts and the start request can take seconds to take effect.
    assert.ok(probe.mediaSeconds >= 1.5 && probe.mediaSeconds <= recordSeconds + 3, `recorded ${probe.mediaSeconds} s in ${recordSeconds} s: ${JSON.stringify(rows)}`);
    assert.ok(Math.abs(probe.mediaSeconds - rows[0]!.durationMs / 1000) < 1, `ffprobe ${probe.mediaSeconds} s, index ${rows[0]!.durationMs} ms`);
    const pts = [...probe.videoPts].sort((x, y) => x - y);
    const holes = pts.slice(1).filter((t, i) => t - pts[i]! > 0.2);
    assert.deepEqual(holes, [], 'no frame missing in the recording');

    // GB28181: SIP on worker 1; viewers from any worker start the INVITE, the last one leaving ends it.
    sim = new GbDeviceSimulator({
      deviceId: DEVICE,
      serverPort: ports.sip,
      serverId: '34020000002000000001',
      domain: '3402000000',
      password: TEST_SECRETS.sipPassword,
      channels: CHANNELS,
    });
    await sim.start();
    assert.equal((await sim.register())?.status, 200);
    await waitFor(async () => (await api<{ items: unknown[] }>('GET', `/api/devices/${DEVICE}/channels`)).items.length === 1, 10_000, 'the catalog');
    const gbViewers = [open('flv', GB_PATH), open('flv', GB_PATH), open('ws', GB_PATH)];
    await waitFor(() => gbViewers.every((v) => v.stats.firstKeyAt !== undefined), 20_000, 'the GB28181 channel playing');
    assert.equal((await stream(GB_PATH))?.readers.total, 3);
    for (const v of gbViewers) v.close();
    await waitFor(() => sim!.byes === 1, 10_000, 'the BYE after the last viewer');
    await waitFor(async () => !(await stream(GB_PATH)), 10_000, 'the GB28181 stream to end');

    // An RTSP proxy made through the API on one worker, played on demand from both.
    rtspServer = await startRtspServer('rtsp-streaming-server');
    rtspPublisher = startRtspPublisher(rtspServer.publishUrl('live/cam1'), { transport: 'udp' });
    await waitForPublishing(rtspPublisher);
    await api('POST', '/api/proxies', { path: 'proxy/cam', url: rtspServer.playUrl('live/cam1'), transport: 'udp' });
    const proxyViewers = [open('flv', 'proxy/cam'), open('flv', 'proxy/cam'), open('rtmp', 'proxy/cam')];
    await waitFor(() => proxyViewers.every((v) => v.stats.firstKeyAt !== undefined), 20_000, 'the RTSP proxy playing');
    assert.equal((await stream('proxy/cam'))?.readers.total, 3);
    for (const v of proxyViewers) v.close();
    await waitFor(async () => !(await stream('proxy/cam')), 10_000, 'the proxy to stop after its last viewer');

    // SIGKILL the worker that does not own the stream: its viewers drop, the owner's keep playing.
    const victim = cluster.workers.find((w) => w.slot !== owner)!;
    const before = twenty.map((v) => v.stats.bytes);
    process.kill(victim.pid, 'SIGKILL');
    await sleep(4000);
    const playing = twenty.filter((v, i) => v.stats.closedAt === undefined && v.stats.bytes > before[i]! + 10_000);
    assert.equal(playing.length, onOwner, 'the owner worker kept its viewers');
    assert.ok(
      playing.every((v) => v.stats.gapsOverLimit === 0),
      'and they did not stall',
    );
    const back = await waitFor(
      async () => {
        const now = await api<ClusterDto>('GET', '/api/cluster');
        const slot = now.workers.find((w) => w.slot === victim.slot);
        return slot?.ready && slot.restarts === 1 && slot.pid !== victim.pid && now;
      },
      30_000,
      'the primary to restart the killed worker',
    );
    assert.equal(back.workers.length, 2);
    // New viewers land on both workers again and play.
    const again = [open('flv', 'live/cam'), open('flv', 'live/cam'), open('ws', 'live/cam'), open('ws', 'live/cam')];
    await waitFor(() => again.every((v) => v.stats.firstKeyAt !== undefined), 20_000, 'viewers after the restart');
  } catch (err) {
    // What the workers said, for the failure report (warnings and up, and the proxy/cluster lines).
    const lines = gw
      .out()
      .split('\n')
      .filter((l) => /"level":[456]0|cluster|proxy|demand|record/.test(l));
    process.stderr.write(`${lines.slice(-80).join('\n')}\n`);
    throw err;
  } finally {
    for (const v of viewers) v.close();
    await sim?.close();
    await rtspPublisher?.stop();
    await rtspServer?.stop();
    await publisher?.stop();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
