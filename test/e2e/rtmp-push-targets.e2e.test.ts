import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';

/** The body of a GET for `ms`, de-chunked. */
async function fetchFor(url: string, ms: number): Promise<Buffer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  const parts: Buffer[] = [];
  try {
    const res = await fetch(url, { signal: abort.signal });
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(chunk));
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(parts);
}
import { NginxRtmp } from '../helpers/nginx-rtmp';
import { NodeMediaServer } from '../helpers/node-media-server';
import { makeTestPki, Stunnel, type TestPki } from '../helpers/stunnel';
import { encodeH265, publishH265 } from '../helpers/h265-source';
import { H264_TEST_TRACK, TestSource, videoFrame } from '../helpers/hub-fixtures';
import { publishTestPattern } from '../helpers/publisher';
import type { PushDto, PushStatusDto } from '../../src/api/pushes';

/**
 * Push targets beyond plain nginx-rtmp: RTMPS through stunnel (a certificate from a CA the
 * test makes), Enhanced RTMP H.265 to node-media-server read back by ffprobe, and a CDN that
 * accepts the connection and then stops reading.
 */

const dir = mkdtempSync(join(tmpdir(), 'gw-push-targets-'));

async function api<T>(gw: TestGateway, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.httpUrl}${path}`, {
    method,
    headers: { ...gw.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function addPush(gw: TestGateway, body: Record<string, unknown>): Promise<string> {
  const created = await api<PushDto>(gw, 'POST', '/api/pushes', body);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json.id;
}

async function pushStatus(gw: TestGateway, id: string): Promise<PushStatusDto | undefined> {
  return (await api<PushDto>(gw, 'GET', `/api/pushes/${id}`)).json.pushes[0];
}

function waitPushing(gw: TestGateway, id: string): Promise<PushStatusDto> {
  return waitFor(
    async () => {
      const s = await pushStatus(gw, id);
      return s?.state === 'pushing' && s.framesOut > 0 ? s : undefined;
    },
    15_000,
    `push ${id} to be pushing`,
  );
}

/** A synthetic H.264 source of `bytesPerFrame` frames at 50 fps, a keyframe every 25. */
function bigSource(gw: TestGateway, path: string, bytesPerFrame: number): { stop(): void } {
  const publisher = gw.gateway.registry.publish(path, new TestSource());
  publisher.setTracks([H264_TEST_TRACK]);
  let n = 0;
  const timer = setInterval(() => {
    publisher.write(videoFrame(publisher.resumeDts + n * 1800, n % 25 === 0, bytesPerFrame));
    n++;
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      publisher.end('test done');
    },
  };
}

after(() => rmSync(dir, { recursive: true, force: true }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** JS heap + Buffer memory after a full collection. */
function heldBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe('RTMPS through stunnel in front of nginx-rtmp', () => {
  let nginx: NginxRtmp;
  let pki: TestPki;
  let tunnel: Stunnel;
  let trusting: TestGateway;
  let plain: TestGateway;
  const sources: { stop(): void }[] = [];
  before(async () => {
    nginx = await NginxRtmp.start();
    pki = makeTestPki({ ips: ['127.0.0.1'], dns: ['cdn.test'] });
    tunnel = await Stunnel.start(pki, nginx.port);
    trusting = await startTestGateway({ GW_RELAY_TLS_CA_FILE: pki.caFile, GW_RELAY_RECONNECT_MIN: '0.5' });
    plain = await startTestGateway({ GW_RELAY_RECONNECT_MIN: '0.5' });
  });
  after(async () => {
    for (const s of sources) s.stop();
    await trusting?.stop();
    await plain?.stop();
    await tunnel?.stop();
    await nginx?.stop();
    rmSync(pki.dir, { recursive: true, force: true });
  });

  test('with the CA given, the certificate checks out and nginx serves the stream', async () => {
    const ffmpeg = await publishTestPattern(trusting, 'live/tls', { size: '320x240', audio: false });
    sources.push({ stop: () => void ffmpeg.stop() });
    const id = await addPush(trusting, { path: 'live/tls', url: `rtmps://127.0.0.1:${tunnel.port}/live/viatls` });
    await waitPushing(trusting, id);
    const probe = await ffprobeJson(nginx.url('viatls'), ['-rw_timeout', '5000000'], 15_000);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.deepEqual([video?.codec_name, video?.width, video?.height], ['h264', 320, 240]);
  });

  test('a name the certificate does not carry is refused even with the CA', async () => {
    const id = await addPush(trusting, { path: 'live/tls', url: `rtmps://localhost:${tunnel.port}/live/wrongname` });
    const failed = await waitFor(
      async () => {
        const s = await pushStatus(trusting, id);
        return s?.lastError ? s : undefined;
      },
      10_000,
      'the name mismatch',
    );
    assert.equal(failed.lastError!.kind, 'tls');
    assert.match(failed.lastError!.message, /localhost|altnames|match/i);
    assert.notEqual(failed.state, 'pushing');
  });

  test('without the CA: refused as untrusted, unless allowSelfSigned', async () => {
    sources.push(bigSource(plain, 'live/tls', 2000));
    const strict = await addPush(plain, { path: 'live/tls', url: `rtmps://127.0.0.1:${tunnel.port}/live/strict` });
    const loose = await addPush(plain, { path: 'live/tls', url: `rtmps://127.0.0.1:${tunnel.port}/live/loose`, allowSelfSigned: true });
    const failed = await waitFor(
      async () => {
        const s = await pushStatus(plain, strict);
        return s?.lastError ? s : undefined;
      },
      10_000,
      'the untrusted certificate to be refused',
    );
    assert.equal(failed.lastError!.kind, 'tls');
    assert.match(failed.lastError!.message, /certificate/i);
    await waitPushing(plain, loose);
  });
});

