import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
import { Agent, createServer, get as httpGet, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthDto } from '../../src/api/health';
import type { ProxyDto } from '../../src/api/proxies';
import { manyPublisherArgs } from '../helpers/publisher';
import { slotOf } from '../../src/app/cluster/env';
import { NginxRtmp } from '../helpers/nginx-rtmp';
import type { PushDto } from '../../src/api/pushes';

const DEVICE = '34020000001320000001';
const CHANNELS = makeChannels(DEVICE, 2);
const GB_PATH = `rtp/${DEVICE}_${CHANNELS[0]!.id}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Ports {
  http: number;
  rtmp: number;
  sip: number;
}

/** Records every webhook POST (one receiver for the whole gateway: each event must come once). */
async function startHookReceiver() {
  const calls: { hook: string; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      calls.push({ hook: (req.url ?? '').slice(1), body: JSON.parse(text || '{}') as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = (hook: string) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/${hook}`;
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { calls, url, close };
}

/** GET on a connection of its own: node:cluster hands each new connection to the next worker. */
function freshGet(url: string): Promise<{ worker: number; status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { agent: false, headers: { authorization: `Bearer ${TEST_SECRETS.secret}` } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ worker: Number(res.headers['x-gateway-worker']), status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
  });
}

/** Fresh-connection GETs until both workers answered; every answer parsed. */
async function fromBothWorkers<T>(url: string): Promise<Map<number, T>> {
  const answers = new Map<number, T>();
  for (let i = 0; i < 12 && answers.size < 2; i++) {
    const res = await freshGet(url);
    assert.equal(res.status, 200, res.text);
    answers.set(res.worker, (url.endsWith('/metrics') ? res.text : JSON.parse(res.text)) as T);
  }
  assert.deepEqual([...answers.keys()].sort(), [1, 2], 'both workers answered');
  return answers;
}

/** The gateway as a child process with two workers (what SIGKILL hits is one of its workers). */
function runCluster(dir: string, hookEnv: Record<string, string>) {
  const gw = spawnGatewayChild({
    ...hookEnv,
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

/** The API and viewers of the gateway at `ports`; every viewer opened goes into `viewers` (closed by the test). */
function clusterClient(ports: Ports, viewers: Viewer[]) {
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
  /** The worker whose publisher feeds `path` (session ids are `w{slot}.`). */
  const ownerOf = (s: StreamDto | undefined) => Number(/^w(\d+)\./.exec(s?.publisher?.id ?? '')?.[1] ?? 0);
  return { base, api, stream, open, ownerOf };
}

/** The simulated device, registered with the gateway's SIP (worker 1) and its catalog read. */
async function registeredDevice(sipPort: number, api: ReturnType<typeof clusterClient>['api']): Promise<GbDeviceSimulator> {
  const sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    serverPort: sipPort,
    serverId: '34020000002000000001',
    domain: '3402000000',
    password: TEST_SECRETS.sipPassword,
    channels: CHANNELS,
  });
  try {
    await sim.start();
    assert.equal((await sim.register())?.status, 200);
    await waitFor(async () => (await api<{ items: unknown[] }>('GET', `/api/devices/${DEVICE}/channels`)).items.length === 2, 10_000, 'the catalog');
    return sim;
  } catch (err) {
    await sim.close();
    throw err;
  }
}

/**
 * One kept-alive connection to each worker (node:cluster hands a connection to one worker; all its
 * requests stay there): `on[slot]` sends the API request to that worker.
 */
async function oneConnectionPerWorker(httpPort: number) {
  const agents: Agent[] = [];
  const on = new Map<number, <T>(method: string, url: string, body?: object) => Promise<{ status: number; json: T }>>();
  for (let i = 0; i < 12 && on.size < 2; i++) {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(agent);
    const send = <T>(method: string, url: string, body?: object) =>
      new Promise<{ status: number; json: T; worker: number }>((resolve, reject) => {
        const text = body ? JSON.stringify(body) : undefined;
        const headers = { authorization: `Bearer ${TEST_SECRETS.secret}`, ...(text ? { 'content-type': 'application/json' } : {}) };
        const req = httpRequest({ host: '127.0.0.1', port: httpPort, path: url, method, agent, headers }, (res) => {
          let answer = '';
          res.on('data', (chunk: Buffer) => (answer += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(answer || '{}') as T, worker: Number(res.headers['x-gateway-worker']) }));
        });
        req.on('error', reject);
        req.end(text);
      });
    const { worker } = await send('GET', '/api/health');
    if (!on.has(worker))
      on.set(worker, async <T>(method: string, url: string, body?: object) => {
        const answer = await send<T>(method, url, body);
        assert.equal(answer.worker, worker, 'a kept-alive connection stays on its worker');
        return answer;
      });
  }
  assert.deepEqual([...on.keys()].sort(), [1, 2], 'a connection to each worker');
  return { on: (slot: number) => on.get(slot)!, close: () => agents.forEach((a) => a.destroy()) };
}

