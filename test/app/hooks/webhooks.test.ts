import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv from 'ajv';
import { DEFAULT_HOOK_CLIENT, HookClient } from '../../../src/app/hooks/client';
import { HOOK_BODY_SCHEMAS, type HookName } from '../../../src/app/hooks/bodies';
import { Webhooks, type HookPulls, type WebhookSettings } from '../../../src/app/hooks/webhooks';
import type { AdmissionRequest } from '../../../src/core/admission';
import { silentLogger } from '../../../src/core/log';
import { DEFAULT_REGISTRY_OPTIONS, Registry } from '../../../src/hub/registry';
import { H264_TEST_TRACK, RecordingSink, videoFrame } from '../../helpers/hub-fixtures';
import { HookReceiver } from '../../helpers/hook-receiver';
import { waitFor } from '../../helpers/gateway';

let receiver: HookReceiver;
before(async () => {
  receiver = await new HookReceiver().listen();
});
after(() => receiver.close());

const ajv = new Ajv({ allErrors: true });
function assertSchema(hook: HookName, body: unknown): void {
  const validate = ajv.compile(HOOK_BODY_SCHEMAS[hook]);
  assert.ok(validate(body), `${hook} body ${JSON.stringify(body)}: ${ajv.errorsText(validate.errors)}`);
}

function setup(settings: Partial<WebhookSettings>, pulls?: HookPulls, timeoutMs = 5000) {
  const registry = new Registry({ ...DEFAULT_REGISTRY_OPTIONS, waitForPublisherMs: 2000, reconnectGraceMs: 0 }, silentLogger());
  const client = new HookClient({ ...DEFAULT_HOOK_CLIENT, timeoutMs }, silentLogger(), () => undefined);
  const webhooks = new Webhooks(
    { urls: {}, serverId: 'gw-test', failOpen: false, keepaliveMs: 0, noneReaderDelayMs: 100, ...settings },
    { registry, client, keepalive: () => ({}), log: silentLogger(), ...(pulls ? { pulls } : {}) },
  );
  webhooks.attach();
  const close = async (): Promise<void> => {
    webhooks.close();
    client.close();
    await registry.close();
  };
  return { registry, webhooks, close };
}

const play = (path: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  action: 'play',
  path,
  protocol: 'http-flv',
  remote: '127.0.0.1:5555',
  query: { token: 'abc' },
  ...extra,
});

test('on_publish / on_play: the receiver denies with its reason, admits with code 0; the body has its schema', async () => {
  receiver.respond('deny_play', (body) => (body.stream === 'secret' ? { json: { code: 401, msg: 'no ticket for this camera' } } : { json: { code: 0 } }));
  const { webhooks, close } = setup({ urls: { on_play: receiver.url('deny_play'), on_publish: receiver.url('deny_play') } });
  assert.deepEqual(await webhooks.check(play('live/secret')), { allow: false, status: 'forbidden', reason: 'no ticket for this camera' });
  assert.deepEqual(await webhooks.check(play('live/open')), { allow: true });
  assert.deepEqual(await webhooks.check({ ...play('live/secret'), action: 'publish', protocol: 'rtmp' }), {
    allow: false,
    status: 'forbidden',
    reason: 'no ticket for this camera',
  });
  assert.deepEqual(await webhooks.check({ ...play('live/secret'), internal: true }), { allow: true }, "the gateway's own readers are not asked about");
  const [first] = receiver.of('deny_play');
  assertSchema('on_play', first!.body);
  assert.deepEqual(
    { app: first!.body.app, stream: first!.body.stream, ip: first!.body.ip, port: first!.body.port, params: first!.body.params },
    { app: 'live', stream: 'secret', ip: '127.0.0.1', port: 5555, params: { token: 'abc' } },
  );
  assertSchema('on_publish', receiver.of('deny_play').at(-1)!.body);
  await close();
});

