import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { publishTestPattern } from '../helpers/publisher';
import { captureHttp } from '../helpers/capture';
import { ffprobeJson } from '../helpers/media-tools';
import { scrapeMetrics } from '../helpers/prometheus';
import { retainedBuffers } from '../helpers/memory';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { catalogBodies, makeChannels } from '../helpers/gb-sim-manscdp';
import { TestRtmpClient } from '../protocols/rtmp/test-client';

/**
 * Floods from issue 15 on loopback against a whole gateway, each past its bound: RTMP peers
 * half-sending 8 MiB messages, SIP/TCP peers holding unfinished bodies, a SIP message over the
 * size cap. Each test shows the bound holds (Buffer memory and the budget), an RTMP-published
 * stream keeps playing to an HTTP-FLV viewer, and the memory comes back when the peers leave.
 */
const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'gw-limits-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Set Chunk Size 8 MiB, then the type-0 header of an 8 MiB video message on chunk stream 4. */
function halfMessageHead(length: number): Buffer {
  const setChunk = Buffer.from([0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0x80, 0, 0]);
  const head = Buffer.alloc(12);
  head[0] = 0x04;
  head.writeUIntBE(length, 4, 3);
  head[7] = 9;
  head.writeUInt32LE(1, 8);
  return Buffer.concat([setChunk, head]);
}

