import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, waitFor, type TestGateway, gbServerOf } from '../helpers/gateway';
import { GbDeviceSimulator } from '../helpers/gb-device-simulator';
import { makeChannels } from '../helpers/gb-sim-manscdp';

const DEVICE = '34020000001320000001';
let gw: TestGateway;
let sim: GbDeviceSimulator;

before(async () => {
  gw = await startTestGateway({ GW_SIP_MEDIA_IP: '127.0.0.1', GW_SIP_INVITE_TIMEOUT: '2' });
  sim = new GbDeviceSimulator({
    deviceId: DEVICE,
    ...gbServerOf(gw),
    channels: makeChannels(DEVICE, 30),
    catalogChunk: 7,
    inviteAnswer: 488,
  });
  await sim.start();
  assert.equal((await sim.register())?.status, 200);
  await waitFor(() => (gw.gateway.gb28181!.devices.get(DEVICE)?.channelCount ?? 0) === 30 || undefined, 5000, 'the catalog');
});

after(async () => {
  await sim.close();
  await gw.stop();
});

const inject = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => gw.api(method, url, payload);

test('GET /api/devices pages and filters; a device shows its live registration and never its password', async () => {
  const list = await inject('GET', '/api/devices?online=true&count=10');
  assert.equal(list.statusCode, 200);
  const body = list.json();
  assert.equal(body.total, 1);
  const [device] = body.items;
  assert.equal(device.id, DEVICE);
  assert.equal(device.online, true);
  assert.equal(device.channelCount, 30);
  assert.equal(device.name, '模拟摄像机');
  assert.equal(device.password, undefined);
  assert.equal(device.session.remote, `127.0.0.1:${sim.localPort}`);
  assert.equal(device.session.transport, 'udp');
  assert.equal((await inject('GET', '/api/devices?online=false')).json().total, 0);
  assert.equal((await inject('GET', `/api/devices/${DEVICE}`)).json().streamMode, 'tcp-passive');
  const missing = await inject('GET', '/api/devices/34020000001320009999');
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'DEVICE_NOT_FOUND');
  assert.equal((await inject('GET', '/api/devices/abc')).statusCode, 400);
});

test('POST provisions a device (password, stream mode, charset); PATCH changes it; DELETE removes it', async () => {
  const created = await inject('POST', '/api/devices', { id: '34020000001320000050', name: 'gate', password: 'secret', streamMode: 'udp', charset: 'UTF-8' });
  assert.equal(created.statusCode, 201);
  assert.equal(created.json().hasPassword, true);
  assert.equal(created.json().provisioned, true);
  assert.equal(created.json().online, false);
  assert.equal((await inject('POST', '/api/devices', { id: '34020000001320000050' })).statusCode, 400, 'duplicate');
  assert.equal((await inject('POST', '/api/devices', { id: '1234' })).statusCode, 400, 'bad id');
  assert.equal((await inject('POST', '/api/devices', { id: '34020000001320000051', streamMode: 'tcp' })).statusCode, 400, 'bad mode');
  const patched = await inject('PATCH', '/api/devices/34020000001320000050', { password: null, noAuth: true, streamMode: 'tcp-active' });
  assert.equal(patched.json().hasPassword, false);
  assert.equal(patched.json().noAuth, true);
  assert.equal(patched.json().streamMode, 'tcp-active');
  assert.equal((await inject('DELETE', '/api/devices/34020000001320000050')).json().deleted, '34020000001320000050');
  assert.equal((await inject('GET', '/api/devices/34020000001320000050')).statusCode, 404);
});

test('PATCH on an online device applies to its session (stream mode used by the next INVITE)', async () => {
  await inject('PATCH', `/api/devices/${DEVICE}`, { streamMode: 'udp' });
  assert.equal(gw.gateway.gb28181!.server.session(DEVICE)?.streamMode, 'udp');
});

test('channels of a device and of all devices, with their on-demand stream path', async () => {
  const res = await inject('GET', `/api/devices/${DEVICE}/channels?count=5&page=2`);
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.total, 30);
  assert.equal(body.items.length, 5);
  assert.equal(body.items[0].name, '摄像机6号 东门');
  assert.equal(body.items[0].stream, `rtp/${DEVICE}_${body.items[0].id}`);
  assert.equal(body.items[0].raw.Name, '摄像机6号 东门');
  assert.equal((await inject('GET', '/api/channels?q=摄像机12号')).json().total, 1);
  assert.equal((await inject('GET', '/api/channels?online=true')).json().total, 26, 'Status OFF channels excluded');
});

test('POST /api/devices/{id}/catalog waits for the whole answer; GET status asks the device', async () => {
  const res = await inject('POST', `/api/devices/${DEVICE}/catalog`);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { deviceId: DEVICE, sumNum: 30, received: 30, messages: 5, complete: true, channelCount: 30 });
  const status = await inject('GET', `/api/devices/${DEVICE}/status`);
  assert.equal(status.json().online, true);
});

test('the SIP log shows the REGISTER exchange with the device', async () => {
  const res = await inject('GET', `/api/devices/${DEVICE}/sip-log?limit=200`);
  const summaries = res.json().entries.map((e: { summary: string }) => e.summary);
  assert.ok(summaries.some((s: string) => s.startsWith('REGISTER')));
  assert.ok(summaries.includes('401 Unauthorized'));
  assert.ok(summaries.some((s: string) => s.startsWith('MESSAGE')));
  const catalog = res.json().entries.find((e: { text: string; direction: string }) => e.text.includes('<CmdType>Catalog</CmdType>') && e.direction === 'in');
  assert.match(catalog.text, /摄像机/, 'bodies are decoded from GB2312');
});

test('play: a refused INVITE answers 502 with the device status; /api/invites lists the ended pull with why', async () => {
  const res = await inject('POST', `/api/play/${DEVICE}/34020000001310000001`);
  assert.equal(res.statusCode, 502);
  assert.equal(res.json().code, 'SOURCE_START_FAILED');
  assert.match(res.json().message, /answered 488 Not Acceptable Here/);
  const invites = (await inject('GET', '/api/invites')).json().invites;
  assert.equal(invites[0].state, 'ended');
  assert.match(invites[0].endReason, /488/);
  assert.equal(gw.gateway.gb28181!.bridge.inUseSsrcs(), 0, 'the SSRC was released');
  const unknown = await inject('POST', '/api/play/34020000001320000077/34020000001310000001');
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().code, 'DEVICE_NOT_FOUND');
  assert.match(unknown.json().message, /not known/);
  assert.equal((await inject('POST', `/api/play/${DEVICE}/34020000001310000001/stop`)).json().stopped, `rtp/${DEVICE}_34020000001310000001`);
});
