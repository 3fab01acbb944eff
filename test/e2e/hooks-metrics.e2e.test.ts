import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { HOOK_BODY_SCHEMAS, HOOK_NAMES, type HookName } from '../../src/app/hooks/bodies';
import { verifyHookSignature } from '../../src/app/hooks/signature';
import { capturingLogger, startTestGateway, waitFor, type TestGateway } from '../helpers/gateway';
import { HookReceiver } from '../helpers/hook-receiver';
import { publishTestPattern } from '../helpers/publisher';
import { scrapeMetrics } from '../helpers/prometheus';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { ffprobeJson } from '../helpers/media-tools';

/**
 * Webhooks, /metrics and the access log against a whole gateway: ffmpeg publishes over RTMP,
 * a raw HTTP client plays HTTP-FLV, a simulated GB28181 device registers, a real RTSP server
 * (rtsp-streaming-server from npm) is what on_stream_not_found points at.
 */
const SECRET = 'e2e-hook-secret';
const dir = mkdtempSync(join(tmpdir(), 'gw-hooks-'));
const ajv = new Ajv({ allErrors: true });
after(() => rmSync(dir, { recursive: true, force: true }));

/** Reads an HTTP response until the server closes it; counts every byte (status line and headers too). */
function readUntilClose(url: string, file: string, maxMs: number): Promise<{ status: number; wireBytes: number }> {
  return new Promise((resolve, reject) => {
    const { hostname, port, pathname } = new URL(url);
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
    const timer = setTimeout(() => socket.destroy(new Error('the server did not close the session')), maxMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      writeFileSync(file, all.subarray(end + 4));
      resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(all.subarray(0, Math.max(0, end)).toString())?.[1] ?? 0), wireBytes: all.length });
    });
  });
}

function hookEnv(receiver: HookReceiver, hooks: readonly HookName[]): Record<string, string> {
  return Object.fromEntries(hooks.map((h) => [`GW_HOOKS_${h.toUpperCase()}`, receiver.url(h)]));
}