describe('floods', () => {
  let gw: TestGateway;
  let viewer: Promise<{ status: number; bytes: number }>;
  let stopPublisher: () => Promise<void>;
  before(async () => {
    gw = await startTestGateway({
      GW_RTMP_PARTIAL_BUDGET: String(16 * MiB),
      GW_SIP_TCP_PARTIAL_BUDGET: String(4 * MiB),
      GW_SIP_PASSWORD: 'flood-pass',
      GW_HTTP_MAX_CONNECTIONS: '60',
      GW_HTTP_HEADERS_TIMEOUT: '2',
    });
    const ffmpeg = await publishTestPattern(gw, 'live/cam', { size: '320x240' });
    stopPublisher = () => ffmpeg.stop();
    viewer = captureHttp(`${gw.httpUrl}/live/cam.flv`, join(dir, 'viewer.flv'), 25_000);
    await waitFor(() => gw.gateway.registry.get('live/cam')?.readers.total === 1, 5000, 'the live viewer');
  });
  after(async () => {
    await stopPublisher();
    await gw.stop();
  });

  test('RTMP: 40 peers half-sending 8 MiB messages hold at most rtmp.partialBudget; memory comes back', async () => {
    const baseline = retainedBuffers();
    const bytesBefore = gw.gateway.registry.get('live/cam')?.bytesOut ?? 0;
    const clients = await Promise.all(Array.from({ length: 40 }, () => TestRtmpClient.open(gw.ports.rtmp)));
    for (const client of clients) client.raw(Buffer.concat([halfMessageHead(8 * MiB - 16), Buffer.alloc(4 * MiB, 0x41)]));
    await waitFor(() => clients.filter((c) => c.isClosed).length >= 30, 20_000, 'peers over the budget to be closed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = retainedBuffers() - baseline;
    assert.ok(during < 24 * MiB, `Buffers held during the flood: ${(during / MiB).toFixed(1)} MiB (unbounded: 160 MiB)`);
    const metrics = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
    assert.ok(metrics.value('gateway_limit_refusals_total', { limit: 'rtmp.partialBudget' }) >= 30);
    await Promise.all(clients.map((c) => c.close()));
    await waitFor(() => retainedBuffers() - baseline < 4 * MiB, 10_000, 'the held buffers to be freed');
    assert.ok((gw.gateway.registry.get('live/cam')?.bytesOut ?? 0) > bytesBefore, 'the viewer kept getting video');
    assert.ok(gw.gateway.registry.get('live/cam')?.publisher, 'the real publisher stayed');
  });

  test('SIP over TCP: 40 peers holding unfinished 1 MiB bodies hold at most sip.tcpPartialBudget', async () => {
    const baseline = retainedBuffers();
    const sockets: Socket[] = [];
    const head = (n: number) =>
      Buffer.from(
        `MESSAGE sip:34020000002000000001@3402000000 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK${n}\r\nFrom: <sip:3402000000132000${String(n).padStart(4, '0')}@3402000000>;tag=${n}\r\nTo: <sip:34020000002000000001@3402000000>\r\nCall-ID: flood-${n}\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 1000000\r\n\r\n`,
      );
    for (let n = 0; n < 40; n++) {
      const socket = connect(gw.ports.sip, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(Buffer.concat([head(n), Buffer.alloc(900_000, 0x20)]));
      sockets.push(socket);
    }
    await waitFor(() => sockets.filter((s) => s.destroyed || s.readableEnded).length >= 30, 20_000, 'peers over the budget to be closed');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = retainedBuffers() - baseline;
    assert.ok(during < 12 * MiB, `Buffers held: ${(during / MiB).toFixed(1)} MiB (unbounded: 36 MiB)`);
    const metrics = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
    assert.ok(metrics.value('gateway_limit_refusals_total', { limit: 'sip.tcpPartialBudget' }) >= 30);
    for (const socket of sockets) socket.destroy();
    await waitFor(() => retainedBuffers() - baseline < 3 * MiB, 10_000, 'the held buffers to be freed');
  });

  test('SIP over TCP: a 300 KB catalog NOTIFY is taken; a message over sip.tcpMaxBody gets 513 and is counted', async () => {
    const deviceId = '34020000001320000099';
    const sim = new GbDeviceSimulator({
      deviceId,
      serverPort: gw.ports.sip,
      serverId: gw.config.sip.id,
      domain: gw.config.sip.domain,
      password: 'flood-pass',
      transport: 'tcp',
      channels: [],
    });
    try {
      await sim.start();
      assert.equal((await sim.register())?.status, 200);
      const [xml] = catalogBodies(deviceId, '77', makeChannels(deviceId, 1200), 1200);
      assert.ok(xml && Buffer.byteLength(xml) > 65_535, `the catalog is ${Buffer.byteLength(xml ?? '')} bytes`);
      assert.equal((await sim.sendManscdp('NOTIFY', xml))?.status, 200);
      const tooLarge = await sim.sendManscdp(
        'MESSAGE',
        `<?xml version="1.0"?><Notify><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>${deviceId}</DeviceID>${' '.repeat(1_100_000)}</Notify>`,
      );
      assert.equal(tooLarge?.status, 513);
      const metrics = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
      assert.equal(metrics.value('gateway_limit_refusals_total', { limit: 'sip.tcpMaxBody' }), 1);
      assert.equal((await sim.keepalive())?.status, 200, 'the connection stays usable after the refused message');
    } finally {
      await sim.close();
    }
  });

  test('HTTP: slow clients fill the connection cap; health says so and, with the cap full, health and metrics still answer from the reserve; more are dropped and counted, headersTimeout frees them', async () => {
    const slow: Socket[] = [];
    const openSlow = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const socket = connect(gw.ports.http, '127.0.0.1');
        socket.on('error', () => undefined);
        socket.resume();
        socket.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        slow.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    };
    try {
      await openSlow(54);
      const degraded = (await (await fetch(`${gw.httpUrl}/api/health`)).json()) as { status: string; warnings: string[]; http: { connections: number; maxConnections: number } };
      assert.equal(degraded.status, 'degraded');
      assert.equal(degraded.http.maxConnections, 60);
      assert.match(degraded.warnings[0] ?? '', /HTTP connections \d+ of 60/);
      // Past the cap (a few slow clients in the reserve): anything but health and metrics is 503.
      await openSlow(63 - degraded.http.connections);
      const refused = await fetch(`${gw.httpUrl}/api/streams`, { headers: gw.authHeaders });
      assert.equal(refused.status, 503, 'the cap is full');
      await refused.body?.cancel();
      const full = await fetch(`${gw.httpUrl}/api/health`);
      assert.equal(full.status, 200, 'health still answers');
      assert.equal(((await full.json()) as { status: string }).status, 'degraded');
      const scrape = await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeaders });
      assert.equal(scrape.status, 200, 'and so do the metrics');
      await scrape.text();
      await openSlow(40);
      await waitFor(() => slow.filter((s) => s.destroyed || s.readableEnded).length >= 30, 5000, 'connections over the cap to be dropped');
      await waitFor(() => slow.every((s) => s.destroyed || s.readableEnded), 10_000, 'headersTimeout to close the slow clients');
      const health = await waitFor(
        async () => {
          const response = await fetch(`${gw.httpUrl}/api/health`).catch(() => undefined);
          return response?.status === 200 ? ((await response.json()) as { status: string }) : undefined;
        },
        5000,
        'health to answer again',
      );
      assert.equal(health.status, 'ok');
      const metrics = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
      assert.ok(metrics.value('gateway_limit_refusals_total', { limit: 'http.maxConnections' }) >= 30);
      assert.equal(gw.gateway.registry.get('live/cam')?.readers.total, 1, 'the viewer stayed connected');
    } finally {
      for (const socket of slow) socket.destroy();
    }
  });

  test('the live viewer played through every flood', async () => {
    await stopPublisher();
    const result = await viewer;
    assert.equal(result.status, 200);
    const probe = await ffprobeJson(join(dir, 'viewer.flv'), ['-count_frames']);
    assert.ok(Number(probe.streams.find((s) => s.codec_type === 'video')?.nb_read_frames) > 50);
  });
});