test('a slow or dead on_play receiver: refused after the timeout (fail closed), admitted with failOpen', async () => {
  receiver.respond('slow_play', () => ({ delayMs: 3000 }));
  const closed = setup({ urls: { on_play: receiver.url('slow_play') } }, undefined, 200);
  const started = Date.now();
  const verdict = await closed.webhooks.check(play('live/a'));
  assert.ok(Date.now() - started < 2000);
  assert.equal(verdict.allow, false);
  assert.match(verdict.allow ? '' : verdict.reason, /on_play hook failed: the hook receiver did not answer within 200 ms/);
  assert.equal(verdict.allow ? '' : verdict.status, 'unavailable');
  await closed.close();
  const open = setup({ urls: { on_play: receiver.url('slow_play') }, failOpen: true }, undefined, 200);
  assert.deepEqual(await open.webhooks.check(play('live/a')), { allow: true });
  await open.close();
});

test('on_stream_changed up and down, on_stream_none_reader closes when told to', async () => {
  receiver.respond('none', () => ({ json: { code: 0, close: true } }));
  const { registry, close } = setup({ urls: { on_stream_changed: receiver.url('changed'), on_stream_none_reader: receiver.url('none') } });
  const publisher = registry.publish('live/cam', { kind: 'rtmp', remote: '127.0.0.1:4000', close: () => publisher.end('kicked') });
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  const sink = new RecordingSink('http-flv');
  const sub = await registry.subscribe('live/cam', sink);
  sub.close();
  await waitFor(() => receiver.of('changed').length >= 2, 3000, 'stream up and down');
  const [up, down] = receiver.of('changed');
  assertSchema('on_stream_changed', up!.body);
  assertSchema('on_stream_changed', down!.body);
  assert.equal(up!.body.regist, true);
  assert.equal(up!.body.schema, 'rtmp');
  assert.equal(down!.body.regist, false);
  assert.match(String(down!.body.reason), /on_stream_none_reader/);
  assertSchema('on_stream_none_reader', receiver.of('none')[0]!.body);
  await close();
});

test('on_stream_none_reader answering close:false keeps the stream', async () => {
  receiver.respond('keep', () => ({ json: { code: 0, close: false } }));
  const { registry, close } = setup({ urls: { on_stream_none_reader: receiver.url('keep') } });
  const publisher = registry.publish('live/keep', { kind: 'rtmp', close: () => publisher.end('kicked') });
  publisher.setTracks([H264_TEST_TRACK]);
  publisher.write(videoFrame(0, true));
  (await registry.subscribe('live/keep', new RecordingSink())).close();
  await waitFor(() => receiver.of('keep').length === 1, 3000, 'none_reader');
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(registry.get('live/keep'), 'the stream is still there');
  await close();
});

test('on_stream_not_found: asked once for a missing path, its URL is started; never for an on-demand path', async () => {
  const started: [string, string][] = [];
  const pulls: HookPulls = { start: (path, url) => void started.push([path, url]), stop: async () => undefined, has: (path) => started.some(([p]) => p === path) };
  receiver.respond('nf', (body) => ({ json: { code: 0, url: `rtsp://camera.example/${String(body.stream)}` } }));
  const { registry, webhooks, close } = setup({ urls: { on_stream_not_found: receiver.url('nf') } }, pulls);
  registry.registerOnDemand('rtp/*', async () => ({ stop: () => undefined }));
  await Promise.all([webhooks.check(play('live/gone')), webhooks.check(play('live/gone'))]);
  await webhooks.check(play('rtp/34020000001320000001_34020000001310000001'));
  assert.deepEqual(started, [['live/gone', 'rtsp://camera.example/gone']]);
  assert.equal(receiver.of('nf').length, 1);
  assertSchema('on_stream_not_found', receiver.of('nf')[0]!.body);
  await close();
});