/** Prints what the workers said (warnings and up, and the proxy/cluster lines) for a failure report. */
function printLog(out: string): void {
  const lines = out.split('\n').filter((l) => /"level":[456]0|cluster|proxy|demand|record|gb/.test(l));
  process.stderr.write(`${lines.slice(-80).join('\n')}\n`);
}

test('cluster.workers 2: viewers on both workers play one publish, the API counts them all, a SIGKILLed worker comes back without stopping the other and recovers the segments it left open, GB28181 and an RTSP proxy start and stop on demand, a recording is whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  const hooks = await startHookReceiver();
  const gw = runCluster(dir, { GW_HOOKS_ON_PUBLISH: hooks.url('on_publish'), GW_HOOKS_ON_STREAM_CHANGED: hooks.url('on_stream_changed') });
  const viewers: Viewer[] = [];
  let publisher: ReturnType<typeof startTool> | undefined;
  let crashPublisher: ReturnType<typeof startTool> | undefined;
  let rtspServer: RtspTestServer | undefined;
  let rtspPublisher: ReturnType<typeof startTool> | undefined;
  let sim: GbDeviceSimulator | undefined;
  try {
    const ports = await gw.ports();
    const { base, api, stream, open, ownerOf } = clusterClient(ports, viewers);

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
    const owner = ownerOf(counted);
    const onOwner = counted.subscribers.filter((s) => s.id.startsWith(`w${owner}.`)).length;
    assert.ok(onOwner > 0 && onOwner < 20, `viewers on both workers (${onOwner} on the owner, worker ${owner})`);
    const cluster = await api<ClusterDto>('GET', '/api/cluster');
    assert.deepEqual(
      cluster.directory.filter((e) => e.path === 'live/cam').map((e) => [e.owner, e.state]),
      [[owner, 'live']],
    );

    // The gateway as one from either worker: /metrics sums both (internal pulls left out), health counts the stream once.
    for (const [worker, text] of await fromBothWorkers<string>(`${base}/metrics`)) {
      const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.equal(value('gateway_streams'), 1, `gateway_streams from worker ${worker}`);
      assert.equal(value('gateway_readers{protocol="http-flv"}'), 7, `http-flv readers from worker ${worker}`);
      assert.equal(value('gateway_readers{protocol="ws-flv"}'), 7);
      assert.equal(value('gateway_readers{protocol="rtmp"}'), 6);
      assert.ok(value('gateway_process_cpu_seconds_total{worker="1"}') > 0 && value('gateway_process_cpu_seconds_total{worker="2"}') > 0, 'CPU per worker');
    }
    for (const [worker, health] of await fromBothWorkers<HealthDto>(`${base}/api/health`)) {
      assert.equal(health.streams, 1, `health streams from worker ${worker}`);
      assert.deepEqual(health.workers, { ready: 2, configured: 2 });
    }
    // Webhooks: one on_publish and one stream-up for live/cam, though both workers have it (the owner, and an internal pull).
    const hooksOf = (hook: string, path: string, extra: (b: Record<string, unknown>) => boolean = () => true) =>
      hooks.calls.filter((c) => c.hook === hook && `${String(c.body.app)}/${String(c.body.stream)}` === path && extra(c.body));
    assert.equal(hooksOf('on_publish', 'live/cam').length, 1, JSON.stringify(hooks.calls));
    assert.equal(hooksOf('on_stream_changed', 'live/cam', (b) => b.regist === true).length, 1, JSON.stringify(hooks.calls));

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
    sim = await registeredDevice(ports.sip, api);
    // The media receiver of each INVITE goes to the worker with the fewest streams (a tie: not SIP's worker 1), so
    // with live/cam on one worker, at least one channel's RTP lands on worker 2 whichever worker owns live/cam.
    const gbPaths = [GB_PATH, `rtp/${DEVICE}_${CHANNELS[1]!.id}`];
    const gbViewers = gbPaths.flatMap((path) => [open('flv', path), open('flv', path), open('flv', path), open('ws', path)]);
    await waitFor(() => gbViewers.every((v) => v.stats.firstKeyAt !== undefined), 25_000, 'the GB28181 channels playing');
    const gbOwners = (await api<ClusterDto>('GET', '/api/cluster')).directory.filter((e) => gbPaths.includes(e.path));
    const onTwo = gbOwners.find((e) => e.owner === 2 && e.state === 'live');
    assert.ok(onTwo, `a GB28181 channel owned by worker 2: ${JSON.stringify(gbOwners)}`);
    const gbStream = await stream(onTwo.path);
    assert.equal(gbStream?.readers.total, 4);
    assert.equal(gbStream?.publisher?.kind, 'gb28181');
    assert.match(gbStream!.publisher!.id, /^w2\./, 'its publisher (the RTP receiver) is on worker 2');
    const gbSides = new Set(gbStream!.subscribers.map((v) => v.id.slice(0, 3)));
    assert.deepEqual([...gbSides].sort(), ['w1.', 'w2.'], 'its HTTP-FLV viewers sit on both workers');
    for (const [worker, status] of await fromBothWorkers<{ state: string }>(`${base}/api/streams/${onTwo.path}/status`))
      assert.equal(status.state, 'live', `status from worker ${worker}`);
    assert.equal(hooksOf('on_stream_changed', onTwo.path, (b) => b.regist === true).length, 1, 'one stream-up for the channel on worker 2');
    for (const v of gbViewers) v.close();
    await waitFor(() => sim!.byes === 2, 10_000, 'the BYEs after the last viewers');
    await waitFor(async () => !(await stream(gbPaths[0]!)) && !(await stream(gbPaths[1]!)), 10_000, 'the GB28181 streams to end');

    // An RTSP proxy made through the API on one worker, played on demand from both.
    rtspServer = await startRtspServer('rtsp-streaming-server');
    rtspPublisher = startRtspPublisher(rtspServer.publishUrl('live/cam1'), { transport: 'udp' });
    await waitForPublishing(rtspPublisher);
    await api('POST', '/api/proxies', { path: 'proxy/cam', url: rtspServer.playUrl('live/cam1'), transport: 'udp' });
    const proxyViewers = [open('flv', 'proxy/cam'), open('flv', 'proxy/cam'), open('rtmp', 'proxy/cam')];
    await waitFor(() => proxyViewers.every((v) => v.stats.firstKeyAt !== undefined), 20_000, 'the RTSP proxy playing');
    assert.equal((await stream('proxy/cam'))?.readers.total, 3);
    // Its state comes from the worker that runs it, whichever worker answers.
    for (const [worker, list] of await fromBothWorkers<{ proxies: ProxyDto[] }>(`${base}/api/proxies`)) {
      assert.equal(list.proxies.find((p) => p.path === 'proxy/cam')?.status.state, 'playing', `proxy state from worker ${worker}`);
    }
    for (const v of proxyViewers) v.close();
    await waitFor(async () => !(await stream('proxy/cam')), 10_000, 'the proxy to stop after its last viewer');

    // SIGKILL the worker that does not own the stream: its viewers drop, the owner's keep playing.
    const victim = cluster.workers.find((w) => w.slot !== owner)!;
    // A recording that runs on the victim (manual recordings run on slotOf(path)) is left open by the kill.
    const crashPath = ['live/rec1', 'live/rec2'].find((p) => slotOf(p, 2) === victim.slot)!;
    crashPublisher = startTool(ffmpegPath, manyPublisherArgs([`rtmp://127.0.0.1:${ports.rtmp}/${crashPath}?key=${TEST_SECRETS.publishKey}`], { size: '320x240', bitrate: '200k' }));
    await waitFor(async () => (await stream(crashPath))?.ready, 20_000, 'the stream recorded on the victim');
    await api('POST', '/api/record/start', { path: crashPath, formats: ['flv', 'ts'] });
    const crashRows = async () => (await api<{ recordings: RecordingJson[] }>('GET', `/api/recordings?path=${crashPath}&start=0`)).recordings;
    await waitFor(async () => (await crashRows()).filter((r) => r.status === 'recording' && r.bytes > 0).length === 2, 20_000, 'two open segments on the victim');
    await sleep(2000);
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
    // The restarted worker recovered the segments its previous life left open (no full restart).
    const recovered = await waitFor(
      async () => {
        const list = await crashRows();
        return list.length === 2 && list.every((r) => r.status === 'recovered') && list;
      },
      20_000,
      "the killed worker's segments to be recovered by its restart",
    );
    for (const row of recovered) {
      const file = join(dir, 'record', row.file);
      assert.equal(statSync(file).size, row.bytes, `${row.file}: size and row agree`);
      const crashProbe = await probeSegment(file);
      assert.equal(crashProbe.decodeErrors, '', `${row.file} decodes silently`);
      assert.ok(
        row.durationMs >= 1000 && Math.abs(crashProbe.mediaSeconds * 1000 - row.durationMs) < 300,
        `${row.format}: ${row.durationMs} ms in the row, ${crashProbe.mediaSeconds} s in the file`,
      );
    }
    // New viewers land on both workers again and play.
    const again = [open('flv', 'live/cam'), open('flv', 'live/cam'), open('ws', 'live/cam'), open('ws', 'live/cam')];
    await waitFor(() => again.every((v) => v.stats.firstKeyAt !== undefined), 20_000, 'viewers after the restart');
  } catch (err) {
    printLog(gw.out());
    throw err;
  } finally {
    for (const v of viewers) v.close();
    await sim?.close();
    await rtspPublisher?.stop();
    await rtspServer?.stop();
    await publisher?.stop();
    await crashPublisher?.stop();
    await gw.stop();
    await hooks.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cluster.workers 2: /api/rtp lists and closes the receivers of both workers; always-on proxies are placed by load, one on each worker, and a keepSource push with its GB28181 channel on one worker; SIGKILL of worker 2: its proxy plays again on worker 1, and the GB28181 channel it received is INVITEd again for the viewers on worker 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-jobs-'));
  const gw = runCluster(dir, {});
  const viewers: Viewer[] = [];
  let rtspServer: RtspTestServer | undefined;
  let rtspPublisher: ReturnType<typeof startTool> | undefined;
  let sim: GbDeviceSimulator | undefined;
  let connections: Awaited<ReturnType<typeof oneConnectionPerWorker>> | undefined;
  let nginx: NginxRtmp | undefined;
  try {
    const ports = await gw.ports();
    const { api, stream, open, ownerOf } = clusterClient(ports, viewers);

    // /api/rtp over both workers: a receiver opens on the worker that took the request (its ports),
    // both workers list both, a path is open once over all, and a close goes to the worker holding it.
    connections = await oneConnectionPerWorker(ports.http);
    const rtpOn = connections.on;
    const opened = [
      await rtpOn(1)<{ port: number }>('POST', '/api/rtp/open', { stream: 'rtp/one' }),
      await rtpOn(2)<{ port: number }>('POST', '/api/rtp/open', { stream: 'rtp/two' }),
    ];
    assert.deepEqual(
      opened.map((o) => o.status),
      [200, 200],
    );
    for (const slot of [1, 2]) {
      const { json } = await rtpOn(slot)<{ receivers: { path: string; port: number; worker: number }[] }>('GET', '/api/rtp');
      assert.deepEqual(
        json.receivers.map((r) => [r.path, r.port, r.worker]).sort(),
        [
          ['rtp/one', opened[0]!.json.port, 1],
          ['rtp/two', opened[1]!.json.port, 2],
        ],
        `the receivers listed by worker ${slot}`,
      );
    }
    assert.equal((await rtpOn(1)('POST', '/api/rtp/open', { stream: 'rtp/two' })).status, 409, 'rtp/two is open on worker 2 already');
    assert.equal((await rtpOn(2)('DELETE', '/api/rtp/rtp/one')).status, 200, "worker 2 closes worker 1's receiver");
    assert.equal((await rtpOn(1)('DELETE', '/api/rtp/rtp/two')).status, 200, "worker 1 closes worker 2's receiver");
    assert.equal((await rtpOn(1)('DELETE', '/api/rtp/rtp/two')).status, 404, 'closed');
    for (const slot of [1, 2]) assert.deepEqual((await rtpOn(slot)<{ receivers: unknown[] }>('GET', '/api/rtp')).json.receivers, []);
    connections.close();

    rtspServer = await startRtspServer('rtsp-streaming-server');
    rtspPublisher = startRtspPublisher(rtspServer.publishUrl('live/src'), { transport: 'udp' });
    await waitForPublishing(rtspPublisher);
    // Made through the API on whichever worker takes each request; every worker knows both, one runs each.
    const paths = ['always/a', 'always/b'];
    for (const path of paths) await api('POST', '/api/proxies', { path, url: rtspServer.playUrl('live/src'), transport: 'udp', onDemand: false });
    const owners = await waitFor(
      async () => {
        const streams = await Promise.all(paths.map((p) => stream(p)));
        return streams.every((s) => s?.ready) && streams.map(ownerOf);
      },
      20_000,
      'both always-on proxies playing',
    );
    assert.deepEqual([...owners].sort(), [1, 2], `one proxy on each worker (owners ${owners.join(', ')})`);
    const cluster = await api<ClusterDto>('GET', '/api/cluster');
    assert.deepEqual(
      paths.map((p) => cluster.directory.filter((e) => e.path === p).map((e) => [e.owner, e.state])),
      owners.map((o) => [[o, 'live']]),
    );

    // A GB28181 channel: SIP on worker 1; its receiver goes by load (one proxy each: a tie, not SIP's worker) to worker 2.
    sim = await registeredDevice(ports.sip, api);
    const gbViewers = [open('flv', GB_PATH), open('flv', GB_PATH), open('flv', GB_PATH), open('flv', GB_PATH)];
    await waitFor(() => gbViewers.every((v) => v.stats.firstKeyAt !== undefined), 25_000, 'the GB28181 channel playing');
    const gbBefore = (await stream(GB_PATH))!;
    assert.equal(ownerOf(gbBefore), 2, 'its receiver on worker 2');
    const gbOnOne = gbBefore.subscribers.filter((v) => v.id.startsWith('w1.')).length;
    assert.ok(gbOnOne > 0 && gbOnOne < 4, `viewers of the channel on both workers (${gbOnOne} on worker 1)`);
    assert.equal(sim.invites, 1);

    // A keepSource push of the other channel, no viewer: its job goes to the least-loaded worker
    // (1: a proxy; 2: a proxy and the first channel), and the channel it pulls is placed there too
    // (by load alone the tie of 2 and 2 would go to worker 2 and cross).
    nginx = await NginxRtmp.start();
    const pushPath = `rtp/${DEVICE}_${CHANNELS[1]!.id}`;
    const push = await api<PushDto>('POST', '/api/pushes', { path: pushPath, url: nginx.url('gbcam'), keepSource: true });
    await waitFor(
      async () => (await api<PushDto>('GET', `/api/pushes/${push.id}`)).pushes.some((p) => p.state === 'pushing' && p.framesOut > 10),
      20_000,
      'the keepSource push of the second channel',
    );
    assert.equal(ownerOf(await stream(pushPath)), 1, 'the pushed channel received on the worker running its push');
    // (The simulator sometimes sends nothing on a second channel's first tcp-passive INVITE: the push INVITEs again.)
    const [invitesBefore, byesBefore] = [sim.invites, sim.byes];

    // SIGKILL worker 2: the proxy it ran is taken up by worker 1 (the only live one) and plays again.
    const victim = cluster.workers.find((w) => w.slot === 2)!;
    const moved = paths[owners.indexOf(2)]!;
    const stayed = paths[owners.indexOf(1)]!;
    process.kill(victim.pid, 'SIGKILL');
    // (A kept-alive API connection that sat on the killed worker fails once: polled again.)
    await waitFor(async () => ownerOf(await stream(moved).catch(() => undefined)) === 1, 20_000, `${moved} playing again, on worker 1`);
    const back = await waitFor(
      async () => {
        const now = await api<ClusterDto>('GET', '/api/cluster');
        return now.workers.find((w) => w.slot === 2 && w.ready && w.restarts === 1 && w.pid !== victim.pid) && now;
      },
      30_000,
      'the primary to restart worker 2',
    );
    // The restarted worker does not run it a second time: one owner, and the other proxy stayed where it was.
    assert.deepEqual(
      back.directory
        .filter((e) => paths.includes(e.path))
        .map((e) => [e.path, e.owner])
        .sort(),
      [
        [moved, 1],
        [stayed, 1],
      ].sort(),
    );
    const watching = [open('flv', moved), open('flv', moved), open('ws', moved), open('ws', moved)];
    await waitFor(() => watching.every((v) => v.stats.firstKeyAt !== undefined), 20_000, `viewers of ${moved} on both workers`);
    const sides = new Set((await stream(moved))!.subscribers.map((v) => v.id.slice(0, 3)));
    assert.deepEqual([...sides].sort(), ['w1.', 'w2.']);

    // The channel's receiver died with worker 2: worker 1's viewers kept their stream (the reconnect
    // grace) while it was placed again and INVITEd again (its first INVITE BYEd), and they play on.
    await waitFor(() => sim!.invites > invitesBefore && sim!.byes > byesBefore, 15_000, 'the dead receiver BYEd and the channel INVITEd again').catch((err: unknown) => {
      throw new Error(`${String(err)} (invites ${sim!.invites}, byes ${sim!.byes})`);
    });
    const gbAfter = await waitFor(async () => (await stream(GB_PATH))?.ready && (await stream(GB_PATH))!, 15_000, 'the channel published again');
    assert.equal(gbAfter.publisher?.kind, 'gb28181');
    const survivors = gbViewers.filter((v) => v.stats.closedAt === undefined);
    assert.equal(survivors.length, gbOnOne, "worker 1's viewers of the channel stayed, worker 2's were cut");
    const from = survivors.map((v) => v.stats.bytes);
    await waitFor(() => survivors.every((v, i) => v.stats.bytes > from[i]! + 20_000), 15_000, 'the surviving viewers reading the channel again');
    assert.ok(
      survivors.every((v) => v.stats.closedAt === undefined),
      'and none of them was closed',
    );
  } catch (err) {
    printLog(gw.out());
    throw err;
  } finally {
    for (const v of viewers) v.close();
    connections?.close();
    await sim?.close();
    await nginx?.stop();
    await rtspPublisher?.stop();
    await rtspServer?.stop();
    await gw.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