describe('H.265 as Enhanced RTMP to node-media-server', () => {
  let nms: NodeMediaServer;
  let gw: TestGateway;
  let source: { stop(): void } | undefined;
  before(async () => {
    nms = await NodeMediaServer.start();
    gw = await startTestGateway();
  });
  after(async () => {
    source?.stop();
    await gw?.stop();
    await nms?.stop();
  });

  test('x265 frames pushed as hvc1 are read back by ffprobe as HEVC', async () => {
    source = publishH265(gw.gateway.registry, 'live/hevc', await encodeH265(dir));
    const id = await addPush(gw, { path: 'live/hevc', url: nms.rtmpUrl('live/hevc'), hevc: 'enhanced' });
    await waitPushing(gw, id);
    // node-media-server's FLV header announces audio it never sends, so a live probe waits for
    // it: read 3 s of the stream (HTTP chunked, undone by fetch) into a file and probe that.
    const file = join(dir, 'nms-hevc.flv');
    writeFileSync(file, await fetchFor(nms.flvUrl('live/hevc'), 3000));
    const probe = await ffprobeJson(file, ['-count_frames'], 30_000);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    assert.deepEqual([video?.codec_name, video?.width, video?.height], ['hevc', 320, 240], `${probe.stderr} ${nms.log().slice(-2000)}`);
    assert.ok(Number(video?.nb_read_frames) >= 25, `frames: ${video?.nb_read_frames}`);
    assert.equal(probe.stderr.trim(), '', probe.stderr);
  });
});

describe('a CDN that accepts the connection, then stops reading', () => {
  let nginx: NginxRtmp;
  let gw: TestGateway;
  let stalling: Server;
  let stalledPort = 0;
  const clients: Socket[] = [];
  let reading = true;
  let source: { stop(): void } | undefined;
  before(async () => {
    nginx = await NginxRtmp.start();
    // A TCP relay to nginx that stops reading from the gateway when told to.
    stalling = createServer((client) => {
      clients.push(client);
      const upstream = connect(nginx.port, '127.0.0.1');
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        if (!reading) client.pause();
      });
      upstream.pipe(client);
      if (!reading) client.pause();
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', () => resolve()));
    stalledPort = (stalling.address() as { port: number }).port;
    gw = await startTestGateway({ GW_RELAY_STALL_TIMEOUT: '8', GW_RELAY_MAX_PENDING_BYTES: '1048576' });
  });
  after(async () => {
    source?.stop();
    for (const c of clients) c.destroy();
    await new Promise<void>((resolve) => stalling.close(() => resolve()));
    await gw?.stop();
    await nginx?.stop();
  });

  test('the push drops to keyframes and counts, memory stays flat, health and viewers carry on', async () => {
    // 50 KB frames at 50 fps: 20 Mbit/s, so the kernel's socket buffers fill within seconds.
    source = bigSource(gw, 'live/big', 50_000);
    const id = await addPush(gw, { path: 'live/big', url: `rtmp://127.0.0.1:${stalledPort}/live/big` });
    await waitPushing(gw, id);
    reading = false;
    for (const c of clients) c.pause();
    const viewer = captureHttp(`${gw.httpUrl}/live/big.flv`, join(dir, 'stall-viewer.flv'), 6000);
    let health = 0;
    const dropping = await waitFor(
      async () => {
        if ((await fetch(`${gw.httpUrl}/api/health`)).status === 200) health++;
        const s = await pushStatus(gw, id);
        return s && s.framesDropped > 25 ? s : undefined;
      },
      20_000,
      'the push to drop frames',
    );
    // Memory the process holds (JS heap + Buffers) after a full GC, at the start of the drops
    // and 4 s later: unbounded queueing of the 20 Mbit/s source would add 10 MB.
    const before = heldBytes();
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 500));
      if ((await fetch(`${gw.httpUrl}/api/health`)).status === 200) health++;
    }
    const held = heldBytes();
    const seen = await viewer;
    const after = await pushStatus(gw, id);
    const growthMb = (held - before) / 2 ** 20;
    console.log(
      `# stalled CDN: ${after?.framesDropped} frames dropped, held memory ${(before / 2 ** 20).toFixed(1)} -> ${(held / 2 ** 20).toFixed(1)} MB over 4 s, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB, viewer got ${seen.bytes} bytes in 6 s, push state ${after?.state}`,
    );
    assert.ok(dropping.framesDropped > 25);
    assert.ok(health >= 8, `health answered ${health} times`);
    // 20 Mbit/s is 15 MB in 6 s: a viewer held up by the push would get far less.
    assert.ok(seen.bytes > 8 * 2 ** 20, `the gateway viewer got ${seen.bytes} bytes in 6 s`);
    assert.ok(growthMb < 4, `held memory grew by ${growthMb.toFixed(1)} MB over 4 s of the stall`);
  });
});