describe('notifications, metrics and the access log', () => {
  let receiver: HookReceiver;
  let gw: TestGateway;
  const captured = capturingLogger();
  before(async () => {
    receiver = await new HookReceiver().listen();
    gw = await startTestGateway(
      {
        ...hookEnv(
          receiver,
          HOOK_NAMES.filter((h) => h !== 'on_stream_not_found'),
        ),
        GW_HOOKS_SECRET: SECRET,
        GW_HOOKS_KEEPALIVE_INTERVAL: '1',
        GW_HOOKS_NONE_READER_DELAY: '60',
        GW_HUB_RECONNECT_GRACE: '0',
        GW_SIP_PASSWORD: 'device-pass',
      },
      { log: captured.log },
    );
  });
  after(async () => {
    await gw.stop();
    await receiver.close();
  });

  test('a publish, a play and a device registration move the counters, send their hooks and log the session', async () => {
    await waitFor(() => receiver.of('on_server_started').length === 1, 5000, 'on_server_started');
    const before = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
    assert.equal(before.value('gateway_streams'), 0);
    assert.ok(before.has('gateway_nodejs_eventloop_lag_p99_seconds') && before.has('gateway_nodejs_heap_size_used_bytes'), 'event-loop delay and heap are exported');

    const ffmpeg = await publishTestPattern(gw, 'live/cam', { size: '320x240' });
    let clientBytes = 0;
    let clientMs = 0;
    try {
      const playStarted = Date.now();
      const playing = readUntilClose(`${gw.httpUrl}/live/cam.flv`, join(dir, 'play.flv'), 15_000);
      await waitFor(() => gw.gateway.registry.get('live/cam')?.readers.total === 1, 5000, 'the viewer');
      const record = await fetch(`${gw.httpUrl}/api/record/start`, {
        method: 'POST',
        headers: { ...gw.authHeaders, 'content-type': 'application/json' },
        body: JSON.stringify({ path: 'live/cam', formats: ['flv'] }),
      });
      assert.equal(record.status, 200, await record.text());
      await waitFor(() => gw.gateway.recording.manager.active().some((r) => r.state === 'recording'), 5000, 'the recorder to write');
      const during = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
      assert.equal(during.value('gateway_recorders', { state: 'recording' }), 1);
      assert.equal(during.value('gateway_streams'), 1);
      assert.equal(during.value('gateway_readers', { protocol: 'http-flv' }), 1);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await ffmpeg.stop();
      const result = await playing;
      clientMs = Date.now() - playStarted;
      clientBytes = result.wireBytes;
      assert.equal(result.status, 200);
    } finally {
      await ffmpeg.stop();
    }
    const probe = await ffprobeJson(join(dir, 'play.flv'));
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');

    const line = await waitFor(
      () => captured.lines.find((l) => l.component === 'access' && (l.access as { path?: string })?.path === 'live/cam')?.access as Record<string, unknown> | undefined,
      5000,
      'the access log line',
    );
    assert.equal(line.protocol, 'http-flv');
    assert.equal(line.bytes, clientBytes, 'the logged bytes are what the client read, headers included (the server closed the session)');
    assert.match(String(line.remote), /^127\.0\.0\.1:\d+$/);
    assert.ok(Math.abs(Number(line.durationMs) - clientMs) < 1500, `logged ${String(line.durationMs)} ms, the client saw ${clientMs} ms`);
    assert.equal(line.started, true);
    assert.ok(String(line.reason).length > 0);

    const sim = new GbDeviceSimulator({
      deviceId: '34020000001320000077',
      serverPort: gw.ports.sip,
      serverId: gw.config.sip.id,
      domain: gw.config.sip.domain,
      password: 'device-pass',
      channels: [],
    });
    try {
      await sim.start();
      assert.equal((await sim.register())?.status, 200);
      await waitFor(() => receiver.of('on_device_online').length === 1, 5000, 'on_device_online');
      const after = await scrapeMetrics(gw.httpUrl, gw.authHeaders);
      assert.equal(after.value('gateway_devices_online'), 1);
      assert.ok(after.value('gateway_sip_requests_total', { kind: 'register', result: 'ok' }) >= 1);
      assert.ok(after.value('gateway_sip_requests_total', { kind: 'register', result: 'challenged' }) >= 1);
      assert.ok(after.value('gateway_bytes_out_total', { protocol: 'http-flv' }) - before.value('gateway_bytes_out_total', { protocol: 'http-flv' }) >= clientBytes);
      assert.ok(after.value('gateway_bytes_in_total', { protocol: 'rtmp' }) > 100_000);
      assert.equal(after.value('gateway_streams'), 0);
      assert.ok(after.value('gateway_hook_calls_total', { hook: 'on_stream_changed', result: 'ok' }) >= 2);
    } finally {
      await sim.close();
    }
    await waitFor(() => receiver.of('on_stream_changed').length >= 2 && receiver.of('on_server_keepalive').length >= 1, 5000, 'stream up/down and a keepalive');
    const segment = await waitFor(() => receiver.of('on_record_segment')[0]?.body, 10_000, 'on_record_segment');
    assert.equal(segment.path, 'live/cam');
    assert.equal(segment.format, 'flv');
    assert.match(String(segment.file), /^live\/cam\/\d{4}-\d{2}-\d{2}\/\d{2}-\d{2}-\d{2}\.flv$/);
    assert.ok(Number(segment.bytes) > 10_000 && Number(segment.durationMs) > 500, JSON.stringify(segment));
    const changed = receiver.of('on_stream_changed').map((r) => r.body.regist);
    assert.deepEqual(changed.slice(0, 2), [true, false]);
  });

  test('every body matches its documented schema and carries a valid signature', () => {
    assert.ok(receiver.received.length >= 5);
    const seen = new Set<string>();
    for (const r of receiver.received) {
      const validate = ajv.compile(HOOK_BODY_SCHEMAS[r.hook as HookName]);
      assert.ok(validate(r.body), `${r.hook}: ${ajv.errorsText(validate.errors)}`);
      assert.ok(verifyHookSignature(SECRET, r.headers['x-gateway-timestamp'] as string, r.raw, r.headers['x-gateway-signature'] as string), `${r.hook} signature`);
      assert.equal(verifyHookSignature('another key', r.headers['x-gateway-timestamp'] as string, r.raw, r.headers['x-gateway-signature'] as string), false);
      seen.add(r.hook);
    }
    for (const hook of ['on_server_started', 'on_stream_changed', 'on_server_keepalive', 'on_device_online', 'on_record_segment']) assert.ok(seen.has(hook), `${hook} was sent`);
  });
});