test('notification bodies: devices, alarm, record segment, server started', async () => {
  const urls = Object.fromEntries(
    (['on_device_online', 'on_device_offline', 'on_alarm', 'on_record_segment', 'on_server_started'] as const).map((h) => [h, receiver.url(`n_${h}`)]),
  );
  const { webhooks, close } = setup({ urls });
  webhooks.deviceOnline('34020000001320000001', '127.0.0.1:5060');
  webhooks.deviceOffline('34020000001320000001', 'keepalive timeout');
  webhooks.alarm({
    id: 7,
    deviceId: '34020000001320000001',
    channelId: '34020000001340000001',
    priority: 1,
    method: 5,
    type: null,
    alarmAt: 1_700_000_000_000,
    description: null,
    longitude: 116.3,
    latitude: null,
  });
  webhooks.recordSegment({ path: 'live/cam', format: 'flv', file: 'live/cam/2026-12-01/10-00-00.flv', startMs: 1000, endMs: 61000, bytes: 12345 });
  webhooks.serverStarted('1.0', { http: 8080 }, 1000);
  await waitFor(() => receiver.received.filter((r) => r.hook.startsWith('n_')).length === 5, 3000, 'five notifications');
  for (const r of receiver.received.filter((x) => x.hook.startsWith('n_'))) assertSchema(r.hook.slice(2) as HookName, r.body);
  assert.equal(receiver.of('n_on_record_segment')[0]!.body.durationMs, 60000);
  const alarm = receiver.of('n_on_alarm')[0]!.body;
  assert.deepEqual(
    [alarm.alarmId, alarm.priority, alarm.method, alarm.alarmTime, alarm.longitude, 'alarmType' in alarm, 'description' in alarm],
    [7, 1, 5, 1_700_000_000_000, 116.3, false, false],
  );
  await close();
});

test('cluster: an internal pull (a stream another worker owns) is no stream event and no none-reader close; a non-announcing worker sends no server_started', async () => {
  receiver.respond('none-c', () => ({ json: { code: 0, close: true } }));
  const { registry, webhooks, close } = setup({
    urls: { on_stream_changed: receiver.url('changed-c'), on_stream_none_reader: receiver.url('none-c'), on_server_started: receiver.url('started-c') },
  });
  const copy = registry.publish('live/copy', { kind: 'cluster', remote: 'http://127.0.0.1:1', close: () => copy.end('closed') });
  copy.setTracks([H264_TEST_TRACK]);
  copy.write(videoFrame(0, true));
  const sub = await registry.subscribe('live/copy', new RecordingSink('http-flv'));
  sub.close();
  const real = registry.publish('live/real', { kind: 'rtmp', remote: '127.0.0.1:4000', close: () => real.end('kicked') });
  await waitFor(() => receiver.of('changed-c').length >= 1, 3000, 'the real stream up');
  copy.end('the owner left');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(
    receiver.of('changed-c').map((c) => [c.body.path, c.body.regist]),
    [['live/real', true]],
  );
  assert.equal(receiver.of('none-c').length, 0, 'the owner worker, not the copy, decides about readers');
  const quietClient = new HookClient(DEFAULT_HOOK_CLIENT, silentLogger(), () => undefined);
  const quiet = new Webhooks(
    { urls: { on_server_started: receiver.url('started-c') }, serverId: 'gw-test', failOpen: false, keepaliveMs: 0, noneReaderDelayMs: 100 },
    {
      registry: new Registry(DEFAULT_REGISTRY_OPTIONS, silentLogger()),
      client: quietClient,
      keepalive: () => ({}),
      log: silentLogger(),
      announcesServer: false,
    },
  );
  quiet.serverStarted('1', {}, 0);
  webhooks.serverStarted('1', {}, 0);
  await waitFor(() => receiver.of('started-c').length >= 1, 3000, 'server started from the announcing one');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(receiver.of('started-c').length, 1);
  quietClient.close();
  await close();
});
